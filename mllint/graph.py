"""The project graph (networkx) and the roles computed once from it.

Nodes
  ``mod:<path>``                       a module or notebook
  ``fn:<path>::<qualname>``            a function/method; ``<module>`` is the module's top level,
                                       ``<main>`` its ``if __name__ == "__main__"`` block
  ``cfg:<path>#<index>``               a config document
Edges (attribute ``kind``)
  ``contains`` module -> its scopes; ``imports`` module top level -> imported project module top
  level; ``calls`` scope -> resolved project function; ``runs`` config/entrypoint -> script;
  ``serves`` deploy config -> served module.

Roles: training entrypoints and the scopes they reach; serving request-path roots (handlers) and
what they reach; serving start-up scopes; deploy configs.  Rules read these, never recompute them.
"""
from __future__ import annotations

import os
import re
from bisect import bisect_left
import shlex
from collections import defaultdict, deque
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Iterable, Optional

from mllint.knowledge import canonical, last
from mllint.knowledge import serving as SK
from mllint.knowledge import training as TK
from mllint.summary import MAIN_SCOPE, MODULE_SCOPE, CallInfo, FunctionInfo, ModuleSummary


_TARGET = attrgetter("target")
_EDGE_ATTRS: dict = {}  # attribute items -> the shared attribute dict


_NO_EDGES: dict = {}  # successors of a node without out-edges (never mutated)


class _Graph:
    """The few DiGraph operations the engine needs, over plain dicts (networkx-compatible names).

    A node's attributes are ``None`` when the project derives them (the tens of thousands of scope
    and function nodes: path, scope and line are in the scope id and the function table), and a
    node without out-edges has no successor dict."""

    __slots__ = ("nodes", "_succ")

    def __init__(self):
        self.nodes: dict = {}  # node -> attribute dict, or None (derived: see to_networkx)
        self._succ: dict = {}  # node -> {successor: shared edge attribute dict}

    def add_node(self, n, **attrs) -> None:
        if not attrs:
            self.nodes.setdefault(n, None)
            return
        cur = self.nodes.get(n)
        self.nodes[n] = {**cur, **attrs} if cur else attrs

    def add_edge(self, a, b, **attrs) -> None:
        """Edge attribute dicts are shared between edges with equal attributes (there are tens of
        thousands of edges and a handful of distinct attribute sets): never mutate one in place,
        call ``add_edge`` again to change it."""
        self.nodes.setdefault(a, None)
        self.nodes.setdefault(b, None)
        succ = self._succ.get(a)
        if succ is None:
            succ = self._succ[a] = {}
        cur = succ.get(b)
        merged = {**cur, **attrs} if cur else attrs
        key = tuple(sorted(merged.items()))
        shared = _EDGE_ATTRS.get(key)
        if shared is None:
            shared = _EDGE_ATTRS[key] = merged
        succ[b] = shared

    def has_edge(self, a, b) -> bool:
        return b in self._succ.get(a, _NO_EDGES)

    def __contains__(self, n) -> bool:
        return n in self.nodes

    def out_edges(self, n, data=None):
        for b, attrs in self._succ.get(n, _NO_EDGES).items():
            yield (n, b, attrs.get(data)) if data else (n, b)

    def edges(self, data=None):
        for a, succ in self._succ.items():
            for b, attrs in succ.items():
                yield (a, b, attrs.get(data)) if data else (a, b)

    def to_networkx(self, attrs_of=lambda n: {}):
        """A networkx DiGraph; ``attrs_of(node)`` gives the attributes of nodes stored without."""
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from((n, a if a is not None else attrs_of(n)) for n, a in self.nodes.items())
        g.add_edges_from((a, b, attrs) for a, succ in self._succ.items() for b, attrs in succ.items())
        return g


def reaches(reach: tuple, sid: str) -> bool:
    """Is ``sid`` in a sorted reach tuple (``Project.reach_sorted``)?"""
    i = bisect_left(reach, sid)
    return i < len(reach) and reach[i] == sid


def _file_memo(memos: dict, from_path: Optional[str]) -> dict:
    """The memo of one importing file: resolver memos are nested per file rather than keyed by
    (name, file) tuples, tens of thousands of which a large repository would keep."""
    memo = memos.get(from_path)
    if memo is None:
        memo = memos[from_path] = {}
    return memo


def scope_id(path: str, scope: str) -> str:
    return f"{path}::{scope}"


def split_scope(sid: str) -> tuple:
    path, _, scope = sid.partition("::")
    return path, scope


@dataclass
class Entrypoint:
    kind: str  # main | notebook | script-config | project-script | hydra | docker | ci | dvc | mlproject | shell | serving
    path: str  # the module path
    scopes: list  # root scope ids
    source: str = ""  # where it was declared (config path:line) for config-declared ones
    line: int = 1
    training: bool = False

    @property
    def anchor(self) -> tuple:
        """(path, (line, col, end_line, end_col)) to report repository-level findings at."""
        return self.path, (self.line, 1, self.line, 2)


class Project:
    """Read-only view of a scanned repository for config and project rules."""

    def __init__(self, root: str, results: list, discovery: Any, settings: Any):
        self.root = root
        self.settings = settings
        self.profile = "production"
        self.results = results
        self.inventory: list = list(discovery.inventory) if discovery is not None else []
        self.inventory_set = set(self.inventory)
        # Directories the scan was asked for: relative paths in code are resolved against these too.
        self.tops: list = list(getattr(discovery, "tops", None) or [""])
        self.summaries: dict = {r.path: r.summary for r in results if r.summary is not None}
        self.configs: list = [d for r in results for d in r.docs]
        self.file_results = {r.path: r for r in results}
        self.overlays: dict = {}  # editor buffers that replaced files on disk (set by the engine)
        # Adjacency kept in plain dicts (importing networkx costs ~0.5 s, felt in pre-commit and
        # editors); ``project.graph`` builds the networkx DiGraph on first use.
        self._g = _Graph()
        self._nx = None
        self.modules: dict = defaultdict(list)  # module name -> [paths]
        self._roots: dict = {}  # module name -> the source folder of its only file (module_path)
        self.functions: dict = {}  # scope id -> FunctionInfo (None for <module>/<main>)
        # scope id -> its calls (CallInfo) in source order, a tuple once built; a call's resolved
        # target scope id (or None) is its ``target`` (``calls`` pairs them up)
        self.scope_calls: dict = defaultdict(list)
        self._canon: dict = {}  # scope id -> the one string object for it (filled by _index)
        self._rq_memo: dict = {}  # importing path -> {qualname: scope id or None}
        self._cr_memo: dict = {}  # importing path -> {class qualname: (path, class) or None}
        self.callers: dict = defaultdict(set)  # scope id -> its callers (a sorted tuple once built)
        self.entrypoints: list = []
        self.training_entrypoints: list = []
        self.training_scopes: set = set()  # every scope a training entrypoint reaches
        self.direct_training_scopes: frozenset = frozenset()
        self.request_roots: list = []  # scope ids of request handlers
        self.request_scopes: set = set()
        self.startup_scopes: set = set()
        self.cached_scopes: set = set()
        self.serving_modules: set = set()
        self.deploy_configs: list = []
        self.frameworks: set = set()

    @property
    def graph(self):
        """The project graph as a networkx DiGraph (built on first use)."""
        if self._nx is None:
            self._nx = self._g.to_networkx(self._node_attrs)
        return self._nx

    def _node_attrs(self, n: str) -> dict:
        """Attributes of a scope or function node, derived rather than stored per node."""
        if n not in self.functions:
            return {}
        path, scope = split_scope(n)
        fn = self.functions[n]
        if fn is None:
            return {"kind": "scope", "path": path, "scope": scope}
        return {"kind": "function", "path": path, "scope": scope, "line": fn.line}

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, root: str, results: list, discovery: Any, settings: Any) -> "Project":
        p = cls(root, results, discovery, settings)
        p._index()
        p._resolve_calls()
        p._find_entrypoints()
        p._compute_roles()
        return p

    def _index(self) -> None:
        g = self._g
        for path, s in self.summaries.items():
            if s.kind != "notebook":  # a notebook cannot be imported
                self.modules[s.module].append(path)
            g.add_node(f"mod:{path}", kind="module", path=path, module=s.module, notebook=s.kind == "notebook")
            for scope in (MODULE_SCOPE, MAIN_SCOPE) if s.main_line else (MODULE_SCOPE,):
                sid = scope_id(path, scope)
                self.functions[sid] = None
                g.add_node(sid)  # attributes derived: _node_attrs
                g.add_edge(f"mod:{path}", sid, kind="contains")
            for q, fn in s.functions.items():
                sid = scope_id(path, q)
                self.functions[sid] = fn
                g.add_node(sid)
                g.add_edge(f"mod:{path}", sid, kind="contains")
            for imp in s.imports:
                root_mod = imp.module.split(".")[0] if imp.module else ""
                if root_mod:
                    self.frameworks.add(root_mod)
        self._canon = {sid: sid for sid in self.functions}
        for d in self.configs:
            g.add_node(f"cfg:{d.path}#{d.index}", kind="config", path=d.path, config_kind=d.kind, subkind=d.subkind)

    # -- module resolution -------------------------------------------------------
    def module_path(self, name: str, from_path: Optional[str] = None) -> Optional[str]:
        paths = self.modules.get(name)
        if paths and len(paths) == 1:
            p = paths[0]
            if from_path is None:
                return p
            root = self._roots.get(name)
            if root is None:
                root = self._roots[name] = _source_root(p, name)
            if from_path.startswith(root):
                return p
            # the only module of that name lies in another subtree (a monorepo of projects, each
            # run from its own folder): a module of that name beside the importer or in one of its
            # folders is the one its script finds first on ``sys.path``
            key = (name, from_path.rsplit("/", 1)[0] if "/" in from_path else "")
            cache = self.__dict__.setdefault("_near_cache", {})
            hit = cache.get(key)
            if hit is None:
                hit = cache[key] = self._nearest_module(name, from_path) or p
            return hit
        # only an ambiguous name depends on where it is imported from
        key = (name, from_path) if paths else name
        cache = self.__dict__.setdefault("_mp_cache", {})
        if key not in cache:
            cache[key] = self._module_path(name, from_path)
        return cache[key]

    def _nearest_module(self, name: str, from_path: str) -> Optional[str]:
        """``name`` as a module file in the importer's folder or one of its ancestors, nearest first."""
        rel = name.replace(".", "/")
        parts = from_path.split("/")[:-1]
        for k in range(len(parts), -1, -1):
            base = "/".join(parts[:k])
            for cand in (f"{rel}.py", f"{rel}/__init__.py"):
                full = f"{base}/{cand}" if base else cand
                if full in self.summaries:
                    return full
        return None

    def _module_path(self, name: str, from_path: Optional[str] = None) -> Optional[str]:
        paths = self.modules.get(name)
        if not paths:
            # namespace packages / script directories: ``serve.app`` -> serve/app.py under a scanned dir
            rel = name.replace(".", "/")
            for top in self.tops:
                for cand in (f"{rel}.py", f"{rel}/__init__.py"):
                    full = f"{top}/{cand}" if top else cand
                    if full in self.summaries:
                        return full
            return None
        if len(paths) == 1:
            return paths[0]
        if from_path:
            here = from_path.rsplit("/", 1)[0] if "/" in from_path else ""
            for p in paths:
                there = p.rsplit("/", 1)[0] if "/" in p else ""
                if there == here:
                    return p
            # monorepo of services with the same package names: the one whose source root holds the importer
            rel = name.replace(".", "/")
            owners = []
            for p in paths:
                for tail in (f"{rel}.py", f"{rel}/__init__.py", f"{rel}.ipynb"):
                    if p == tail or p.endswith("/" + tail):
                        root = p[: len(p) - len(tail)]
                        if from_path.startswith(root):
                            owners.append(p)
            if len(owners) == 1:
                return owners[0]
        return None  # ambiguous: never guess

    def resolve_qualname(self, qualname: str, from_path: Optional[str] = None, depth: int = 0) -> Optional[str]:
        """A dotted name -> scope id of a project function/class-init, following re-exports
        (memoised per name and importing file: a module calls the same names many times)."""
        if depth == 0:
            memo = _file_memo(self._rq_memo, from_path)
            if qualname in memo:
                return memo[qualname]
            out = self._resolve_qualname(qualname, from_path, 0)
            if out is not None:
                out = self._canon.get(out, out)
            memo[qualname] = out
            return out
        return self._resolve_qualname(qualname, from_path, depth)

    def _notebook_own(self, qualname: str, from_path: Optional[str]) -> Optional[tuple]:
        """(summary, name) when ``qualname`` is a notebook's own top-level definition as its walk
        names it (``<notebook module>.train``): a notebook is not importable, so ``module_path``
        does not know its name."""
        s = self.summaries.get(from_path) if from_path else None
        if s is None or s.kind != "notebook" or not qualname.startswith(s.module + "."):
            return None
        return s, qualname[len(s.module) + 1:]

    def _resolve_qualname(self, qualname: str, from_path: Optional[str], depth: int) -> Optional[str]:
        if not qualname or depth > 6:
            return None
        own = self._notebook_own(qualname, from_path)
        if own is not None:
            nb, rest = own
            if rest in nb.functions:
                return scope_id(from_path, rest)
            init = f"{rest}.__init__"
            if rest in nb.classes and init in nb.functions:
                return scope_id(from_path, init)
        parts = qualname.split(".")
        for i in range(len(parts) - 1, 0, -1):
            mod = ".".join(parts[:i])
            path = self.module_path(mod, from_path)
            if path is None:
                continue
            rest = ".".join(parts[i:])
            s = self.summaries[path]
            if rest in s.functions:
                return scope_id(path, rest)
            if rest in s.classes:
                init = f"{rest}.__init__"
                return scope_id(path, init) if init in s.functions else None
            head = parts[i]
            if head in s.aliases:  # re-export: ``from .utils import seed_everything`` in __init__
                target = s.aliases[head] + ("." + ".".join(parts[i + 1:]) if len(parts) > i + 1 else "")
                if target != qualname:
                    return self.resolve_qualname(target, path, depth + 1)
            return None
        return None

    def _class_method(self, path: str, class_q: str, method: str, depth: int = 0) -> Optional[str]:
        s = self.summaries.get(path)
        if s is None or depth > 5:
            return None
        q = f"{class_q}.{method}"
        if q in s.functions:
            return scope_id(path, q)
        ci = s.classes.get(class_q)
        if ci is None:
            return None
        for base in ci.bases:
            tgt = self._class_ref(base, path)
            if tgt:
                r = self._class_method(tgt[0], tgt[1], method, depth + 1)
                if r:
                    return r
        return None

    def _class_ref(self, qualname: str, from_path: str, depth: int = 0) -> Optional[tuple]:
        """A dotted class name -> (path, class qualname) in the project (memoised per name and file)."""
        if depth == 0:
            memo = _file_memo(self._cr_memo, from_path)
            if qualname in memo:
                return memo[qualname]
            out = memo[qualname] = self._class_ref_uncached(qualname, from_path, 0)
            return out
        return self._class_ref_uncached(qualname, from_path, depth)

    def _class_ref_uncached(self, qualname: str, from_path: str, depth: int) -> Optional[tuple]:
        if not qualname or depth > 8:  # re-export cycles (a.X -> b.X -> a.X) end here
            return None
        own = self._notebook_own(qualname, from_path)
        if own is not None and own[1] in own[0].classes:
            return from_path, own[1]
        parts = qualname.split(".")
        for i in range(len(parts) - 1, 0, -1):
            path = self.module_path(".".join(parts[:i]), from_path)
            if path is None:
                continue
            rest = ".".join(parts[i:])
            if rest in self.summaries[path].classes:
                return path, rest
            head = parts[i]
            s = self.summaries[path]
            if head in s.aliases:
                target = s.aliases[head] + "".join("." + x for x in parts[i + 1:])
                return None if target == qualname else self._class_ref(target, path, depth + 1)
            return None
        return None

    def resolve_call(self, path: str, call: CallInfo) -> Optional[str]:
        s = self.summaries[path]
        if call.qualname:
            tgt = self.resolve_qualname(call.qualname, path)
            if tgt:
                return tgt
        if call.attr and call.receiver in ("self", "cls"):
            cls_q = _class_of_scope(s, call.scope)
            if cls_q:
                return self._class_method(path, cls_q, call.attr)
        if call.attr and call.receiver_type:
            ref = self._class_ref(call.receiver_type, path)
            if ref:
                return self._class_method(ref[0], ref[1], call.attr)
        if not call.attr and not call.qualname and call.receiver and "." not in call.receiver:
            # a function defined inside an enclosing function: ``def main(): def step(): ...; step()``
            scope = call.scope
            while scope not in ("<module>", "<main>"):
                q = f"{scope}.<locals>.{call.receiver}"
                if q in s.functions:
                    return scope_id(path, q)
                if ".<locals>." not in scope:
                    break
                scope = scope.rsplit(".<locals>.", 1)[0]
        return None

    def _resolve_calls(self) -> None:
        g = self._g
        # One string object per scope id: the ids made while resolving (per call, per importing
        # file) are replaced by the key ``_index`` stored, so edges, caller sets and call tables
        # share it (diffusers: 120 k strings -> 35 k).
        canon = self._canon
        for path, s in self.summaries.items():
            srcs: dict = {}
            for c in s.calls:
                src = srcs.get(c.scope)
                if src is None:
                    src = scope_id(path, c.scope)
                    src = srcs[c.scope] = canon.setdefault(src, src)
                tgt = self.resolve_call(path, c)
                if tgt is not None:
                    tgt = canon.setdefault(tgt, tgt)
                c.target = tgt  # set on every build (an editor session builds projects again)
                self.scope_calls[src].append(c)
                if tgt and tgt in self.functions:
                    lazy = is_lazy_call(c)
                    if not g.has_edge(src, tgt):
                        g.add_edge(src, tgt, kind="calls", lazy=lazy)
                    elif not lazy:
                        g.add_edge(src, tgt, lazy=False)  # one eager call makes the edge eager
                    self.callers[tgt].add(src)
            # import edges: importing a module runs its top level
            for imp in s.imports:
                names = [imp.module] + ([f"{imp.module}.{imp.name}"] if imp.name and imp.name != "*" else [])
                for n in names:
                    mp = self.module_path(n, path)
                    if mp and mp != path:
                        a, b = scope_id(path, MODULE_SCOPE), scope_id(mp, MODULE_SCOPE)
                        g.add_edge(canon.get(a, a), canon.get(b, b), kind="imports")
                        break
            # (no edge <module> -> <main>: importing a module does not run its main block; an
            # entrypoint lists both as roots)
        # read-only from here: exact-size tuples, callers in a stable order
        self.scope_calls = {sid: tuple(calls) for sid, calls in self.scope_calls.items()}
        self.callers = {sid: tuple(sorted(callers)) for sid, callers in self.callers.items()}

    # -- entrypoints ------------------------------------------------------------
    def _script_entry(self, script: str, kind: str, source: str, base_dir: str = "") -> Optional[Entrypoint]:
        candidates = []
        script = script.strip().strip("'\"")
        if script.startswith("./"):
            script = script[2:]
        if base_dir:
            candidates.append(os.path.normpath(os.path.join(base_dir, script)).replace(os.sep, "/"))
        candidates.append(os.path.normpath(script).replace(os.sep, "/"))
        for c in candidates:
            if c in self.summaries:
                return Entrypoint(kind, c, self._roots_of(c), source, self._entry_line(c))
        return None

    def _module_entry(self, module: str, kind: str, source: str, attr: str = "") -> Optional[Entrypoint]:
        path = self.module_path(module)
        if path is None:
            path = self.module_path(module + ".__main__")
        if path is None:
            return None
        return Entrypoint(kind, path, self._roots_of(path), source, self._entry_line(path, attr))

    def _entry_line(self, path: str, attr: str = "") -> int:
        """The line of a module that a command runs: the object a server is pointed at
        (``uvicorn app:app``: where ``app`` is made; an app factory's ``def``), else its main
        block, else its first line.  The command's own line is the declaring config's
        (``Entrypoint.source``), not the module's."""
        s = self.summaries[path]
        if attr:
            fn = s.functions.get(attr)
            if fn is not None:
                return fn.line
            for c in s.calls:
                if c.assigned_to == attr and c.scope == MODULE_SCOPE:
                    return c.line
        return s.main_line or 1

    def _roots_of(self, path: str) -> list:
        s = self.summaries[path]
        roots = [scope_id(path, MODULE_SCOPE)]
        if s.main_line:
            roots.append(scope_id(path, MAIN_SCOPE))
        return roots

    def entries_from_command(self, argv: list, kind: str, source: str, base_dir: str = "") -> list:
        """``python x.py``, ``python -m pkg.mod``, ``uvicorn app:app``... -> entrypoints."""
        out = []
        i = 0
        while i < len(argv):
            tok = argv[i]
            exe = tok.rsplit("/", 1)[-1]
            if (exe.startswith("python") and _PYTHON_EXE.match(exe)) or exe in _LAUNCHERS:
                j = i + 1
                while j < len(argv):
                    a = argv[j]
                    if a == "-m" and j + 1 < len(argv):
                        mod = argv[j + 1]
                        if mod in ("torch.distributed.run", "torch.distributed.launch"):
                            j += 2
                            continue
                        ep = self._module_entry(mod, kind, source)
                        if ep:
                            out.append(ep)
                        return out
                    if a.endswith(".py"):
                        ep = self._script_entry(a, kind, source, base_dir)
                        if ep:
                            out.append(ep)
                        return out
                    if a in ("run", "launch") or a.startswith("-"):
                        j += 1
                        continue
                    j += 1
                return out
            if exe in ("uvicorn", "gunicorn", "hypercorn", "daphne", "granian"):
                for a in argv[i + 1:]:
                    if ":" in a and not a.startswith("-") and "=" not in a:
                        mod, _, attr = a.partition(":")
                        ep = self._module_entry(mod, "serving", source, attr.split("(", 1)[0].strip())
                        if ep:
                            out.append(ep)
                        break
                return out
            if tok.endswith(".py") and i == 0:
                ep = self._script_entry(tok, kind, source, base_dir)
                if ep:
                    out.append(ep)
                return out
            i += 1
        return out

    def _find_entrypoints(self) -> None:
        eps: list = []
        for path, s in self.summaries.items():
            if s.kind == "notebook":
                eps.append(Entrypoint("notebook", path, [scope_id(path, MODULE_SCOPE)], line=1))
            elif s.main_line:
                eps.append(Entrypoint("main", path, self._roots_of(path), line=s.main_line))
            for q, fn in s.functions.items():
                for d in fn.decorators:
                    if canonical(d.qualname) in ("hydra.main",):
                        eps.append(Entrypoint("hydra", path, [scope_id(path, q)], line=fn.line))
        for d in self.configs:
            base = d.path.rsplit("/", 1)[0] if "/" in d.path else ""
            for argv, line in self._commands_of(d):
                for ep in self.entries_from_command(argv, d.kind, f"{d.path}:{line}", base):
                    eps.append(ep)
                    self._g.add_edge(f"cfg:{d.path}#{d.index}", f"mod:{ep.path}", kind="runs")
            if d.kind == "pyproject":
                scripts = ((d.data.get("project") or {}).get("scripts") or {}) if isinstance(d.data, dict) else {}
                for name, target in scripts.items() if isinstance(scripts, dict) else []:
                    if isinstance(target, str) and ":" in target:
                        mod, func = target.split(":", 1)
                        path = self.module_path(mod)
                        if path and func in self.summaries[path].functions:
                            eps.append(Entrypoint("project-script", path, [scope_id(path, func)], f"{d.path}",
                                                  self.summaries[path].functions[func].line))
        # Pipeline steps declared in Python with a plain script path: SageMaker estimators and
        # processors (``entry_point=``/``code=``), Vertex custom jobs (``script_path=``), Airflow
        # ``BashOperator(bash_command="python x.py")``, Kubeflow/Argo container commands.
        for path, s in self.summaries.items():
            base = path.rsplit("/", 1)[0] if "/" in path else ""
            for c in s.calls:
                if _STEP_KWARGS.isdisjoint(c.kwargs.keys()):
                    continue  # (most calls: tested once instead of key by key)
                for key in _STEP_SCRIPT_KWARGS:
                    v = c.kwargs.get(key)
                    if v is not None and v.kind == "const" and isinstance(v.value, str) and v.value.endswith(".py"):
                        src_dir = c.kwargs.get("source_dir")
                        sd = src_dir.value if src_dir is not None and src_dir.kind == "const" and isinstance(src_dir.value, str) else ""
                        script = f"{sd.rstrip('/')}/{v.value}" if sd else v.value
                        ep = self._script_entry(script, "pipeline-step", f"{path}:{c.line}", base) or \
                            self._script_entry(script, "pipeline-step", f"{path}:{c.line}", "")
                        if ep:
                            eps.append(ep)
                for key in _STEP_COMMAND_KWARGS:
                    v = c.kwargs.get(key)
                    if v is None:
                        continue
                    if v.kind == "const" and isinstance(v.value, str):
                        for argv, _ in _split_cmd(v.value, c.line):
                            eps.extend(self.entries_from_command(argv, "pipeline-step", f"{path}:{c.line}", ""))
                    elif v.kind == "list" and all(x.kind == "const" and isinstance(x.value, str) for x in v.value):
                        eps.extend(self.entries_from_command([x.value for x in v.value], "pipeline-step",
                                                             f"{path}:{c.line}", ""))
        # Scripts without a main guard (``python train.py`` running top-level code, e.g. nanoGPT):
        # a module that trains at its top level and that no other project module imports.
        imported = {b.split("::", 1)[0] for a, b, k in self._g.edges(data="kind") if k == "imports"}
        for path, s in self.summaries.items():
            if s.kind != "python" or s.main_line or path in imported or s.is_package:
                continue
            if any(c.scope == MODULE_SCOPE and TK.is_training_call(c) for c in s.calls) or any(
                    c.scope == MODULE_SCOPE and self.resolve_call(path, c) and
                    any(TK.is_training_call(x) for x in self.scope_calls.get(self.resolve_call(path, c), ()))
                    for c in s.calls):
                eps.append(Entrypoint("script", path, [scope_id(path, MODULE_SCOPE)], line=1))
        # dedupe by (path, kind-agnostic roots)
        seen = {}
        for ep in eps:
            key = (ep.path, tuple(ep.scopes))
            if key not in seen:
                seen[key] = ep
        self.entrypoints = list(seen.values())

    def _commands_of(self, d) -> Iterable:
        """(argv, line) for every command a config runs."""
        data = d.data
        if d.kind == "dvc" and isinstance(data, dict):
            stages = data.get("stages") or {}
            for name, st in (stages.items() if isinstance(stages, dict) else []):
                if isinstance(st, dict):
                    cmds = st.get("cmd")
                    for cmd in (cmds if isinstance(cmds, list) else [cmds]):
                        if isinstance(cmd, str):
                            yield from _split_cmd(cmd, st.line_of("cmd") if hasattr(st, "line_of") else 1)
        elif d.kind == "mlproject" and isinstance(data, dict):
            eps = data.get("entry_points") or {}
            for name, ep in (eps.items() if isinstance(eps, dict) else []):
                cmd = ep.get("command") if isinstance(ep, dict) else None
                if isinstance(cmd, str):
                    yield from _split_cmd(re.sub(r"\{[^}]*\}", "X", cmd), ep.line_of("command"))
        elif d.kind == "dockerfile":
            for ins in data.of("CMD") + data.of("ENTRYPOINT") + data.of("RUN"):
                args = ins.args.strip()
                if args.startswith("["):
                    try:
                        import json

                        argv = json.loads(args)
                        if isinstance(argv, list):
                            yield [str(a) for a in argv], ins.line
                            continue
                    except ValueError:
                        pass
                if ins.keyword != "RUN":
                    yield from _split_cmd(args, ins.line)
        elif d.kind == "shell":
            yield from zip(data.argvs, data.lines)
        elif d.kind == "github-workflow" and isinstance(data, dict):
            for job in (data.get("jobs") or {}).values() if isinstance(data.get("jobs"), dict) else []:
                if not isinstance(job, dict):
                    continue
                for st in job.get("steps") or []:
                    if isinstance(st, dict) and isinstance(st.get("run"), str):
                        yield from _split_cmd(st["run"], st.value_line("run", st.line))
        elif d.kind == "gitlab-ci" and isinstance(data, dict):
            for name, job in data.items():
                if isinstance(job, dict):
                    for key in ("script", "before_script"):
                        lines = job.get(key)
                        if isinstance(lines, list):
                            for i, l in enumerate(lines):
                                if isinstance(l, str):
                                    yield from _split_cmd(l, lines.line_of(i))

    # -- roles ------------------------------------------------------------------
    def reachable(self, roots: Iterable[str], *, through_imports: bool = True) -> set:
        """Scope ids reachable from ``roots`` (memoised; a fresh set is returned)."""
        return set(self.reach_sorted(tuple(roots), through_imports))

    def reach_sorted(self, roots: tuple, through_imports: bool = True) -> tuple:
        """The reachable scope ids as a sorted tuple, memoised per roots.  A tuple, not a set: the
        reaches of a large repository's training entrypoints are hundreds of sets of a thousand
        ids each (diffusers: 15 MB as frozensets, 4 MB as tuples); a set is built from it when
        asked for, which costs a fraction of the walk.  ``reaches(reach, sid)`` tests membership."""
        key = (roots, through_imports)
        cache = self.__dict__.setdefault("_reach_memo", {})
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = tuple(sorted(self._reachable(roots, through_imports)))
        return hit

    def _reachable(self, roots, through_imports: bool) -> set:
        succ = self._g._succ.get
        nodes = self._g.nodes
        kinds = ("calls", "imports", "runs") if through_imports else ("calls", "runs")
        seen = set(r for r in roots if r in nodes)
        stack = list(seen)
        pop, push, add = stack.pop, stack.append, seen.add
        while stack:
            for m, attrs in succ(pop(), _NO_EDGES).items():
                if m not in seen and attrs.get("kind") in kinds:
                    add(m)
                    push(m)
        return seen

    def _request_reach(self, roots, cached: set) -> set:
        """What runs per request: call edges from the handlers, not expanding through cached
        functions (``lru_cache``, guarded singletons) or lazily guarded calls (``if x is None:``,
        ``if key not in cache:``), whose callees run once."""
        g = self._g
        seen = set(r for r in roots if r in g)
        q = deque(seen)
        while q:
            n = q.popleft()
            if n in cached and n not in roots:
                continue
            for m, attrs in g._succ.get(n, _NO_EDGES).items():
                if attrs.get("kind") == "calls" and not attrs.get("lazy") and m not in seen:
                    seen.add(m)
                    q.append(m)
        return seen

    def _compute_roles(self) -> None:
        # training: entrypoints whose reachable code trains
        train_scopes_direct = set()
        preprocessing: dict = {}
        for path, s in self.summaries.items():
            for c in s.calls:
                # ``processor.fit(texts)`` of a project class whose code only fits preprocessing (a
                # tokenizer, a scaler) is no training; one whose code the analysis cannot judge (a
                # TF1 session loop) still counts, by its name
                if TK.is_training_call(c) and not (c.target is not None and
                                                   self._fits_preprocessing_only(c.target, preprocessing)):
                    train_scopes_direct.add(scope_id(path, c.scope))
        self.direct_training_scopes = frozenset(train_scopes_direct)  # scopes that make a training call
        for ep in self.entrypoints:
            if ep.kind == "serving":
                continue
            reach = self.reachable(ep.scopes)
            if reach & train_scopes_direct:
                ep.training = True
                self.training_entrypoints.append(ep)
                self.training_scopes |= reach
        # serving: handlers
        roots, startup, cached = set(), set(), set()
        for path, s in self.summaries.items():
            app_vars = self._app_vars(s)
            lifespans = self._lifespan_names(s)
            is_script_serving = any(f in s.functions for f in SK.SCRIPT_HANDLER_FUNCTIONS) and (
                "model_fn" in s.functions or "predict_fn" in s.functions or "input_fn" in s.functions)
            for q, fn in s.functions.items():
                sid = scope_id(path, q)
                kind = self._handler_kind(s, fn, app_vars)
                if kind == "request":
                    roots.add(sid)
                elif kind == "startup":
                    startup.add(sid)
                if fn.name in lifespans and fn.class_name is None:
                    startup.add(sid)
                if any(canonical(d.qualname) in SK.CACHE_DECORATORS or last(d.dotted) in ("lru_cache", "cache",
                                                                                          "cached_property")
                       for d in fn.decorators):
                    cached.add(sid)
                if fn.globals_written and fn.class_name is None and self._is_guarded_singleton(s, fn):
                    cached.add(sid)
                if is_script_serving and fn.class_name is None and "." not in q:
                    if fn.name in SK.SCRIPT_HANDLER_FUNCTIONS:
                        roots.add(sid)
                    elif fn.name in SK.SCRIPT_STARTUP_FUNCTIONS:
                        startup.add(sid)
                if fn.class_name is None and "." not in q and fn.name in ("handler", "lambda_handler") and \
                        [p for p, _ in fn.params][:2] == ["event", "context"]:
                    roots.add(sid)
            # handlers registered by a call (add_api_route, add_url_rule, aiohttp add_post / web.post)
            for c in s.calls:
                h = SK.registered_handler(c)
                if h and h in s.functions and s.functions[h].class_name is None:
                    roots.add(scope_id(path, h))
            # classes served by framework base classes / decorators
            for cq, ci in s.classes.items():
                req, st = self._serving_class_methods(s, path, ci)
                for m in ci.methods:
                    sid = scope_id(path, f"{cq}.{m}")
                    if m in req:
                        roots.add(sid)
                    elif m in st:
                        startup.add(sid)
        self.request_roots = sorted(roots)
        self.cached_scopes = cached
        request = self._request_reach(roots, cached)
        self.serving_modules = {split_scope(r)[0] for r in roots}
        # the start-up path: serving modules' top level (and what it imports/calls), start-up hooks
        startup_roots = set(startup) | {scope_id(p, MODULE_SCOPE) for p in self.serving_modules
                                        if self.summaries[p].kind != "notebook"}
        startup_reach = self.reachable(startup_roots)
        # a cached loader (lru_cache, guarded singleton) runs once, at the first call: start-up
        # code when serving code reaches it, and nothing to do with serving in an offline script
        served = startup_reach | (self.reachable(roots) if roots else set())
        self.startup_scopes = startup_reach | {c for c in cached if c in served}
        self.request_scopes = request
        for ep in self.entrypoints:
            if ep.kind == "serving":
                self.serving_modules.add(ep.path)
        self.deploy_configs = [d for d in self.configs if self._is_deploy_config(d)]
        for d in self.deploy_configs:
            self._g.add_node(f"cfg:{d.path}#{d.index}", deploy=True)

    def _fits_preprocessing_only(self, sid: str, memo: dict) -> bool:
        """Does the project function ``sid`` (with what it calls) fit preprocessing (a
        tokenizer, a scaler, an encoder) and nothing that trains?"""
        hit = memo.get(sid)
        if hit is None:
            from mllint.knowledge import data as DK

            pre = False
            for scope in self.reachable([sid], through_imports=False):
                for c in self.scope_calls.get(scope, ()):
                    if c.target is not None:
                        continue
                    if c.attr in DK.FIT_METHODS and (c.attr in ("fit_on_texts", "fit_on_sequences", "adapt") or
                                                     canonical(c.receiver_type) in DK.FITTABLE_PREPROCESSORS):
                        pre = True
                    elif TK.is_training_call(c):
                        memo[sid] = False
                        return False
            hit = memo[sid] = pre
        return hit

    def _app_vars(self, s: ModuleSummary) -> dict:
        """Module/global names bound to web app/router objects -> their type."""
        out = {}
        for scope, types in s.var_types.items():
            for name, t in types.items():
                ct = canonical(t)
                if ct.startswith(SK.APP_TYPES):
                    out[name] = ct
        return out

    def _lifespan_names(self, s: ModuleSummary) -> set:
        names = set()
        for c in s.calls:
            if c.qualname and canonical(c.qualname).startswith(SK.APP_TYPES):
                v = c.kwargs.get("lifespan")
                if v is not None and v.kind == "name":
                    names.add(v.value.split(".")[-1])
            if c.attr in ("add_event_handler",) and c.args and c.args[-1].kind == "name":
                names.add(c.args[-1].value.split(".")[-1])
        return names

    def _handler_kind(self, s: ModuleSummary, fn: FunctionInfo, app_vars: dict) -> Optional[str]:
        for d in fn.decorators:
            q = canonical(d.qualname)
            dotted = d.dotted
            head, _, meth = dotted.rpartition(".")
            if q in SK.HANDLER_DECORATORS:
                return "request"
            if meth in SK.LIFESPAN_DECORATOR_METHODS and (head in app_vars or (d.receiver_type or "").startswith(SK.APP_TYPES)):
                if d.args and d.args[0].kind == "const" and d.args[0].value == "shutdown":
                    return None
                return "startup"
            if meth in SK.ROUTE_DECORATOR_METHODS and (head in app_vars or canonical(d.receiver_type or "").startswith(SK.APP_TYPES)):
                return "request"
            if meth in SK.ROUTE_DECORATOR_METHODS and head and head.split(".")[-1] in ("app", "router", "api", "bp",
                                                                                       "blueprint", "svc", "routes"):
                # ``@app.post`` where ``app`` comes from another module: a route by convention
                return "request"
        return None

    def _serving_class_methods(self, s: ModuleSummary, path: str, ci, depth: int = 0) -> tuple:
        req, st = set(), set()
        for b in ci.bases:
            cb = canonical(b)
            if cb in SK.SERVING_BASES:
                r, u = SK.SERVING_BASES[cb]
                req |= r
                st |= u
            else:
                ref = self._class_ref(b, path)
                if ref and depth < 5:
                    r, u = self._serving_class_methods(self.summaries[ref[0]], ref[0],
                                                       self.summaries[ref[0]].classes[ref[1]], depth + 1)
                    req |= r
                    st |= u
        for d in ci.decorators:
            cd = canonical(d)
            if cd in SK.SERVING_CLASS_DECORATORS:
                r, u = SK.SERVING_CLASS_DECORATORS[cd]
                req |= r
                st |= u
        if ci.name in SK.NAMED_SERVING_CLASSES and not ci.bases:
            r, u = SK.NAMED_SERVING_CLASSES[ci.name]
            req |= r
            st |= u
        return req, st

    def _is_guarded_singleton(self, s: ModuleSummary, fn: FunctionInfo) -> bool:
        # ``global _model; if _model is None: _model = load()``
        sid_calls = [c for c in s.calls if c.scope == fn.qualname]
        return any(c.guards and any("None" in g and ("Is" in g or "Eq" in g or "Not" in g) for g in c.guards)
                   for c in sid_calls) or not sid_calls

    def _is_deploy_config(self, d) -> bool:
        if d.kind == "k8s":
            return d.subkind in ("Deployment", "StatefulSet", "InferenceService", "SeldonDeployment", "Rollout",
                                 "Canary", "HorizontalPodAutoscaler", "ScaledObject", "ServingRuntime",
                                 "RayService", "VirtualService", "PrometheusRule", "Service", "Ingress")
        if d.kind == "cloudformation":
            from mllint.knowledge.deploy import workspace_template

            return not workspace_template(d.data)
        return False

    # ------------------------------------------------------------------ seeds
    def seed_trace(self, ep: Entrypoint) -> list:
        """Seed setters and randomness consumers in execution order from an entrypoint."""
        cache = self.__dict__.setdefault("_seed_traces", {})
        key = (ep.path, tuple(ep.scopes))
        if key not in cache:
            cache[key] = _project_seed_trace(self, ep)
        return cache[key]

    def unseeded_consumers(self, ep: Entrypoint) -> dict:
        """framework -> first randomness consumer reached before any seed for that framework, when
        training (a recognised training call) comes at or after it: a draw after the last training
        step (picking an example to display) changes no model."""
        trace = self.seed_trace(ep)
        first = _unseeded(trace)
        last_train = max((i for i, e in enumerate(trace) if e.kind == "train"), default=-1)
        if last_train < 0:
            return first  # no training call the analysis recognises: it cannot tell what comes after
        order = {id(e): i for i, e in enumerate(trace)}
        return {fw: e for fw, e in first.items() if order[id(e)] < last_train}

    def seeded_frameworks(self, ep: Entrypoint) -> frozenset:
        """Frameworks seeded anywhere reachable from the entrypoint (order-insensitive)."""
        out: set = set()
        for e in self.seed_trace(ep):
            if e.kind == "seed":
                out |= e.frameworks
        return frozenset(out)

    def entrypoints_reaching(self, path: str, scope: str, training: bool = True) -> list:
        """Training entrypoints (every entrypoint, with ``training=False``) whose reachable code
        includes this scope."""
        sid = scope_id(path, scope)
        eps = self.training_entrypoints if training else self.entrypoints
        return [ep for ep in eps if reaches(self.reach_sorted(tuple(ep.scopes)), sid)]

    # ------------------------------------------------------------------ queries
    @property
    def own_distributions(self) -> frozenset:
        """Normalised names of the distributions this repository builds: ``[project]`` or
        ``[tool.poetry]`` ``name`` of a pyproject.toml, ``name=`` of a setup.py's ``setup()`` (a
        literal, a module constant, or the default of ``os.environ.get``/``os.getenv``), and
        ``[metadata] name`` of a setup.cfg."""
        names = self.__dict__.get("_own_distributions")
        if names is not None:
            return names
        from mllint.sources.config import normalise_name

        found = set()
        for d in self.configs:
            if d.kind == "pyproject" and isinstance(d.data, dict):
                tool = d.data.get("tool")
                for table in (d.data.get("project"), tool.get("poetry") if isinstance(tool, dict) else None):
                    if isinstance(table, dict) and isinstance(table.get("name"), str):
                        found.add(table["name"])
        for path, s in self.summaries.items():
            if path.rsplit("/", 1)[-1] != "setup.py":
                continue
            for c in s.calls:
                if canonical(c.qualname) not in ("setuptools.setup", "distutils.core.setup"):
                    continue
                v = c.kwargs.get("name")
                if v is not None and v.kind == "name":
                    const = s.constants.get(v.value)
                    v = const if const is not None and const.kind == "const" else _env_default(s, v.value)
                if v is not None and v.kind == "const" and isinstance(v.value, str):
                    found.add(v.value)
        for path in self.inventory:
            if path.rsplit("/", 1)[-1] == "setup.cfg":
                found.update(_setup_cfg_name(os.path.join(self.root, path)))
        names = self.__dict__["_own_distributions"] = frozenset(normalise_name(n) for n in found if n.strip())
        return names

    @property
    def has_training(self) -> bool:
        return bool(self.training_entrypoints)

    @property
    def is_example_collection(self) -> bool:
        """The scanned repository's folder is named as a collection of examples or tutorials
        (``pytorch-examples``, ``vertex-ai-samples``): its services and manifests are demos, not
        a production system."""
        from mllint.knowledge.packages import is_collection_name

        return is_collection_name(os.path.basename(os.path.normpath(self.root or "")))

    @property
    def has_serving(self) -> bool:
        return bool(self.request_roots) or bool(self.serving_modules)

    @property
    def has_deploy(self) -> bool:
        return bool(self.deploy_configs)

    def calls(self, sid: str):
        """``(CallInfo, resolved target scope id or None)`` for the calls made directly in a scope,
        in source order (an iterator: the pairs are made on demand, not stored)."""
        calls = self.scope_calls.get(sid)
        if not calls:
            return iter(())
        return zip(calls, map(_TARGET, calls))

    def function(self, sid: str) -> Optional[FunctionInfo]:
        return self.functions.get(sid)

    def analysed_text(self, path: str) -> Optional[str]:
        """The text the walk analysed for a code file (the virtual module of a notebook), read again
        for analyses that only a few modules need (the serving data flow of request-path
        functions).  None when the file changed since it was summarised or cannot be read: callers
        then stay silent."""
        from mllint.sources import Unreadable, decode

        fr = self.file_results.get(path)
        if fr is None or fr.summary is None:
            return None
        data = self._reread(fr)
        if data is None:
            return None
        try:
            if fr.kind == "notebook":
                from mllint.sources.notebook import load_notebook

                return load_notebook(path, data).text
            return decode(data)
        except (Unreadable, ValueError):
            return None

    def doc_text(self, doc) -> Optional[str]:
        """A config document's text.  Markdown documents come from workers and the cache without
        it (see ``ConfigDocument.__getstate__``): it is read again, and None when the file changed
        since it was analysed or cannot be read."""
        if doc.text is not None:
            return doc.text
        fr = self.file_results.get(doc.path)
        data = self._reread(fr) if fr is not None else None
        if data is None:
            return None
        from mllint.sources import decode_text

        try:
            return decode_text(data)
        except Exception:  # Unreadable
            return None

    def _reread(self, fr) -> Optional[bytes]:
        """A file's bytes as analysed (editor buffer or disk), or None if its digest changed."""
        from mllint._hash import blake2b

        try:
            if fr.path in self.overlays:
                data = self.overlays[fr.path].encode("utf-8")
            else:
                from mllint.engine import read_bytes

                data = read_bytes(os.path.join(self.root, fr.path))
        except Exception:  # Unreadable, OSError
            return None
        if fr.digest and blake2b(data, digest_size=16).hexdigest() != fr.digest:
            return None
        return data

    def summary(self, path: str) -> Optional[ModuleSummary]:
        return self.summaries.get(path)

    def all_calls(self) -> Iterable:
        """(path, CallInfo) for every recorded call in the project."""
        for path, s in self.summaries.items():
            for c in s.calls:
                yield path, c

    def is_training(self, path: str, scope: str) -> bool:
        return scope_id(path, scope) in self.training_scopes

    def is_request_path(self, path: str, scope: str) -> bool:
        return scope_id(path, scope) in self.request_scopes

    def is_startup_path(self, path: str, scope: str) -> bool:
        return scope_id(path, scope) in self.startup_scopes

    def is_test_path(self, path: str) -> bool:
        memo = self.__dict__.setdefault("_test_path_memo", {})
        hit = memo.get(path)
        if hit is None:
            from mllint.knowledge import is_test_path

            hit = memo[path] = is_test_path(path)
        return hit

    def handler_anchor(self, sid: str) -> tuple:
        path, scope = split_scope(sid)
        fn = self.functions.get(sid)
        if fn is not None:
            return path, fn.span()
        return path, (1, 1, 1, 2)

    def first_serving_anchor(self) -> Optional[tuple]:
        for sid in self.request_roots:
            if not self.is_test_path(split_scope(sid)[0]):
                return self.handler_anchor(sid)
        for ep in self.entrypoints:
            if ep.kind == "serving":
                return ep.anchor
        return None

    def has_file(self, pattern: str) -> bool:
        rx = re.compile(pattern, re.I)
        return any(rx.search(p) for p in self.inventory)

    def uses_module(self, prefix: str) -> bool:
        """Does any analysed module import ``prefix`` (a top-level package or a dotted module)?"""
        index = self.__dict__.get("_import_prefixes")
        if index is None:
            index = set()
            for s in self.summaries.values():
                for imp in s.imports:
                    m = imp.module or ""
                    for full in (m, f"{m}.{imp.name}" if imp.name and m else (imp.name or "")):
                        parts = full.split(".") if full else []
                        for i in range(1, len(parts) + 1):
                            index.add(".".join(parts[:i]))
            self.__dict__["_import_prefixes"] = index
        return prefix in index

    def const_value(self, path: str, scope: str, val: Any, depth: int = 0) -> Any:
        """Resolve a ``Val`` through local assignments, module constants and constants imported from
        project modules.  Returns a new Val (unchanged when it cannot be resolved)."""
        if val is None or val.kind != "name" or depth > 4:
            return val
        s = self.summaries.get(path)
        if s is None:
            return val
        name = val.value
        local = s.scope_assigns.get(scope, {})
        if name in local:
            lv = local[name]
            if lv.kind == "other":
                # a parameter, or a value that is no constant (``context.artifacts["model"]``):
                # it shadows a module constant of the same name, and cannot be resolved
                return val
            return self.const_value(path, MODULE_SCOPE, lv, depth + 1) if lv.kind == "name" and lv.value != name else lv
        if name in s.constants:
            v = s.constants[name]
            return self.const_value(path, MODULE_SCOPE, v, depth + 1) if v.kind == "name" and v.value != name else v
        head, _, rest = name.partition(".")
        target = s.aliases.get(head)
        if target:
            full = target + ("." + rest if rest else "")
            mod, _, attr = full.rpartition(".")
            mp = self.module_path(mod, path)
            if mp and attr in self.summaries[mp].constants:
                return self.const_value(mp, MODULE_SCOPE, self.summaries[mp].constants[attr], depth + 1)
        return val


_STEP_SCRIPT_KWARGS = ("entry_point", "code", "script", "script_path", "python_file", "source_file", "main_script")
_STEP_COMMAND_KWARGS = ("bash_command", "command", "cmds", "arguments")
_STEP_KWARGS = frozenset(_STEP_SCRIPT_KWARGS + _STEP_COMMAND_KWARGS)
_PYTHON_EXE = re.compile(r"python(\d(\.\d+)?)?$")
_LAUNCHERS = frozenset(("accelerate", "torchrun", "deepspeed", "horovodrun", "mpirun", "nohup", "poetry", "uv", "pipenv"))


def _source_root(path: str, name: str) -> str:
    """The folder ``path`` is module ``name`` under (``a/b/`` for ``a/b/pkg/mod.py`` as ``pkg.mod``);
    "" when the name does not spell the path's end (nothing to compare)."""
    rel = name.replace(".", "/")
    for tail in (f"{rel}.py", f"{rel}/__init__.py", f"{rel}.ipynb"):
        if path == tail:
            return ""
        if path.endswith("/" + tail):
            return path[: len(path) - len(tail)]
    return ""


def _env_default(s, name: str):
    """The default of a module-level ``NAME = os.environ.get("VAR", "default")`` (or os.getenv)."""
    for c in s.calls:
        if c.assigned_to == name and c.scope == MODULE_SCOPE and len(c.args) >= 2 and \
                canonical(c.qualname) in ("os.environ.get", "os.getenv"):
            return c.args[1]
    return None


def _setup_cfg_name(abspath: str) -> list:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(abspath, encoding="utf-8", errors="replace") as fh:
            parser.read_file(fh)
        name = parser.get("metadata", "name", fallback="")
    except (OSError, configparser.Error, ValueError):
        return []
    return [name] if name else []


def is_lazy_call(call: CallInfo) -> bool:
    """A call under an ``if x is None:`` / ``if key not in cache:`` guard: lazy initialisation."""
    return any("None" in g or "NotIn" in g for g in call.guards)


def _class_of_scope(s: ModuleSummary, scope: str) -> Optional[str]:
    fn = s.functions.get(scope)
    if fn is not None and fn.class_name:
        return fn.class_name
    return None


def _split_cmd(cmd: str, line: int) -> Iterable:
    for offset, raw in enumerate(cmd.splitlines() or [cmd]):
        for piece in re.split(r"\s*(?:&&|\|\||;|\|)\s*", raw):
            piece = piece.strip()
            if not piece:
                continue
            try:
                argv = shlex.split(piece, comments=True)
            except ValueError:
                argv = piece.split()
            if argv:
                yield argv, line + offset


# ----------------------------------------------------------------------------- seeds
ALL_FRAMEWORKS = frozenset({"torch", "numpy", "random", "tensorflow"})
_SEED_WORD = re.compile(r"seed", re.I)
_HF_TRAINERS = ("transformers.Trainer", "transformers.Seq2SeqTrainer", "transformers.TrainingArguments",
                "transformers.Seq2SeqTrainingArguments", "trl.", "setfit.Trainer", "optimum.onnxruntime.ORTTrainer",
                "optimum.onnxruntime.ORTSeq2SeqTrainer", "optimum.onnxruntime.ORTTrainingArguments",
                "optimum.onnxruntime.ORTSeq2SeqTrainingArguments", "lightning.pytorch.cli.LightningCLI",
                "pytorch_lightning.cli.LightningCLI", "lightning.pytorch.LightningCLI", "pytorch_lightning.LightningCLI")


@dataclass
class SeedEvent:
    kind: str  # "seed" | "consume" | "train" (a training call: where training happens in the trace)
    frameworks: frozenset
    path: str
    call: CallInfo
    via: Optional[CallInfo] = None  # the call in the entrypoint's own scopes that led here


def seed_effect(call: CallInfo, resolved: Optional[str]) -> frozenset:
    """Frameworks a call seeds (its own effect, not its callees')."""
    fws = TK.seeded_frameworks(call)
    if fws:
        return frozenset(fws)
    q = canonical(call.qualname)
    if q and q.startswith(_HF_TRAINERS):
        return ALL_FRAMEWORKS  # HF Trainer seeds from TrainingArguments.seed; LightningCLI from its config
    if resolved is None:
        # An unresolved helper named like a seeder (``seed_everything()``, ``utils.set_seed(42)``): trust it.
        name = last(call.qualname) if call.qualname else (call.attr or "")
        if name and _SEED_WORD.search(name) and not (q or "").startswith(("numpy.random.", "random.", "torch.")):
            return ALL_FRAMEWORKS
    return frozenset()


def _compress(events: list) -> list:
    """Keep, in order, only events that bring a (kind, framework) pair not seen before: the first
    seed and the first use of each framework are all that ``_unseeded`` and ``seeded_frameworks``
    read, and concatenating compressed lists keeps that property."""
    seen: set = set()
    out = []
    for e in events:
        if e.kind == "train":  # where training happens: runs of them collapse to their first
            if not out or out[-1].kind != "train":
                out.append(e)
            continue
        new = {(e.kind, fw) for fw in e.frameworks} - seen
        if new:
            seen |= new
            out.append(e)
    return out


def _seed_inputs(calls: list) -> set:
    """Dotted names passed to seed setters in a scope: ``s = random.randint(...); random.seed(s)``
    draws a seed (and usually logs it); that draw is not unseeded randomness."""
    out = set()
    for call, tgt in calls:
        if seed_effect(call, tgt):
            for v in list(call.args[:1]) + [call.kwargs[k] for k in ("seed", "s") if k in call.kwargs]:
                if v.kind == "name":
                    out.add(v.value)
    return out


def _consumes(call, seed_inputs: set):
    fw = TK.randomness_framework(call)
    if fw and call.assigned_to and call.assigned_to in seed_inputs:
        return None
    return fw


def _scope_events(project: "Project", sid: str, memo: dict, active: set, depth: int = 0) -> list:
    """Compressed seed/consume events of running scope ``sid`` (callees inlined at their call
    sites, imported modules' top level first).  Memoised per scope for the whole project."""
    if sid in memo:
        return memo[sid]
    if sid in active or depth > 60:
        return []  # recursion: the outer visit already accounts for this scope
    active.add(sid)
    path, scope = split_scope(sid)
    events: list = []
    if scope == MODULE_SCOPE:
        for _, tgt, kind in sorted(project._g.out_edges(sid, data="kind"), key=lambda e: e[1]):
            if kind == "imports":
                events.extend(_scope_events(project, tgt, memo, active, depth + 1))
    calls = sorted(project.calls(sid), key=_eval_order)
    seed_inputs = _seed_inputs(calls)
    for call, tgt in calls:
        if call.in_lambda:
            continue  # runs when the lambda is called (``OPS = {"conv": lambda c: Conv(c)}``), not here
        debug = _in_debug_branch(call)
        if tgt is not None and tgt in project.functions and not debug:
            events.extend(_scope_events(project, tgt, memo, active, depth + 1))
        _call_events(events, call, tgt, path, seed_inputs, None, draws=not debug)
    active.discard(sid)
    out = _compress(events)
    memo[sid] = out
    return out


def _eval_order(ct: tuple) -> tuple:
    """Calls in the order Python runs them: a call's arguments before the call (``train(
    build_model(seed=0))`` runs ``build_model`` first), so by where each call ends."""
    c = ct[0]
    return (c.end_line, c.end_col, c.line, c.col)


def _project_seed_trace(project: "Project", ep: Entrypoint) -> list:
    """Seed setters and randomness consumers in (approximate) execution order from an entrypoint:
    imported project modules' top level first, then the module top level, then the main block; a
    call into a project function is followed at the call site.  Events from the entrypoint's own
    scopes carry ``via``: the call in the entrypoint that led to them."""
    memo = project.__dict__.setdefault("_seed_scope_memo", {})
    events: list = []
    for root in ep.scopes:
        path, scope = split_scope(root)
        if scope == MODULE_SCOPE:
            for _, tgt, kind in sorted(project._g.out_edges(root, data="kind"), key=lambda e: e[1]):
                if kind == "imports":
                    events.extend(_scope_events(project, tgt, memo, set()))
        calls = sorted(project.calls(root), key=_eval_order)
        seed_inputs = _seed_inputs(calls)
        for call, tgt in calls:
            if call.in_lambda:
                continue  # as in ``_scope_events``: a lambda kept for later runs when it is called
            debug = _in_debug_branch(call)
            if tgt is not None and tgt in project.functions and tgt not in ep.scopes and not debug:
                for e in _scope_events(project, tgt, memo, {root}):
                    events.append(SeedEvent(e.kind, e.frameworks, e.path, e.call, call))
            _call_events(events, call, tgt, path, seed_inputs, call, draws=not debug)
    return _compress(events)


def _in_debug_branch(call: CallInfo) -> bool:
    """Under an ``if`` on a debug switch (``if cfg.debug:``): what it draws picks examples to
    inspect (axolotl samples rows to print their tokenization), not training randomness."""
    return any(_DEBUG_WORD.search(g) for g in call.guards)


_DEBUG_WORD = re.compile(r"debug", re.I)


def _call_events(events: list, call: CallInfo, tgt: Optional[str], path: str, seed_inputs, via,
                 draws: bool = True) -> None:
    """The events of a call itself (not of its callee's body): the frameworks it seeds, the one
    it draws from (unless ``draws`` is False), and whether it trains."""
    eff = seed_effect(call, tgt)
    if eff:
        events.append(SeedEvent("seed", eff, path, call, via))
    fw = _consumes(call, seed_inputs) if draws else None
    if fw:
        events.append(SeedEvent("consume", frozenset({fw}), path, call, via))
    if TK.is_training_call(call):
        events.append(SeedEvent("train", frozenset(), path, call, via))


def _unseeded(events: list) -> dict:
    """framework -> first SeedEvent that consumed it before any seed for it.  A shuffling
    ``DataLoader`` draws its order when it is iterated, not when it is built: it counts only if
    training (which iterates it) comes before a seed, ``DataLoader(...); torch.manual_seed(1); fit``
    is reproducible."""
    seeded: set = set()
    first: dict = {}
    pending: dict = {}  # framework -> a DataLoader built before any seed, not yet iterated
    for e in events:
        if e.kind == "seed":
            seeded |= e.frameworks
            for fw in e.frameworks:
                pending.pop(fw, None)
        elif e.kind == "consume":
            deferred = canonical(e.call.qualname) == "torch.utils.data.DataLoader"
            for fw in e.frameworks:
                if fw not in seeded and fw not in first:
                    if deferred:
                        pending.setdefault(fw, e)
                    else:
                        first[fw] = e
        elif e.kind == "train" and pending:
            for fw, p in pending.items():
                first.setdefault(fw, p)
            pending.clear()
    for fw, p in pending.items():  # never seeded before the end: its iteration is unseeded too
        first.setdefault(fw, p)
    return first
