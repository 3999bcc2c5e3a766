"""Serving code loads a model through a mutable pointer instead of a fixed version.

## What it does
In serving code (request handlers, start-up hooks and the modules that serve), reports model loads
whose reference can change under the service without a deploy: MLflow `models:/name/latest` and
stage URIs (`models:/name/Production`), `MlflowClient.get_latest_versions`, object-store keys with a
`latest`/`current`/`prod` segment, Hugging Face hub models loaded without a pinned `revision` (or
with a branch such as `main`), `torch.hub.load("owner/repo")` without a `:ref`, and (level note) a
relative model file that nothing versions (not committed, not tracked by DVC or Git LFS).

## Why is this bad?
Checkpoint 10 (model version management): when the model behind a pointer changes, a restart or a
new replica silently serves a different model. Nobody can say which model answered a request, run
two versions side by side, or roll back.

## Example
```python
import mlflow
from fastapi import FastAPI

app = FastAPI()
model = mlflow.pyfunc.load_model("models:/churn/Production")


@app.post("/predict")
def predict(rows: list):
    return model.predict(rows).tolist()
```

## Use instead
```python
import os

import mlflow
from fastapi import FastAPI

app = FastAPI()
model = mlflow.pyfunc.load_model(f"models:/churn/{os.environ['MODEL_VERSION']}")


@app.post("/predict")
def predict(rows: list):
    return model.predict(rows).tolist()
```

## Known limits
Registry aliases (`models:/churn@champion`) are managed pointers and are accepted. A reference the
analysis cannot resolve (a variable, an environment variable, a config value) is not reported.
Absolute paths under platform mounts (`/mnt/models`, `/opt/ml/model`) are versioned by the platform
(KServe `storageUri`, SageMaker model packages) and are not reported. A `from_pretrained` path
that training saves to (`save_pretrained`/`save_model`), or that starts with a local output folder
(`models/`, `outputs/`, `checkpoints/`...; `checkpoint-500`), is a local directory, not a hub
repository.
"""
import re

from mllint.knowledge import canonical
from mllint.knowledge import serving as SK
from mllint.knowledge import training as TK
from mllint.knowledge import versioning as V
from mllint.rule import ProjectRule, RuleMeta

_REF_KWARGS = ("model_uri", "pretrained_model_name_or_path", "model", "model_name_or_path", "repo_id", "path",
               "f", "filepath", "filename", "model_path", "model_file", "repo_or_dir", "name")
_HF_LOADERS = ("huggingface_hub.hf_hub_download", "huggingface_hub.snapshot_download", "transformers.pipeline",
               "sentence_transformers.SentenceTransformer")


# ``from_pretrained("models/sentiment")``: a directory training writes (save_pretrained /
# save_model, often gitignored), not a hub repository
_LOCAL_OUTPUT = re.compile(r"^(models?|outputs?|checkpoints?|ckpts?|artifacts?|saved_models?|runs|results|"
                           r"exports?|weights|trained_models?)/|(^|/)checkpoint-\d+$", re.I)


class UnversionedModelLoad(ProjectRule):
    meta = RuleMeta(code="ML1001", level="warning", precision="high", tags=("versioning", "serving"))

    def check_project(self, project):
        serving = project.request_scopes | project.startup_scopes
        if not serving and not project.serving_modules:
            return
        tracked = V.VersionTracking(project)
        for path, summary in project.summaries.items():
            if project.is_test_path(path):
                continue
            in_serving_module = path in project.serving_modules and summary.kind != "notebook"
            for call in summary.calls:
                sid = f"{path}::{call.scope}"
                if sid not in serving and not (in_serving_module and call.scope in ("<module>", "<main>")):
                    continue
                q = canonical(call.qualname)
                if call.attr == "get_latest_versions":
                    yield self.finding(path, call.span(), "serving picks the model with `get_latest_versions`, so "
                                       "whatever was registered last is served; pin a version or a registry alias")
                    continue
                if not (SK.is_model_loader(call) or q in _HF_LOADERS or q == "torch.hub.load"):
                    continue
                msg = self._check(project, path, call, q, tracked)
                if msg:
                    text, level = msg
                    yield self.finding(path, call.span(), text, level=level)

    def _ref(self, project, path, call):
        for k in _REF_KWARGS:
            if k in call.kwargs:
                return project.const_value(path, call.scope, call.kwargs[k])
        if call.args:
            return project.const_value(path, call.scope, call.args[0])
        return None

    def _check(self, project, path, call, q, tracked):
        ref = self._ref(project, path, call)
        text, literal = V.literal_text(ref)
        if text is None:
            return None
        loader = call.qualname or call.attr
        if text.startswith("models:/"):
            if V.MLFLOW_LATEST_ANY.match(text):
                pointer = text.rstrip("/").rsplit("/", 1)[-1]
                return (f"`{loader}` loads `{text}`: the `{pointer}` pointer moves whenever a model is registered or "
                        f"promoted (MLflow stages are deprecated); load a fixed version or a registry alias "
                        f"(`models:/name@champion`)", None)
            return None
        if text.startswith(V.REMOTE_PREFIXES) and not text.startswith(("https://huggingface.co",)):
            body = text.split("://", 1)[-1]
            if any(seg.lower() in ("latest", "current", "prod", "production", "live", "newest")
                   for seg in body.replace("{}", "").split("/")):
                return (f"`{loader}` loads `{text}`: a `latest`/`current`-style key is overwritten by the next "
                        f"upload; load a versioned key (run id, git SHA, version number)", None)
            return None
        if q == "torch.hub.load":
            src = call.kwargs.get("source")
            if src is not None and src.kind == "const" and src.value == "local":
                return None
            if literal and V.HF_REPO_ID.match(text) and ":" not in text:
                return (f"`torch.hub.load(\"{text}\")` fetches the repository's default branch; pin a tag or commit "
                        f"(`\"{text}:v1.0\"`)", None)
            return None
        hf = call.attr == "from_pretrained" or q in _HF_LOADERS
        if hf and literal and V.HF_REPO_ID.match(text) and not tracked.local_dir(text) and \
                not tracked.writer_of(text) and not _LOCAL_OUTPUT.match(text):
            rev = call.kwargs.get("revision")
            if rev is None:
                return (f"`{loader}(\"{text}\")` has no `revision`: the hub repository can change under the service; "
                        f"pin `revision=\"<commit sha>\"`", None)
            rv = project.const_value(path, call.scope, rev)
            if rv.kind == "const" and isinstance(rv.value, str) and rv.value.lower() in V.BRANCH_REVISIONS:
                return (f"`{loader}(\"{text}\", revision=\"{rv.value}\")` follows a branch; pin a commit sha", None)
            return None
        if literal and text.lower().endswith(TK.MODEL_EXTENSIONS) and not text.startswith(("/", "~")) \
                and "://" not in text and not hf:
            if any(tracked.versioned(c) for c in V.path_candidates(path, text, project.tops)):
                return None
            writer = tracked.writer_of(text)
            extra = f", and training overwrites it ({writer})" if writer else ""
            return (f"`{loader}` loads `{text}`, a fixed local file that nothing versions (not committed, not "
                    f"tracked by DVC or Git LFS){extra}; load a versioned artifact", "note")
        return None
