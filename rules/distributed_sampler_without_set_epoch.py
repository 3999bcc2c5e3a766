"""A shuffling `DistributedSampler` is used but `set_epoch` is never called.

## What it does
Flags `DistributedSampler(...)` constructions (shuffling, the default) in code reached from a
training entrypoint when nothing that entrypoint reaches ever calls `.set_epoch(...)` (on the sampler,
the loader's `.sampler`, or anything else). Flows driven by Accelerate, Lightning, the Hugging Face
`Trainer`, DeepSpeed, Ignite, Composer or Ray Train are skipped: they call it themselves.

## Why is this bad?
Checkpoint 4 (distributed training): `DistributedSampler` seeds its shuffle with `seed + epoch`.
Without `sampler.set_epoch(epoch)` at the start of every epoch, each epoch replays exactly the same
order on every rank, which silently weakens training (no reshuffling between epochs).

## Example
```python
from torch.utils.data import DataLoader, DistributedSampler

if __name__ == "__main__":
    sampler = DistributedSampler(train_ds)
    loader = DataLoader(train_ds, batch_size=64, sampler=sampler)
    for epoch in range(10):
        for x, y in loader:
            model(x).sum().backward()
            opt.step()
```

## Use instead
```python
from torch.utils.data import DataLoader, DistributedSampler

if __name__ == "__main__":
    sampler = DistributedSampler(train_ds)
    loader = DataLoader(train_ds, batch_size=64, sampler=sampler)
    for epoch in range(10):
        sampler.set_epoch(epoch)
        for x, y in loader:
            model(x).sum().backward()
            opt.step()
```

## Known limits
Any `set_epoch` call reached from the same entrypoint silences every sampler of that entrypoint
(the analysis does not track which sampler it was called on). `DistributedSampler(...,
shuffle=False)` and samplers of evaluation sets (`val_sampler`, `DistributedSampler(test_ds)`) are
never reported. A sampler or loader passed to a call the analysis cannot resolve (a trainer object,
a helper in an ambiguous module) may get `set_epoch` there: silent. Samplers in code no training entrypoint reaches are
not reported.
"""
import re

from mllint.knowledge import canonical
from mllint.knowledge import distributed as DK
from mllint.rule import ProjectRule, RuleMeta

_EVAL = re.compile(r"(^|_)(val|valid|validation|test|eval|evaluation|dev|holdout)(_|$|\d)", re.I)
_CARRIER = re.compile(r"(loader|sampler)", re.I)
_SAFE_CONSUMERS = ("torch.", "tqdm", "enumerate", "len", "iter", "next", "zip", "print", "logging.", "range")


def _escapes(calls, names) -> bool:
    """A sampler or loader handed to code the analysis cannot follow (an unresolved call), which may
    call ``set_epoch`` itself: stay silent."""
    for _, _, c, tgt in calls:
        if tgt is not None:
            continue
        q = canonical(c.qualname)
        if q and q.startswith(_SAFE_CONSUMERS) and not q.startswith("torch.distributed.elastic"):
            continue
        if canonical(c.qualname) in DK.DATALOADERS or canonical(c.qualname) in DK.DISTRIBUTED_SAMPLERS:
            continue
        for v in list(c.args) + list(c.kwargs.values()):
            if v.kind == "name":
                tail = v.value.rsplit(".", 1)[-1]
                if tail in names or _CARRIER.search(tail):
                    return True
    return False


def _is_eval(call) -> bool:
    names = [call.assigned_to or ""]
    first = call.arg(0, "dataset")
    if first is not None and first.kind == "name":
        names.append(first.value.rsplit(".", 1)[-1])
    return any(_EVAL.search(n.rsplit(".", 1)[-1]) for n in names if n)


def _is_distributed_sampler(c) -> bool:
    return canonical(c.qualname) in DK.DISTRIBUTED_SAMPLERS


class DistributedSamplerWithoutSetEpoch(ProjectRule):
    meta = RuleMeta(code="ML0402", level="warning", precision="very-high", profile="poc",
                    tags=("distributed",), fix="none")

    def check_project(self, project):
        verdict = {}  # (path, line, col) -> (call, silenced by some entrypoint?)
        for ep in project.training_entrypoints:
            calls = DK.reach_calls(project, DK.entry_reach(project, ep))
            if not calls.any("distributed-sampler", _is_distributed_sampler):
                continue
            samplers = [(p, c) for p, _, c, _ in calls
                        if canonical(c.qualname) in DK.DISTRIBUTED_SAMPLERS and not project.is_test_path(p)]
            if not samplers:
                continue
            handled = any(c.attr == "set_epoch" or DK.injects_sampler(c) for _, _, c, _ in calls)
            if not handled:
                names = {c.assigned_to.rsplit(".", 1)[-1] for _, c in samplers if c.assigned_to}
                for _, _, c, _ in calls:
                    sm = c.kwargs.get("sampler")
                    if canonical(c.qualname) in DK.DATALOADERS and c.assigned_to and sm is not None and (
                            (sm.kind == "name" and sm.value.rsplit(".", 1)[-1] in names) or sm.kind == "call"):
                        names.add(c.assigned_to.rsplit(".", 1)[-1])
                handled = _escapes(calls, names)
            for path, call in samplers:
                if _is_eval(call):
                    continue  # an evaluation sampler: its order does not matter
                sh = call.kwargs.get("shuffle")
                if sh is not None and not (sh.kind == "const" and sh.value is True):
                    continue  # shuffle=False, or a variable
                if call.star_kwargs:
                    continue
                key = (path, call.line, call.col)
                prev = verdict.get(key)
                verdict[key] = (path, call, handled or (prev[2] if prev else False))
        for key in sorted(verdict):
            path, call, handled = verdict[key]
            if handled:
                continue
            yield self.finding(path, call.span(),
                               "`DistributedSampler` shuffles but `set_epoch` is never called: every epoch replays "
                               "the same order; call `sampler.set_epoch(epoch)` at the start of each epoch")
