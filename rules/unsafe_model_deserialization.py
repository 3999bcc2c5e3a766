"""Serving code deserialises a model with a format or flag that can execute arbitrary code.

## What it does
On the serving path (request handlers, start-up hooks, model-loading helpers they reach, serving
modules' top level), flags:
`pickle`/`cloudpickle`/`dill`/`joblib` loads and `pandas.read_pickle`;
`torch.load(..., weights_only=False)`, and `torch.load` without `weights_only` when the project
pins a torch older than 2.6 (2.6 made `weights_only=True` the default);
Keras `load_model(..., safe_mode=False)`; `trust_remote_code=True` (Hugging Face);
`numpy.load(..., allow_pickle=True)`.

## Why is this bad?
Checkpoint 10 (model version management): a model artifact is an input to the serving process.
Pickle-based formats run code while loading, so whoever can replace the artifact in the bucket,
registry or hub (or poison a dependency of the training job) gets code execution inside the
serving container, with its credentials. `trust_remote_code=True` runs Python from the model
repository. Safe formats (safetensors, ONNX, TorchScript, skops, `weights_only=True`) load
weights without executing code.

## Example
```python
import joblib
from fastapi import FastAPI
from transformers import AutoModelForCausalLM

app = FastAPI()
model = joblib.load("model.joblib")
llm = AutoModelForCausalLM.from_pretrained("org/model", revision="3f2a1c9", trust_remote_code=True)


@app.post("/predict")
def predict(x: list[float]):
    return {"y": model.predict([x]).tolist()}
```

## Use instead
```python
import skops.io as sio
from fastapi import FastAPI

app = FastAPI()
model = sio.load("model.skops", trusted=["sklearn.linear_model._logistic.LogisticRegression"])


@app.post("/predict")
def predict(x: list[float]):
    return {"y": model.predict([x]).tolist()}
```

## Known limits
Flags given through a variable or config (`weights_only=flag`) count as safe. `torch.jit.load`
is never flagged. The torch version is read from requirements files and `pyproject.toml`;
`torch.load` without `weights_only` stays silent when no version below 2.6 is pinned. Training
and notebook code are out of scope (Bandit covers plain `pickle` everywhere).

## References
- https://pytorch.org/docs/stable/generated/torch.load.html
- https://huggingface.co/docs/hub/security-pickle
"""
from mllint.knowledge import canonical, last
from mllint.rule import ProjectRule, RuleMeta

from mllint.rules import _serving_common as C

PICKLE_LOADERS = {"pickle.load", "pickle.loads", "cloudpickle.load", "cloudpickle.loads", "dill.load", "dill.loads",
                  "joblib.load", "pandas.read_pickle", "_pickle.load", "_pickle.loads", "sklearn.externals.joblib.load"}
KERAS_LOADERS = {"keras.models.load_model", "keras.saving.load_model", "keras.saving.saving_api.load_model"}


class UnsafeModelDeserialization(ProjectRule):
    meta = RuleMeta(code="ML1002", level="warning", precision="high", tags=("security", "serving"),
                    security_severity="7.5")

    def check_project(self, project):
        serving = project.request_scopes | project.startup_scopes
        if not project.request_roots:
            return
        pins = {}
        for path, s in project.summaries.items():
            if C.excluded_path(project, path):
                continue
            for c in s.calls:
                sid = f"{path}::{c.scope}"
                if sid not in serving:
                    continue
                msg = self._check(project, path, c)
                if msg == "torch-default":
                    if path not in pins:
                        pins[path] = C.torch_pin_at_least_2_6(project, path)
                    if pins[path] is not False:
                        continue
                    msg = ("`torch.load` without `weights_only=True` unpickles arbitrary objects with the pinned torch "
                           "< 2.6; pass `weights_only=True` (load a state_dict) or use safetensors/TorchScript")
                if msg:
                    yield self.finding(path, c.span(), msg)

    def _lit(self, project, path, c, name):
        v = c.kwargs.get(name)
        if v is None:
            return None, False
        v = project.const_value(path, c.scope, v)
        if v.kind == "const":
            return v.value, True
        return None, True  # present but not a literal: trust it

    def _check(self, project, path, c):
        q = canonical(c.qualname)
        if c.star_kwargs:
            return None
        val, present = self._lit(project, path, c, "trust_remote_code")
        if present and val is True:
            return ("`trust_remote_code=True` runs Python code from the model repository inside the serving "
                    "process; vendor the model code or pin a reviewed `revision=`")
        if q == "torch.load":
            val, present = self._lit(project, path, c, "weights_only")
            if present:
                if val is False:
                    return ("`torch.load(..., weights_only=False)` unpickles arbitrary objects: a tampered checkpoint "
                            "runs code in the serving process; load a state_dict with `weights_only=True` or use "
                            "safetensors")
                return None
            return "torch-default"
        if q in PICKLE_LOADERS:
            name = last(q) if not q.startswith("pandas") else "read_pickle"
            mod = q.split(".")[0]
            return (f"`{mod}.{name}` deserialises the model with pickle, which executes code from the artifact; "
                    f"serve a safe format (skops, ONNX, safetensors) or verify the artifact's hash before loading")
        if q == "numpy.load":
            val, present = self._lit(project, path, c, "allow_pickle")
            if present and val is True:
                return "`numpy.load(..., allow_pickle=True)` unpickles object arrays and can execute code; store plain arrays"
            return None
        if q in KERAS_LOADERS or (c.attr == "load_model" and q.startswith(("keras.", "tensorflow.keras."))):
            val, present = self._lit(project, path, c, "safe_mode")
            if present and val is False:
                return ("`load_model(..., safe_mode=False)` deserialises Python lambdas from the model file; keep "
                        "`safe_mode=True` and register custom objects")
        return None
