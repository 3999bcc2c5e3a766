"""`torch.nn.DataParallel` is used for multi-GPU training instead of `DistributedDataParallel`.

## What it does
Flags calls to `torch.nn.DataParallel(...)` (through any import alias, including
`torch.nn.parallel.DataParallel`) in code reached from a training entrypoint, outside test code.

## Why is this bad?
Checkpoint 4 (distributed training): `DataParallel` runs one Python process that scatters each batch
and gathers the outputs on GPU 0 every step. It is slower than `DistributedDataParallel` even on one
machine (GIL contention, GPU 0 memory imbalance), cannot span nodes, and PyTorch recommends DDP
instead. Code built around it has to be reworked (samplers, rank guards) the day training needs
more than one node.

## Example
```python
import torch

if __name__ == "__main__":
    model = torch.nn.DataParallel(model)
    for x, y in loader:
        model(x).sum().backward()
        opt.step()
```

## Use instead
```python
import torch
import torch.distributed as dist

if __name__ == "__main__":
    dist.init_process_group("nccl")
    model = torch.nn.parallel.DistributedDataParallel(model.cuda(local_rank), device_ids=[local_rank])
    for x, y in loader:
        model(x).sum().backward()
        opt.step()
```

## Known limits
`DataParallel` is still a reasonable quick fix on one machine for inference (model loaders such as
SageMaker `model_fn` are not training code and stay silent) or a short experiment; the finding is a
warning, suppress it there. `isinstance(m, nn.DataParallel)` checks
are not calls and stay silent, and so is `DataParallel` as the single-process fallback in a
function that also sets up distributed training (`DistributedDataParallel`, apex's, FSDP,
`init_process_group`, `deepspeed.initialize`), directly or through a project function it calls
(`model = smart_ddp(model)`): launched with torchrun or deepspeed, that is the branch that runs.
"""
import ast

from mllint.graph import scope_id
from mllint.knowledge import canonical, is_test_path
from mllint.knowledge import distributed as DK
from mllint.rule import FileRule, ProjectRule, RuleMeta


# a function that sets up distributed training (DK.DISTRIBUTED_SETUP) and also makes a DataParallel
# uses DataParallel as the single-process fallback
_DDP_FACT = "ML0404:distributed"


class DataparallelInsteadOfDdp(FileRule, ProjectRule):
    meta = RuleMeta(code="ML0404", level="warning", precision="very-high", profile="poc",
                    tags=("distributed",), fix="none")

    def visit_Call(self, node: ast.Call) -> None:
        q = canonical(self.ctx.call_qualname(node))
        if q in DK.DISTRIBUTED_SETUP:
            self.ctx.summary.facts.setdefault(_DDP_FACT, []).append(self.ctx.scope)
            return
        if q not in DK.DATA_PARALLEL or is_test_path(self.ctx.path):
            return
        self.record((*self.ctx.span_of(node), self.ctx.scope))

    def check_project(self, project):
        # every scope that sets up distributed training itself
        setups = {scope_id(path, scope) for path, s in project.summaries.items() for scope in s.facts.get(_DDP_FACT, ())}
        for path, s in sorted(project.summaries.items()):
            for line, col, end_line, end_col, scope in s.facts.get(self.meta.code, []):
                if not project.is_training(path, scope):
                    continue  # inference / model loading: DataParallel is a reasonable quick fix there
                sid = scope_id(path, scope)
                if sid in setups or not setups.isdisjoint(project.reach_sorted((sid,), False)):
                    # the fallback beside a DDP branch (``if local_rank != -1: DDP(...) elif n_gpu > 1:``),
                    # also when a project helper wraps the model (yolov5's ``smart_DDP(model)``)
                    continue
                yield self.finding(path, (line, col, end_line, end_col),
                                   "`torch.nn.DataParallel` is single-process and slower than `DistributedDataParallel`; "
                                   "launch with `torchrun` and wrap the model in `DistributedDataParallel`")
