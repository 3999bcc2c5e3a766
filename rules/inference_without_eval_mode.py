"""A torch module built or loaded for serving is called without `.eval()`.

## What it does
Flags the line that builds or loads a torch `nn.Module` for serving (a project `nn.Module`
subclass, a `torchvision.models`/`timm` factory, a pickled module from `torch.load`, a project
helper that returns one, or another library's object whose weights are loaded with
`load_state_dict`) when the module is then called on the request path (`model(x)`,
`self.model(x)`, `model.forward(x)`) and `.eval()` / `.train(False)` is never called on it:
not chained (`Net().to(dev).eval()`), not later on the same variable or attribute, and not inside
the helper that returns it.

## Why is this bad?
Checkpoint 11 (serving latency): a module in training mode keeps dropout active and batch norm
uses (and updates) per-batch statistics, so predictions are random and depend on the other rows
in the batch; the training-mode kernels are also slower. The served model then differs from the
evaluated one.

## Example
```python
import torch
import torch.nn as nn
from fastapi import FastAPI

app = FastAPI()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        return self.fc(self.drop(x))


net = Net()
net.load_state_dict(torch.load("net.pt", weights_only=True))


@app.post("/predict")
def predict(x: list[float]):
    with torch.inference_mode():
        return net(torch.tensor([x])).tolist()
```

## Use instead
```python
import torch
import torch.nn as nn
from fastapi import FastAPI

app = FastAPI()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        return self.fc(self.drop(x))


net = Net()
net.load_state_dict(torch.load("net.pt", weights_only=True))
net.eval()


@app.post("/predict")
def predict(x: list[float]):
    with torch.inference_mode():
        return net(torch.tensor([x])).tolist()
```

## Known limits
TorchScript (`torch.jit.load`), ONNX Runtime sessions and Hugging Face `from_pretrained` models
(which `from_pretrained` already puts in eval mode) are exempt, as are `torch.hub.load` models
(the hub entry point may call `.eval()`). An `.eval()` anywhere on the same variable or attribute
counts, whatever the order, and so does handing the model to a project function that calls
`.eval()` on that parameter (`prepare_for_inference(model)`).

## Fix safety
The fix inserts `<model>.eval()` right after the statement that loads or builds the model (after
any `load_state_dict`/`.to(...)` calls that follow it). It is safe for objects that only serve
inference: eval mode changes dropout and batch-norm behaviour, which is what inference needs.
"""
from mllint.knowledge import canonical
from mllint.rule import FileRule, ProjectRule, RuleMeta

from mllint.rules import _serving_common as C


class InferenceWithoutEvalMode(C.TorchFacts, FileRule, ProjectRule):
    meta = RuleMeta(code="ML1102", level="warning", precision="high", tags=("serving", "correctness"),
                    fix="safe")

    def begin(self):
        # request-path code can only live in modules that a serving module imports (pre-scan)
        return self.ctx.maybe_serving

    def check_project(self, project):
        idx = C.torch_index(project, self.meta.code)
        serving = project.request_scopes | project.startup_scopes
        uses = {}
        for sid, c, key in C.torch_uses(project):
            uses.setdefault(key, (sid, c))
        request_paths = {C.path_of(sid) for sid, _, _ in C.torch_uses(project)}
        aliases = {}
        for path, scope, cls, target, src, chain_eval in idx["aliases"]:
            aliases.setdefault((path, scope, src), []).append((C.creation_key(path, scope, cls, target), chain_eval))
        evals = idx["evals"]
        seen = set()
        for path, scope, cls, target, qual, chain_eval, span in idx["creations"]:
            sid = f"{path}::{scope}"
            if sid not in serving or C.excluded_path(project, path) or chain_eval:
                continue
            if canonical(qual) == "torch.hub.load":
                continue
            kind = C.loader_kind(project, path, qual)
            if kind is None and qual and C.torch_by_use(project, path, scope, target):
                kind = "torch"  # a module of another library whose weights are loaded with load_state_dict
            if kind not in ("torch", "torch-pickle"):
                continue
            if kind == "torch" and self._factory_evals(project, path, qual, idx):
                continue
            key = C.creation_key(path, scope, cls, target)
            keys = [key] + [k for k, ce in aliases.get((path, scope, target), []) if not ce]
            if any(ce for _, ce in aliases.get((path, scope, target), [])):
                continue
            if any(k in evals for k in keys) or _evaluated_by_helper(project, sid, target):
                continue
            used = any(k in uses for k in keys)
            fn = project.function(sid)
            if not used and fn is not None and fn.name == "model_fn" and path in request_paths:
                # SageMaker: model_fn's return value is passed to predict_fn
                if any(p == path and not k.startswith("@") for (p, k, _r) in evals):
                    continue
                used = True
            if not used or (path, span[0]) in seen:
                continue
            seen.add((path, span[0]))
            yield self.finding(path, span,
                               f"`{target}` is a torch module served without `.eval()`: dropout and batch norm stay in "
                               f"training mode; call `{target}.eval()` after loading")

    def _factory_evals(self, project, path, qual, idx) -> bool:
        sid = C._project_fn(project, path, qual or "")
        if sid is None:
            return False
        return bool(project.reachable([sid], through_imports=False) & idx["eval_scopes"])


def _evaluated_by_helper(project, sid: str, target: str) -> bool:
    """``prepare_for_inference(model)`` in the same scope, where the project function calls
    ``.eval()`` (or ``.train(False)``) on the parameter it receives the model as."""
    for c, tgt in project.calls(sid):
        fn = project.function(tgt) if tgt else None
        if fn is None:
            continue
        params = [p for p, _ in fn.params]
        if fn.class_name and params[:1] in (["self"], ["cls"]):
            params = params[1:]
        names = [params[i] for i, a in enumerate(c.args)
                 if i < len(params) and a.kind == "name" and a.value == target]
        names += [k for k, v in c.kwargs.items() if v.kind == "name" and v.value == target and k in params]
        if names and any(cc.receiver in names and (cc.attr == "eval" or (cc.attr == "train" and cc.args and
                                                                        cc.args[0].kind == "const" and
                                                                        cc.args[0].value is False))
                         for cc, _ in project.calls(tgt)):
            return True
    return False
