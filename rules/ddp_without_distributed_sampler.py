"""DDP training shuffles a `DataLoader` without a `DistributedSampler`.

## What it does
In code reached from a training entrypoint that sets up plain PyTorch DDP
(`torch.distributed.init_process_group` or `DistributedDataParallel`), flags
`DataLoader(..., shuffle=True)` built with no `sampler=`/`batch_sampler=`. Flows driven by
Accelerate (`prepare()`), Lightning, the Hugging Face `Trainer`, DeepSpeed, Ignite, Composer, Ray
Train... are skipped: those inject the distributed sampler themselves.

## Why is this bad?
Checkpoint 4 (distributed training): without a `DistributedSampler` every rank iterates over the
whole dataset in its own random order. An epoch then processes the data N times, the effective
batch and learning-rate schedule are not what the config says, and results change with the number
of GPUs.

## Example
```python
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader

if __name__ == "__main__":
    dist.init_process_group("nccl")
    model = DDP(model)
    loader = DataLoader(train_ds, batch_size=64, shuffle=True)
    for x, y in loader:
        model(x).sum().backward()
        opt.step()
```

## Use instead
```python
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler

if __name__ == "__main__":
    dist.init_process_group("nccl")
    model = DDP(model)
    sampler = DistributedSampler(train_ds, shuffle=True)
    loader = DataLoader(train_ds, batch_size=64, sampler=sampler)
    for x, y in loader:
        model(x).sum().backward()
        opt.step()
```

## Known limits
Loaders built under an `if` that mentions distribution (`if not args.distributed:`, `if
world_size == 1:`), or after an early `return` under such an `if` (`if distributed: return
DataLoader(ds, sampler=...)`), are not reported. Loaders without `shuffle=True` (often evaluation loaders,
which some code deliberately runs on every rank) are not reported.
"""
import re

from mllint.knowledge import canonical
from mllint.knowledge import distributed as DK
from mllint.rule import ProjectRule, RuleMeta
from mllint.rules import _serving_common as C
from mllint.summary import MODULE_SCOPE

_DIST_GUARD = re.compile(r"(distributed|ddp|world_size|WORLD_SIZE|rank|RANK|is_initialized|multiprocessing|"
                         r"nprocs|n_gpu|ngpus|num_gpus|gpus|parallel|dist)", re.I)


class DdpWithoutDistributedSampler(ProjectRule):
    meta = RuleMeta(code="ML0401", level="warning", precision="high", profile="poc",
                    tags=("distributed",), fix="none")

    def check_project(self, project):
        seen = set()
        for ep in project.training_entrypoints:
            calls = DK.reach_calls(project, DK.entry_reach(project, ep))
            if not DK.ddp_flow(calls):
                continue
            for path, sid, call, _ in calls:
                if canonical(call.qualname) not in DK.DATALOADERS or project.is_test_path(path):
                    continue
                key = (path, call.line, call.col)
                if key in seen:
                    continue
                if call.star_kwargs or call.star_args or "sampler" in call.kwargs or "batch_sampler" in call.kwargs \
                        or len(call.args) >= 4:
                    continue
                shuffle = call.arg(2, "shuffle")
                if shuffle is None or shuffle.kind != "const" or shuffle.value is not True:
                    continue
                if any(_DIST_GUARD.search(g) for g in call.guards):
                    continue
                if call.scope != MODULE_SCOPE and any(_DIST_GUARD.search(t) for t in
                                                      C.early_exit_tests(project, f"{path}::{call.scope}", call.line)):
                    continue  # ``if distributed: return DataLoader(..., sampler=...)`` above: the single-process path
                seen.add(key)
                yield self.finding(path, call.span(),
                                   "this DDP job shuffles a `DataLoader` without a `DistributedSampler`: every rank "
                                   "iterates over the whole dataset; pass `sampler=DistributedSampler(ds)` "
                                   "(and drop `shuffle=True`)")
