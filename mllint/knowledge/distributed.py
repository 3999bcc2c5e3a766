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
# every call that sets up distributed data parallelism (torch's DDP, apex's, FSDP, a DeepSpeed engine)
DISTRIBUTED_SETUP = DDP_CLASSES | DDP_INIT | frozenset({
    "apex.parallel.DistributedDataParallel", "deepspeed.initialize",
    "torch.distributed.fsdp.FullyShardedDataParallel"})
DISTRIBUTED_SAMPLERS = frozenset({"torch.utils.data.DistributedSampler",
                                  "torch.utils.data.distributed.DistributedSampler"})
DATALOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})

# Calls that run a function in new processes: qualname -> (position, keyword) of the function.
SPAWNERS = {
    "torch.multiprocessing.spawn": (0, "fn"), "torch.multiprocessing.start_processes": (0, "fn"),
    "torch.multiprocessing.spawn.spawn": (0, "fn"), "multiprocessing.Process": (None, "target"),
    "torch.multiprocessing.Process": (None, "target"),
}

# Frameworks that build the distributed sampler (and call set_epoch) themselves.
SAMPLER_INJECTING_PREFIXES = (
    "accelerate.", "lightning.", "pytorch_lightning.", "transformers.Trainer", "transformers.Seq2SeqTrainer",
    "trl.", "deepspeed.", "composer.", "ignite.", "mmengine.", "mmcv.", "detectron2.", "horovod.",
    "ray.train.", "fabric.", "catalyst.", "torchtnt.", "sentence_transformers.", "setfit.", "ultralytics.YOLO", "ultralytics.models.",
    "ultralytics.engine.",
)


def is_ddp_setup(call) -> bool:
    """A process group is started, or a model wrapped in DDP outside any ``if``.  A wrap under a
    condition (``if local_rank != -1: model = DDP(model)`` in a library's fit) with no process group
    started anywhere the entrypoint reaches is the single-process path of code that can also run
    distributed: the entrypoint runs one process."""
    q = canonical(call.qualname)
    return q in DDP_INIT or (q in DDP_CLASSES and not call.guards)


def injects_sampler(call) -> bool:
    for name in (canonical(call.qualname), canonical(call.receiver_type)):
        if name and name.startswith(SAMPLER_INJECTING_PREFIXES):
            return True
    return False


# ----------------------------------------------------------------------------- rank guards
# Identifiers (from ``CallInfo.guards`` token strings) of a main-process check.  Each identifier is
# classified on its own, so ``is_local_main_process`` is local and ``self_is_main_node`` global.
_LOCAL_ID = re.compile(r"(local_rank|local_main|local_master|local_process|local_zero|^gpu$|gpu_id|local_gpu|"
                       r"device_id|^LOCAL_RANK$)", re.I)
_GLOBAL_ID = re.compile(r"(^rank$|rank$|^get_rank$|is_main|main_process|main_node|main_proc|master|rank_zero|rank0|"
                        r"chief|leader|is_primary|global_zero|world_process_zero|process_index|is_first_process)", re.I)
RANK_DECORATORS = re.compile(r"(rank_zero|main_process|master_only|on_main|rank0|is_main)", re.I)


# a word every identifier either pattern above (or a ``local...rank/main/master`` one) contains
_GUARD_WORD = re.compile(r"rank|main|master|chief|leader|primary|zero|process_index|first_process|local_process|"
                         r"gpu|device_id", re.I)


def guard_kind(guard: str) -> Optional[str]:
    """'global' for a global main-rank check, 'local' for a node-local one, else None."""
    if _GUARD_WORD.search(guard) is None:
        return None  # most guards (every ``if`` test and ``and`` the walk meets) mention no rank
    return _classify_guard(guard)


def _classify_guard(guard: str) -> Optional[str]:
    local = False
    for ident in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", guard):
        if _LOCAL_ID.search(ident) or ident.lower().startswith("local"):
            if _LOCAL_ID.search(ident) or "rank" in ident.lower() or "main" in ident.lower() or \
                    "master" in ident.lower():
                local = True
            continue
        if _GLOBAL_ID.search(ident) and not ident.lower().startswith(("num_", "n_", "world_size")):
            return "global"
    return "local" if local else None


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
    if q == "wandb.init" and "group" in call.kwargs:
        return None  # W&B's "one run per process" pattern: each rank's run, grouped in the UI
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
def entry_reach(project, ep) -> tuple:
    """The scope ids an entrypoint reaches, as the project's memoised sorted tuple (the same object
    on every call, which ``reach_calls`` keys on)."""
    return project.reach_sorted(tuple(ep.scopes), True)


class ReachCalls:
    """``(path, scope id, CallInfo, target)`` for every call made in a set of reached scopes, in a
    stable order.  Iterated on demand rather than stored: the reaches of a repository's training
    entrypoints overlap heavily, and lists of them cost tens of MB on a large repository."""

    __slots__ = ("scope_calls", "sids", "ddp", "flags")

    def __init__(self, project, reach):
        # the project's call table, not the project: this object lives in the project's memo, and
        # a reference back would be a cycle
        self.scope_calls = project.scope_calls
        self.sids = reach if reach.__class__ is tuple else sorted(reach)  # entry_reach: sorted already
        self.ddp = None  # ddp_flow(), computed once
        self.flags = project.__dict__.setdefault("_ml04_scope_flags", {})  # key -> {sid: bool}, shared

    def any(self, key: str, pred) -> bool:
        """Does any reached call satisfy ``pred``?  Answered per scope once (under ``key``) and
        shared by every entrypoint whose reach contains the scope."""
        memo = self.flags.setdefault(key, {})
        get = self.scope_calls.get
        for sid in self.sids:
            v = memo.get(sid)
            if v is None:
                v = memo[sid] = any(map(pred, get(sid, ())))
            if v:
                return True
        return False

    def __iter__(self):
        get = self.scope_calls.get
        for sid in self.sids:
            path = sid.partition("::")[0]
            for call in get(sid, ()):
                yield path, sid, call, call.target


def reach_calls(project, reach) -> ReachCalls:
    """The calls made in the reached scopes (shared by the distributed rules for the cached reach
    sets of ``entry_reach``)."""
    cache = project.__dict__.setdefault("_ml04_calls", {})
    hit = cache.get(id(reach))
    if hit is not None and hit[0] is reach:
        return hit[1]
    out = ReachCalls(project, reach)
    cache[id(reach)] = (reach, out)
    return out


def ddp_flow(calls) -> bool:
    """Plain torch DDP (not Accelerate/Lightning/HF Trainer, which handle samplers and ranks)."""
    if isinstance(calls, ReachCalls):
        if calls.ddp is None:
            calls.ddp = _ddp_flow(calls)
        return calls.ddp
    return _ddp_flow(calls)


def _ddp_flow(calls) -> bool:
    if isinstance(calls, ReachCalls):
        return calls.any("ddp-setup", is_ddp_setup) and not calls.any("injects-sampler", injects_sampler)
    return any(is_ddp_setup(c) for _, _, c, _ in calls) and not any(injects_sampler(c) for _, _, c, _ in calls)
