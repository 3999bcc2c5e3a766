"""DDP code saves checkpoints, logs to a tracker or writes files on every rank.

## What it does
In code reached from a training entrypoint that sets up plain PyTorch DDP
(`init_process_group`/`DistributedDataParallel`), flags `torch.save`, `mlflow.log_*`/`start_run`,
`wandb.init`/`log`/`save` and TensorBoard `SummaryWriter(...)` calls that no main-rank check
guards: not inside an `if` (or a conditional expression, or an `and`) on `rank`/`global_rank`/`is_main_process`/
`master_process`/`is_global_zero`..., not after an early `if rank != 0: return`, not in a function
decorated `@rank_zero_only`, and not in a helper whose every call site is guarded. A guard on the
*local* rank only (`local_rank == 0`, `is_local_main_process`) is reported when the script is
launched on several nodes (`torchrun --nnodes N` with N > 1 in a shell script, Dockerfile, CI or
DVC command).

## Why is this bad?
Checkpoint 4 (distributed training): every rank runs the same script. Unguarded, N processes write
the same checkpoint file at once (corrupt or torn files) and open N tracker runs with duplicated
metrics. On a multi-node job the local rank 0 of every node does it.

## Example
```python
import torch
import torch.distributed as dist

if __name__ == "__main__":
    dist.init_process_group("nccl")
    model = torch.nn.parallel.DistributedDataParallel(model)
    for x, y in loader:
        model(x).sum().backward()
        opt.step()
    torch.save(model.state_dict(), "model.pt")
```

## Use instead
```python
import torch
import torch.distributed as dist

if __name__ == "__main__":
    dist.init_process_group("nccl")
    model = torch.nn.parallel.DistributedDataParallel(model)
    for x, y in loader:
        model(x).sum().backward()
        opt.step()
    if dist.get_rank() == 0:
        torch.save(model.state_dict(), "model.pt")
```

## Known limits
Any `if` whose test mentions a rank counts as a guard, whatever it compares, also through a name
assigned a rank check (`is_logger = rank == 0`), and `wandb.init(mode=... if rank == 0 else
"disabled")` counts as guarded, and `wandb.init(group=...)` is W&B's one-run-per-process pattern.
Plain file writes
(`open(..., "w")`) are not reported: utility code writes small files from every rank on purpose
(writability probes, config dumps), which made them noise on real DDP code. Writes whose path
mentions the rank (`f"ckpt_rank{rank}.pt"`), and code handed its rank as a parameter (`def
dump(trace, rank)`, a class built with `rank=`), are per-rank by design and stay silent. In Azure ML
projects `mlflow.start_run()` on every rank attaches to the job's run and is not reported. Helpers called
from code the analysis cannot resolve are not reported. Accelerate, Lightning and HF Trainer flows
are not analysed (no plain DDP set-up). An entrypoint counts as DDP when the code it reaches starts a
process group, or wraps a model in `DistributedDataParallel` outside any `if`: a library's
`if local_rank != -1: model = DDP(model)` reached by a notebook that starts no process group runs
in one process. A function started in new processes (`mp.spawn(fn)`, `Process(target=fn)`) is followed.
"""
import ast
import re

from mllint.graph import split_scope
from mllint.knowledge import distributed as DK
from mllint.rule import FileRule, ProjectRule, RuleMeta
from mllint.summary import MODULE_SCOPE, iter_nodes  # ast.walk without ctx/operator nodes, same order

_EXITS = (ast.Return, ast.Raise, ast.Continue)
_RANK_TESTS = frozenset({ast.Compare, ast.BoolOp, ast.UnaryOp})  # values a rank check is held in


def _tokens(test) -> str:
    toks = []
    for n in iter_nodes(test):
        if isinstance(n, ast.Name):
            toks.append(n.id)
        elif isinstance(n, ast.Attribute):
            toks.append(n.attr)
    return " ".join(toks)


class UnguardedRankSideEffects(FileRule, ProjectRule):
    meta = RuleMeta(code="ML0403", level="warning", precision="high", profile="poc",
                    tags=("distributed",), fix="none")

    # -------------------------------------------------- walk: functions with an early rank exit
    def visit_FunctionDef(self, node) -> None:
        self._early_exit(node)

    def visit_AsyncFunctionDef(self, node) -> None:
        self._early_exit(node)

    def visit_IfExp(self, node) -> None:
        # ``logger = Writer(...) if rank == 0 else None``: a guard CallInfo.guards cannot show
        kind = DK.guard_kind(_tokens(node.test))
        if kind:
            b = node.body
            self.record(("ifexp", *self.ctx.span_of(b), kind))

    def visit_BoolOp(self, node) -> None:
        # ``is_main and torch.save(...)``
        if isinstance(node.op, ast.And) and len(node.values) >= 2:
            kind = DK.guard_kind(_tokens(node.values[0]))
            if kind:
                last_v = node.values[-1]
                first = self.ctx.span_of(node.values[1])
                self.record(("ifexp", first[0], first[1], *self.ctx.span_of(last_v)[2:], kind))

    def visit_Assign(self, node) -> None:
        # ``is_logger = rank == 0`` / ``master_process = ddp_rank == 0`` / ``args.save_logs = args.logs
        # and is_master(args)`` (open_clip): a rank check held in a name or an attribute (``if
        # args.save_logs:`` tests it by its last name); ``a or rank == 0`` holds on other ranks too
        value = node.value
        if len(node.targets) != 1 or value.__class__ not in _RANK_TESTS or \
                (value.__class__ is ast.BoolOp and isinstance(value.op, ast.Or)):
            return
        target = node.targets[0]
        name = target.id if target.__class__ is ast.Name else target.attr if target.__class__ is ast.Attribute else None
        if name:
            kind = DK.guard_kind(_tokens(value))
            if kind:
                self.record(("rankvar", self.ctx.scope, name, kind))

    def visit_Call(self, node) -> None:
        # ``wandb.init(..., mode="online" if rank == 0 else "disabled")``: the other ranks log nothing
        f = node.func
        if not node.keywords or (f.attr if f.__class__ is ast.Attribute else getattr(f, "id", None)) != "init":
            return
        for k in node.keywords:
            if k.value.__class__ is ast.IfExp and k.arg == "mode" and \
                    any(isinstance(b, ast.Constant) and b.value == "disabled" for b in (k.value.body, k.value.orelse)):
                kind = DK.guard_kind(_tokens(k.value.test))
                if kind:
                    self.record(("ifexp", *self.ctx.span_of(node), kind))

    def _early_exit(self, node) -> None:
        for stmt in node.body[:8]:
            if isinstance(stmt, ast.If) and stmt.body and isinstance(stmt.body[-1], _EXITS) and not stmt.orelse:
                kind = DK.guard_kind(_tokens(stmt.test))
                if kind:
                    self.record((self.ctx.scope, kind, stmt.lineno))
                    return

    # ------------------------------------------------------------------------ project phase
    def check_project(self, project):
        early = {}
        inline = {}  # path -> [(start, end, kind)] spans guarded by a conditional expression
        rank_vars = {}  # scope id -> {name: kind} of names assigned a rank check
        for path, s in project.summaries.items():
            for fact in s.facts.get(self.meta.code, []):
                if fact[0] == "ifexp":
                    _, l1, c1, l2, c2, kind = fact
                    inline.setdefault(path, []).append(((l1, c1), (l2, c2), kind))
                elif fact[0] == "rankvar":
                    _, scope, name, kind = fact
                    rank_vars.setdefault(f"{path}::{scope}", {})[name] = kind
                else:
                    scope, kind, line = fact
                    early[f"{path}::{scope}"] = kind
        multi = _multi_node_scripts(project)
        # Azure ML attaches every process's ``mlflow.start_run()`` to the job's run
        azure_ml = project.uses_module("azureml") or project.uses_module("azure.ai.ml")
        reported = set()
        for ep in project.training_entrypoints:
            calls = DK.reach_calls(project, DK.entry_reach(project, ep))
            if not DK.ddp_flow(calls):
                continue
            reach = frozenset(calls.sids)
            multi_node = ep.path in multi
            memo = {}
            for path, sid, call, _ in calls:
                what = DK.side_effect(call)
                if not what or project.is_test_path(path) or DK.per_rank_target(call):
                    continue
                if what == "mlflow.start_run" and azure_ml:
                    continue
                if _rank_parameterised(project, path, call.scope):
                    continue  # code handed its rank (``def __init__(self, rank)``) is per-rank by design
                key = (path, call.line, call.col)
                if key in reported:
                    continue
                kind = _inline_guard(call, inline.get(path)) or _call_guard_in(project, sid, call) or \
                    _var_guard(call, rank_vars, path, sid) or _scope_guard(project, sid, reach, early, memo, 0, inline)
                if kind == "global" or kind == "unknown":
                    continue
                if kind == "local":
                    if not multi_node:
                        continue
                    msg = (f"`{what}` is guarded by the local rank only, but `{ep.path}` runs on several nodes: "
                           f"local rank 0 of every node repeats it; check the global rank (`dist.get_rank() == 0`)")
                else:
                    msg = (f"`{what}` runs on every DDP rank: each process repeats the write/log; guard it with "
                           f"`if dist.get_rank() == 0:` (or `is_main_process`)")
                reported.add(key)
                yield self.finding(path, call.span(), msg)


_RANK_PARAM = re.compile(r"^(rank|local_rank|global_rank|world_rank|process_index|gpu|gpu_id|device_id)$")


def _rank_parameterised(project, path, scope) -> bool:
    s = project.summaries.get(path)
    if s is None:
        return False
    fn = s.functions.get(scope)
    if fn is None:
        return False
    if any(_RANK_PARAM.match(p) for p, _ in fn.params):
        return True
    if fn.class_name:
        init = s.functions.get(f"{fn.class_name}.__init__")
        if init is not None and any(_RANK_PARAM.match(p) for p, _ in init.params):
            return True
    return False


def _inline_guard(call, spans):
    if not spans:
        return None
    start, end = (call.line, call.col), (call.end_line, call.end_col)
    best = None
    for s0, s1, kind in spans:
        if s0 <= start and end <= s1:
            if kind == "global":
                return "global"
            best = kind
    return best


def _rank_assigned(project, sid) -> set:
    """Names a scope assigns from calls made under a main-rank guard (``if is_primary(args):
    saver = CheckpointSaver(...)``): later uses (``if saver is not None:``, ``saver.save(...)``)
    only happen on that rank."""
    cache = project.__dict__.setdefault("_ml0403_rank_assigned", {})
    if sid not in cache:
        cache[sid] = {c.assigned_to for c, _ in project.calls(sid)
                      if c.assigned_to and _plain_call_guard(c) == "global"}
    return cache[sid]


def _call_guard_in(project, sid, call):
    k = _plain_call_guard(call)
    if k == "global":
        return k
    names = _rank_assigned(project, sid)
    if names:
        toks = {t for g in call.guards for t in g.split()}
        recv = (call.receiver or "").split(".")[0]
        if names & toks or recv in names or (call.receiver or "") in names:
            return "global"
    return k


def _var_guard(call, rank_vars: dict, path: str, sid: str):
    """The kind of a rank check held in a name (in this scope or at module level) that one of the
    call's ``if`` tests uses."""
    names = {**rank_vars.get(f"{path}::{MODULE_SCOPE}", {}), **rank_vars.get(sid, {})}
    if not names:
        return None
    best = None
    for g in call.guards:
        for t in g.split():
            kind = names.get(t)
            if kind == "global":
                return kind
            best = best or kind
    return best


def _call_guard(call):
    return _plain_call_guard(call)


def _plain_call_guard(call):
    best = None
    for g in call.guards:
        k = DK.guard_kind(g)
        if k == "global":
            return "global"
        if k == "local":
            best = "local"
    return best


def _scope_guard(project, sid, reach, early, memo, depth, inline=None):
    """How the scope is guarded as a whole: 'global', 'local', None (unguarded) or 'unknown'."""
    if sid in memo:
        return memo[sid]
    memo[sid] = "unknown"  # recursion guard
    path, scope = split_scope(sid)
    result = None
    fn = project.functions.get(sid)
    if sid in early:
        result = early[sid]
    elif fn is not None and any(DK.RANK_DECORATORS.search(d.dotted or "") for d in fn.decorators):
        result = "global"
    elif fn is None:
        result = None  # module top level / main block: nothing above it
    elif depth > 6:
        result = "unknown"
    else:
        sites = []
        for caller in project.callers.get(sid, ()):
            if caller not in reach:
                continue
            for c, tgt in project.calls(caller):
                if tgt == sid:
                    sites.append((caller, c))
        if not sites:
            result = "unknown"  # reached through something we cannot see: stay silent
        else:
            kinds = []
            for caller, c in sites:
                k = _inline_guard(c, (inline or {}).get(split_scope(caller)[0])) or _call_guard_in(project, caller, c)
                if k != "global":
                    outer = _scope_guard(project, caller, reach, early, memo, depth + 1, inline)
                    k = "global" if outer == "global" else (k or outer)
                kinds.append(k)
            if any(k is None for k in kinds):
                result = None
            elif any(k == "local" for k in kinds):
                result = "local"
            elif all(k == "global" for k in kinds):
                result = "global"
            else:
                result = "unknown"
    memo[sid] = result
    return result


def _nnodes(argv) -> int:
    for i, a in enumerate(argv):
        val = None
        if a in ("--nnodes", "--num_nodes", "--num-nodes") and i + 1 < len(argv):
            val = argv[i + 1]
        elif a.startswith(("--nnodes=", "--num_nodes=", "--num-nodes=")):
            val = a.split("=", 1)[1]
        if val is not None:
            hi = val.split(":")[-1]
            if hi.isdigit():
                return int(hi)
    return 1


def _multi_node_scripts(project) -> set:
    out = set()
    commands = getattr(project, "_commands_of", None)
    if commands is None:
        return out
    for d in project.configs:
        base = d.path.rsplit("/", 1)[0] if "/" in d.path else ""
        try:
            cmds = list(commands(d))
        except Exception:  # a malformed document: no launch commands
            continue
        for argv, _line in cmds:
            if _nnodes(argv) > 1:
                for ep in project.entries_from_command(argv, d.kind, d.path, base):
                    out.add(ep.path)
    return out
