"""Distributed-training APIs (checkpoint 4): DDP, samplers, rank guards, rank-sensitive side effects."""
from __future__ import annotations

import re
from typing import Optional

from mllint.knowledge import canonical, last

DATA_PARALLEL = frozenset({"torch.nn.DataParallel", "torch.nn.parallel.DataParallel",
                           "torch.nn.parallel.data_parallel.DataParallel"})
DDP_CLASSES = frozenset({"torch.nn.parallel.DistributedDataParallel", "torch.nn.parallel.distributed.DistributedDataParallel",
                         "torch.nn.DistributedDataParallel"})
DDP_INIT = frozenset({"torch.distributed.init_process_group"})
DISTRIBUTED_SAMPLERS = frozenset({"torch.utils.data.DistributedSampler",
                                  "torch.utils.data.distributed.DistributedSampler"})
DATALOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})

# Frameworks that build the distributed sampler (and call set_epoch) themselves.
SAMPLER_INJECTING_PREFIXES = (
    "accelerate.", "lightning.", "pytorch_lightning.", "transformers.Trainer", "transformers.Seq2SeqTrainer",
    "trl.", "deepspeed.", "composer.", "ignite.", "mmengine.", "mmcv.", "detectron2.", "horovod.",
    "ray.train.", "fabric.", "catalyst.", "torchtnt.", "sentence_transformers.", "setfit.", "ultralytics.YOLO", "ultralytics.models.",
    "ultralytics.engine.",
)


def is_ddp_setup(call) -> bool:
    q = canonical(call.qualname)
    return q in DDP_CLASSES or q in DDP_INIT


def injects_sampler(call) -> bool:
    for name in (canonical(call.qualname), canonical(call.receiver_type)):
        if name and name.startswith(SAMPLER_INJECTING_PREFIXES):
            return True
    return False


# ----------------------------------------------------------------------------- rank guards
# Tokens (from ``CallInfo.guards``) of a main-process check.
GLOBAL_RANK_TOKENS = re.compile(
    r"\b(rank|global_rank|RANK|GLOBAL_RANK|WORLD_RANK|world_rank|ddp_rank|is_main_process|main_process|"
    r"master_process|is_master|master|is_global_zero|is_world_process_zero|is_rank_zero|rank_zero|"
    r"get_rank|is_main|is_primary|process_index|is_chief|gpu_rank|node_rank)\b")
LOCAL_RANK_TOKENS = re.compile(
    r"\b(local_rank|LOCAL_RANK|ddp_local_rank|is_local_main_process|local_process_index|is_local_master|"
    r"is_local_process_zero|get_local_rank|gpu|gpu_id|local_gpu|device_id|local_master)\b")
RANK_DECORATORS = re.compile(r"(rank_zero|main_process|master_only|on_main|rank0|is_main)", re.I)


def guard_kind(guard: str) -> Optional[str]:
    """'global' for a global main-rank check, 'local' for a node-local one, else None."""
    if GLOBAL_RANK_TOKENS.search(guard):
        return "global"
    if LOCAL_RANK_TOKENS.search(guard):
        return "local"
    return None


# ---------------------------------------------------------------- side effects every rank repeats
SIDE_EFFECT_FUNCTIONS = frozenset({"torch.save", "wandb.init", "wandb.log", "wandb.save",
                                   "mlflow.start_run", "mlflow.log_artifact", "mlflow.log_artifacts",
                                   "mlflow.log_metric", "mlflow.log_metrics", "mlflow.log_param",
                                   "mlflow.log_params", "mlflow.log_dict", "mlflow.log_text",
                                   "torch.utils.tensorboard.SummaryWriter", "tensorboardX.SummaryWriter"})


def side_effect(call) -> Optional[str]:
    """A short name when the call writes a checkpoint or tracker state every rank would duplicate.

    Plain ``open(..., "w")`` writes are not included: utility code (writability probes, config
    dumps, resume helpers) writes small files from every process on purpose, and reporting them was
    noise on real DDP code."""
    q = canonical(call.qualname)
    if q in SIDE_EFFECT_FUNCTIONS or (q.startswith("mlflow.") and last(q).startswith("log_") and
                                      q.count(".") == 1):
        return q
    return None


def per_rank_target(call) -> bool:
    """The written path/name mentions the rank (``f"ckpt_rank{rank}.pt"``): each rank writes its own."""
    for v in list(call.args[:2]) + list(call.kwargs.values()):
        if v.kind == "fstr":
            for p in v.value:
                if isinstance(p, tuple) and re.search(r"rank|local_rank|process_index|gpu|device", p[1], re.I):
                    return True
    return False


# ------------------------------------------------------------------------- shared helpers
def entry_reach(project, ep) -> set:
    cache = project.__dict__.setdefault("_ml04_reach", {})
    key = (ep.path, tuple(ep.scopes))
    if key not in cache:
        cache[key] = project.reachable(ep.scopes)
    return cache[key]


def reach_calls(project, reach) -> list:
    """[(path, scope id, CallInfo, target)] for every call made in the reached scopes."""
    out = []
    for sid in sorted(reach):
        path = sid.partition("::")[0]
        for call, tgt in project.calls(sid):
            out.append((path, sid, call, tgt))
    return out


def ddp_flow(calls) -> bool:
    """Plain torch DDP (not Accelerate/Lightning/HF Trainer, which handle samplers and ranks)."""
    return any(is_ddp_setup(c) for _, _, c, _ in calls) and not any(injects_sampler(c) for _, _, c, _ in calls)
