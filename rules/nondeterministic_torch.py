"""Training turns on non-deterministic cuDNN autotuning (`cudnn.benchmark = True`).

## What it does
In code reached from a training entrypoint, flags `torch.backends.cudnn.benchmark = True`,
`torch.backends.cudnn.deterministic = False` and `torch.use_deterministic_algorithms(False)`,
unless the same entrypoint also turns deterministic algorithms on
(`torch.use_deterministic_algorithms(True)`). Part of the `strict` profile.

## Why is this bad?
Checkpoint 3 (reproducible training): with benchmarking on, cuDNN times several convolution
algorithms at start-up and keeps the fastest, which can differ between runs and machines; several of
them are non-deterministic. Two runs with the same seed then give different weights, which makes
bisecting a regression or reproducing a reported metric unreliable.

## Example
```python
import torch

torch.backends.cudnn.benchmark = True

if __name__ == "__main__":
    for x, y in loader:
        model(x).sum().backward()
        opt.step()
```

## Use instead
```python
import torch

torch.backends.cudnn.benchmark = False
torch.backends.cudnn.deterministic = True

if __name__ == "__main__":
    for x, y in loader:
        model(x).sum().backward()
        opt.step()
```

## Known limits
Inference scripts (not reached from a training entrypoint) may keep `benchmark = True` for speed
and are not reported. Values given through variables or config are not reported, nor settings under
an `if` that tests a determinism switch (`if args.deterministic: ... else: cudnn.benchmark = True`).
"""
import ast

from mllint.knowledge import canonical
from mllint.rule import FileRule, ProjectRule, RuleMeta

_BAD = {"torch.backends.cudnn.benchmark": True, "torch.backends.cudnn.deterministic": False}


class NondeterministicTorch(FileRule, ProjectRule):
    meta = RuleMeta(code="ML0311", level="note", precision="high", profile="strict",
                    tags=("reproducibility", "determinism"), fix="none")

    def begin(self):
        # ``cudnn.benchmark = True``, ``cudnn.deterministic = False``, ``use_deterministic_algorithms``
        return self.ctx.text_has("benchmark", "deterministic")

    def visit_Assign(self, node: ast.Assign) -> None:
        for t in node.targets:
            if not isinstance(t, ast.Attribute):
                continue
            q = canonical(self.ctx.qualname(t))
            if q in _BAD and self.ctx.literal(node.value) is _BAD[q]:
                if any("determin" in g.lower() for g in self.ctx.guard_stack):
                    continue  # the fast branch of a determinism switch (``if args.deterministic: ... else:``)
                name = q.rsplit(".", 1)[-1]
                self.record((*self.ctx.span_of(node), self.ctx.scope, f"cudnn.{name} = {_BAD[q]}"))

    def visit_Call(self, node: ast.Call) -> None:
        q = canonical(self.ctx.call_qualname(node))
        if q == "torch.use_deterministic_algorithms" and node.args and self.ctx.literal(node.args[0]) is False:
            self.record((*self.ctx.span_of(node), self.ctx.scope, "use_deterministic_algorithms(False)"))

    def check_project(self, project):
        reaches = {}
        for path, s in sorted(project.summaries.items()):
            facts = s.facts.get(self.meta.code)
            if not facts or project.is_test_path(path):
                continue
            for line, col, end_line, end_col, scope, what in facts:
                eps = [ep for ep in project.training_entrypoints
                       if f"{path}::{scope}" in self._reach(project, ep, reaches)]
                if not eps:
                    continue
                if all(self._deterministic(project, ep, reaches) for ep in eps):
                    continue
                yield self.finding(path, (line, col, end_line, end_col),
                                   f"`{what}` lets cuDNN pick non-deterministic algorithms, so runs with the same "
                                   f"seed differ; set `cudnn.benchmark = False` and `cudnn.deterministic = True` "
                                   f"(or `torch.use_deterministic_algorithms(True)`) for reproducible training")

    @staticmethod
    def _reach(project, ep, cache):
        key = (ep.path, tuple(ep.scopes))
        if key not in cache:
            cache[key] = project.reachable(ep.scopes)
        return cache[key]

    def _deterministic(self, project, ep, cache) -> bool:
        for sid in self._reach(project, ep, cache):
            for call, _ in project.calls(sid):
                if canonical(call.qualname) == "torch.use_deterministic_algorithms" and call.args and \
                        call.args[0].kind == "const" and call.args[0].value is True:
                    return True
        return False
