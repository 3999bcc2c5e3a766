"""Torch inference on the request path runs with autograd enabled.

## What it does
Flags a call of a torch model on the request path (`model(x)`, `self.model(x)`,
`model.forward(x)` where the model is a project `nn.Module`, a torchvision/timm model, a
`torch.load`/`torch.jit.load` result, a Hugging Face `transformers` model, or an object of another
library on which `load_state_dict(...)` is called) that is not inside
`with torch.no_grad():` / `with torch.inference_mode():`, and whose function is not decorated
with `@torch.no_grad()`/`@torch.inference_mode()` nor called from a function that is (or from a
call site inside such a block).

## Why is this bad?
Checkpoint 11 (serving latency): with autograd on, every forward pass records the graph and keeps
the activations alive for a backward pass that never comes: more memory per request, slower
kernels, and an out-of-memory risk under load. `torch.inference_mode()` also skips version
counting.

## Example
```python
import torch
from fastapi import FastAPI

app = FastAPI()
model = torch.jit.load("model.pt")


@app.post("/predict")
def predict(x: list[float]):
    return model(torch.tensor([x])).tolist()
```

## Use instead
```python
import torch
from fastapi import FastAPI

app = FastAPI()
model = torch.jit.load("model.pt")


@app.post("/predict")
def predict(x: list[float]):
    with torch.inference_mode():
        return model(torch.tensor([x])).tolist()
```

## Known limits
`generate()`, `encode()` and pipelines disable gradients themselves and are not flagged. A
process-wide `torch.set_grad_enabled(False)` in a serving module silences the rule, and a model
frozen with `model.requires_grad_(False)` is not flagged (no parameter needs a gradient), nor is a
handler that computes gradients itself (`.backward()`, `torch.autograd.grad`, captum): an
explanation endpoint needs autograd.

## Fix safety
The fix wraps the statement holding the call in `with torch.no_grad():` (importing `torch` if
needed). It uses `no_grad` rather than `inference_mode`, whose tensors cannot later be used in
autograd. It is unsafe: code that relies on gradients through this call (saliency maps,
adversarial checks) stops getting them.
"""
from mllint.knowledge import canonical
from mllint.rule import FileRule, ProjectRule, RuleMeta

from mllint.rules import _serving_common as C

TORCH_KINDS = ("torch", "torch-pickle", "torch-exempt", "hf")


class InferenceWithoutNoGrad(C.TorchFacts, FileRule, ProjectRule):
    meta = RuleMeta(code="ML1101", level="warning", precision="high", tags=("serving", "performance"),
                    fix="unsafe")

    def begin(self):
        # request-path code can only live in modules that a serving module imports (pre-scan)
        return self.ctx.maybe_serving

    def check_project(self, project):
        for path, c in project.all_calls():
            q = canonical(c.qualname)
            if q in ("torch.set_grad_enabled", "torch.autograd.set_grad_enabled") and c.args and \
                    c.args[0].kind == "const" and c.args[0].value is False and not c.contexts and \
                    path in project.serving_modules:
                return
        idx = C.torch_index(project, self.meta.code)
        kinds = {}
        for path, scope, cls, target, qual, chain_eval, span in idx["creations"]:
            k = self._kind(project, path, qual)
            if k:
                kinds[C.creation_key(path, scope, cls, target)] = k
        for path, scope, cls, target, src, chain_eval in idx["aliases"]:
            k = kinds.get(C.creation_key(path, scope, cls, src)) or kinds.get((path, scope, src))
            if k:
                kinds.setdefault(C.creation_key(path, scope, cls, target), k)
        done = set()
        frozen = _frozen(project)
        grads: dict = {}
        for sid, c, key in C.torch_uses(project):
            if (sid, c.line, c.col) in done:
                continue
            if (sid.partition("::")[0], key[2]) in frozen:
                continue  # ``model.requires_grad_(False)``: no parameter needs a gradient, no graph is kept
            k = kinds.get(key)
            if k is None:
                path, _, scope = sid.partition("::")
                ref = key[2]
                k = self._kind(project, path, C.type_of(project, path, scope, ref))
                if k is None and C.torch_by_use(project, path, scope, ref):
                    k = "torch"
                if k is None:
                    k = self._kind(project, path, C.sagemaker_model_qual(project, path, scope, ref))
            if k not in TORCH_KINDS:
                continue
            if C.in_no_grad(c) or C.no_grad_covered(project, sid) or _needs_gradients(project, sid, grads):
                continue
            done.add((sid, c.line, c.col))
            name = key[2]
            yield self.finding(sid.partition("::")[0], c.span(),
                               f"torch inference `{name}(...)` runs with autograd on; wrap it in "
                               f"`with torch.inference_mode():` (or `torch.no_grad()`)")

    def _kind(self, project, path, qual):
        if not qual:
            return None
        k = C.loader_kind(project, path, qual)
        if k == "hf":
            q = canonical(qual)
            cls = q.rsplit(".", 2)[-2] if q.count(".") >= 2 else ""
            if not q.startswith("transformers.") or cls.startswith(("TF", "Flax")) or "Pipeline" in cls:
                return None
        return k


def _frozen(project) -> set:
    """(path, name) of modules frozen with ``name.requires_grad_(False)`` (also chained after
    ``name.eval()``)."""
    out = set()
    for path, s in project.summaries.items():
        by_line = None
        for c in s.calls:
            if c.attr != "requires_grad_" or not c.args or c.args[0].kind != "const" or c.args[0].value is not False:
                continue
            if c.receiver:
                out.add((path, c.receiver))
                continue
            if by_line is None:
                by_line = {}
                for o in s.calls:
                    if o.attr in ("eval", "to", "cuda", "half") and o.receiver:
                        by_line.setdefault(o.line, []).append(o.receiver)
            for r in by_line.get(c.line, ()):
                out.add((path, r))
    return out


_GRAD_CALLS = frozenset({"torch.autograd.grad", "torch.autograd.backward", "torch.autograd.functional.jacobian"})


def _needs_gradients(project, sid: str, memo: dict) -> bool:
    """The scope computes gradients itself (``.backward()``, ``torch.autograd.grad``, captum): an
    explanation endpoint, which needs autograd through the model."""
    if sid not in memo:
        memo[sid] = any(c.attr == "backward" or canonical(c.qualname) in _GRAD_CALLS or
                        canonical(c.qualname).startswith("captum.") for c, _ in project.calls(sid))
    return memo[sid]
