"""`torch.nn.DataParallel` is used for multi-GPU training instead of `DistributedDataParallel`.

## What it does
Flags calls to `torch.nn.DataParallel(...)` (through any import alias, including
`torch.nn.parallel.DataParallel`) outside test code.

## Why is this bad?
Checkpoint 4 (distributed training): `DataParallel` runs one Python process that scatters each batch
and gathers the outputs on GPU 0 every step. It is slower than `DistributedDataParallel` even on one
machine (GIL contention, GPU 0 memory imbalance), cannot span nodes, and PyTorch recommends DDP
instead. Code built around it has to be reworked (samplers, rank guards) the day training needs
more than one node.

## Example
```python
import torch

model = torch.nn.DataParallel(model)
```

## Use instead
```python
import torch
import torch.distributed as dist

dist.init_process_group("nccl")
model = torch.nn.parallel.DistributedDataParallel(model.cuda(local_rank), device_ids=[local_rank])
```

## Known limits
`DataParallel` is still a reasonable quick fix on one machine for inference or a short
experiment; the finding is a warning, suppress it there. `isinstance(m, nn.DataParallel)` checks
are not calls and stay silent.
"""
import ast

from mllint.knowledge import canonical
from mllint.knowledge import distributed as DK
from mllint.rule import FileRule, RuleMeta


class DataparallelInsteadOfDdp(FileRule):
    meta = RuleMeta(code="ML0404", level="warning", precision="very-high", profile="poc",
                    tags=("distributed",), fix="none")

    def visit_Call(self, node: ast.Call) -> None:
        q = canonical(self.ctx.call_qualname(node))
        if q not in DK.DATA_PARALLEL or _is_test_path(self.ctx.path):
            return
        self.report(node, "`torch.nn.DataParallel` is single-process and slower than `DistributedDataParallel`; "
                          "launch with `torchrun` and wrap the model in `DistributedDataParallel`")


def _is_test_path(path: str) -> bool:
    p = "/" + path
    name = path.rsplit("/", 1)[-1]
    return "/tests/" in p or "/test/" in p or name.startswith("test_") or name.endswith("_test.py") or \
        name == "conftest.py"
