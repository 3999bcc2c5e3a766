"""Shared helpers of the serving and monitoring rules (checkpoints 7, 9-15).  Not a rule (the
registry skips modules starting with ``_``).

* ``flow_of(project, sid)`` - an intra-procedural data flow of one function: for every call, the
  origins (call results, parameters, request attributes) whose values reach its arguments; and the
  origins reaching ``return``.  Computed on demand, at project time, for the few functions on a
  request path: their module is parsed again (``Project.analysed_text``), so the per-file walk of
  every other module pays nothing for it and summaries carry no flow facts.
* walk time: ``TorchFacts``, model creations/aliases/``.eval()`` calls recorded once per module.
* project time: model references, inference calls, handlers, reachability helpers.
"""
from __future__ import annotations

import ast
import re
from typing import Optional

from mllint.knowledge import canonical, in_packages, last
from mllint.knowledge import monitoring as MK
from mllint.knowledge import serving as SK
from mllint.rule import once_per_module
from mllint.sources import UNREAD, code_lines
from mllint.summary import MODULE_SCOPE, guard_tokens, resolve_module_name
from mllint.summary import dotted

# =============================================================================== data flow

def chain_root(node) -> Optional[str]:
    """``self.model.to(d).eval`` -> ``self.model``: the dotted base under method calls."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
            if isinstance(node, ast.Attribute):
                node = node.value
            else:
                return None
            continue
        d = dotted(node)
        if d is not None:
            return d
        if isinstance(node, ast.Attribute):
            node = node.value
            continue
        if isinstance(node, ast.Subscript):
            node = node.value
            continue
        return None


_MUTATORS = frozenset({"append", "extend", "insert", "update", "add", "setdefault", "appendleft", "put"})


def _byte_col(lineno: int, offset: int) -> int:
    return offset + 1


def char_cols(text: str):
    """``col(lineno, offset)``: the 1-based column in characters of an ``ast`` offset (which counts
    UTF-8 bytes) in this text, as the summary's records (``CallInfo.col``) count them: positions
    from a tree parsed again must match theirs on a line that is not ASCII."""
    if text.isascii():
        return _byte_col
    lines = code_lines(text)

    def col(lineno: int, offset: int) -> int:
        line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
        if offset <= 0 or line.isascii():
            return offset + 1
        return len(line.encode("utf-8")[:offset].decode("utf-8", "replace")) + 1

    return col


def _pos(node, col=_byte_col) -> tuple:
    return (node.lineno, col(node.lineno, node.col_offset))


_CHUNKING = re.compile(r"chunk|batch|array_split|minibatch|DataLoader|grouper", re.I)


def _chunks(it, target) -> bool:
    """``for batch in chunked(rows, 64)`` / ``np.array_split(x, n)`` / ``DataLoader(ds, batch_size=..)``:
    a loop over mini-batches of the request, not over its rows."""
    if isinstance(it, ast.Call):
        f = it.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        if _CHUNKING.search(name):
            return True
    return isinstance(target, ast.Name) and bool(re.search(r"batch|chunk", target.id, re.I))


class _Flow:
    def __init__(self, fnode, col=_byte_col):
        self.col = col  # character columns (``char_cols``)
        self.env: dict = {}  # name -> set of origins
        self.calls: dict = {}  # (line, col) -> set of origins reaching its args/receiver
        self.receivers: dict = {}  # (line, col) -> origins reaching the receiver only
        self.returns: set = set()
        self.attr_seeds: list = []  # (line, col, dotted) attribute loads: request.json ...
        self.prints: set = set()
        self.loops: dict = {}  # for-loop line -> (origins of the iterable, iterates a range())
        self.fnode = fnode
        for a in _all_args(fnode.args):
            self.env[a.arg] = {("p", a.arg)}

    # expressions -> origins
    def expr(self, node) -> set:
        if node is None:
            return set()
        if isinstance(node, ast.Name):
            return set(self.env.get(node.id, ()))
        if isinstance(node, ast.Attribute):
            d = dotted(node)
            out = set()
            if d is not None and d in self.env:
                out |= self.env[d]
            out |= self.expr(node.value)
            if d is not None and "." in d:
                c = self.col(node.lineno, node.col_offset)
                out.add(("a", node.lineno, c))
                self.attr_seeds.append((node.lineno, c, d))
            return out
        if isinstance(node, ast.Call):
            args = set()
            for a in node.args:
                args |= self.expr(a.value if isinstance(a, ast.Starred) else a)
            for k in node.keywords:
                args |= self.expr(k.value)
            recv = set()
            if isinstance(node.func, ast.Attribute):
                recv = self.expr(node.func.value)
            elif not isinstance(node.func, ast.Name):
                recv = self.expr(node.func)
            key = _pos(node, self.col)
            if isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS and args:
                base = dotted(node.func.value)
                if base:  # ``out.append(pred)``: the container now carries the prediction
                    self.env[base] = self.env.get(base, set()) | args
            if isinstance(node.func, ast.Name) and node.func.id in ("print", "pprint"):
                self.prints.add(key)
            self.calls[key] = self.calls.get(key, set()) | args | recv
            self.receivers[key] = self.receivers.get(key, set()) | recv
            return args | recv | {("c",) + key}
        if isinstance(node, (ast.Lambda,)):
            return self.expr(node.body)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            saved = dict(self.env)
            for g in node.generators:
                src = self.expr(g.iter)
                for n in _target_names(g.target):
                    self.env[n] = src | self.env.get(n, set())
                for c in g.ifs:
                    self.expr(c)
            if isinstance(node, ast.DictComp):
                out = self.expr(node.key) | self.expr(node.value)
            else:
                out = self.expr(node.elt)
            self.env = saved | {k: v for k, v in self.env.items() if k not in saved}
            return out
        out = set()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.expr, ast.keyword, ast.comprehension)):
                out |= self.expr(child.value if isinstance(child, ast.keyword) else child)
        return out

    def assign(self, target, origins: set) -> None:
        for n in _target_names(target):
            self.env[n] = set(origins) | (self.env.get(n, set()) if "." in n else set())
        if isinstance(target, ast.Subscript):
            base = dotted(target.value)
            if base:
                self.env[base] = self.env.get(base, set()) | origins

    def stmts(self, body) -> None:
        for st in body:
            self.stmt(st)

    def stmt(self, st) -> None:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        if isinstance(st, ast.Assign):
            o = self.expr(st.value)
            for t in st.targets:
                self.assign(t, o)
        elif isinstance(st, (ast.AnnAssign, ast.AugAssign)):
            o = self.expr(st.value) if st.value is not None else set()
            if isinstance(st, ast.AugAssign):
                o |= self.expr(st.target)
            self.assign(st.target, o)
        elif isinstance(st, ast.Return):
            self.returns |= self.expr(st.value)
        elif isinstance(st, (ast.For, ast.AsyncFor)):
            o = self.expr(st.iter)
            it = st.iter
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "enumerate" and it.args:
                it = it.args[0]
            counted = isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" or \
                _chunks(it, st.target)
            self.loops[st.lineno] = (frozenset(o), counted)
            self.assign(st.target, o)
            for _ in range(2):
                self.stmts(st.body)
            self.stmts(st.orelse)
        elif isinstance(st, ast.While):
            for _ in range(2):
                self.expr(st.test)
                self.stmts(st.body)
            self.stmts(st.orelse)
        elif isinstance(st, ast.If):
            self.expr(st.test)
            self.stmts(st.body)
            self.stmts(st.orelse)
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            for it in st.items:
                o = self.expr(it.context_expr)
                if it.optional_vars is not None:
                    self.assign(it.optional_vars, o)
            self.stmts(st.body)
        elif isinstance(st, ast.Try) or type(st).__name__ == "TryStar":
            self.stmts(st.body)
            for h in st.handlers:
                self.stmts(h.body)
            self.stmts(st.orelse)
            self.stmts(st.finalbody)
        elif isinstance(st, ast.Match):
            self.expr(st.subject)
            for c in st.cases:
                self.stmts(c.body)
        else:
            for child in ast.iter_child_nodes(st):
                if isinstance(child, ast.expr):
                    self.expr(child)


def _all_args(a: ast.arguments) -> list:
    return list(a.posonlyargs) + list(a.args) + ([a.vararg] if a.vararg else []) + list(a.kwonlyargs) + (
        [a.kwarg] if a.kwarg else [])


def _target_names(t) -> list:
    if isinstance(t, ast.Name):
        return [t.id]
    if isinstance(t, ast.Attribute):
        d = dotted(t)
        return [d] if d else []
    if isinstance(t, (ast.Tuple, ast.List)):
        out = []
        for e in t.elts:
            out += _target_names(e.value if isinstance(e, ast.Starred) else e)
        return out
    if isinstance(t, ast.Starred):
        return _target_names(t.value)
    return []


def _function_flow(fnode, ctx=None, col=_byte_col) -> dict:
    """``ctx`` resolves annotation names (``qualname(node)``): a walk's FileContext or a
    ``_Resolver`` built from the module summary.  ``col``: see ``char_cols``."""
    f = _Flow(fnode, col)
    f.stmts(fnode.body)
    ann = {}
    if ctx is not None:
        for n in ast.walk(fnode):
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
                a = n.annotation
                q = ctx.qualname(a) if isinstance(a, (ast.Name, ast.Attribute)) else None
                if q:
                    ann[n.target.id] = q
    return {
        "calls": {k: frozenset(v) for k, v in f.calls.items() if v},
        "receivers": {k: frozenset(v) for k, v in f.receivers.items() if v},
        "returns": frozenset(f.returns),
        "attrs": {(l, c): d for l, c, d in f.attr_seeds},
        "prints": frozenset(f.prints),
        "ann": ann,
        "loops": dict(f.loops),
    }


def offloaded_positions(fnode, col=_byte_col) -> set:
    """(line, col) of calls inside a lambda, a nested def, or the arguments of an offloader
    (``run_in_threadpool``, ``asyncio.to_thread``, ``loop.run_in_executor``...)."""
    out = set()

    def mark(n):
        for sub in ast.walk(n):
            if isinstance(sub, ast.Call):
                out.add(_pos(sub, col))

    for n in ast.walk(fnode):
        if n is fnode:
            continue
        if isinstance(n, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(n)
        elif isinstance(n, ast.Call):
            name = dotted(n.func) or ""
            if last(name) in MK.OFFLOADERS:
                for a in n.args:
                    mark(a)
                for k in n.keywords:
                    mark(k.value)
    return out


# ============================================================ per-function facts, on demand
class _Resolver:
    """Resolves names as the walk does for a function: its (and its enclosing functions') local
    imports, then module imports, top-level definitions and builtins; a local variable or
    parameter of the function shadows them (None)."""

    def __init__(self, summary, scope: str):
        self.summary = summary
        self.aliases: dict = {}  # the function's (and enclosing functions') own imports
        self.locals = summary.scope_assigns.get(scope, {})
        for imp in summary.imports:
            if imp.scope == MODULE_SCOPE or not (scope == imp.scope or scope.startswith(imp.scope + ".")):
                continue
            if imp.name is None:
                head = imp.module.split(".")[0]
                self.aliases[imp.asname] = head if imp.asname == head else imp.module
            elif imp.name != "*":
                self.aliases[imp.asname] = f"{imp.module}.{imp.name}" if imp.module else imp.name

    def qualname(self, node) -> Optional[str]:
        d = dotted(node)
        if d is None:
            return None
        head, _, rest = d.partition(".")
        if head in self.locals:
            return None
        base = self.aliases[head] if head in self.aliases else resolve_module_name(self.summary, head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base


_BODY_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def function_nodes(tree) -> dict:
    """{scope qualname: FunctionDef node}, qualified exactly as the summary names functions
    (``Class.method``, ``outer.<locals>.inner``; the last definition of a name wins).  Only
    statement lists are visited: a ``def`` is always a statement."""
    out: dict = {}
    _collect_functions(tree.body, "module", "", out)
    return out


def _collect_functions(stmts, kind: str, qual: str, out: dict) -> None:
    # a module-level function, not a closure: a recursive closure is a reference cycle
    for st in stmts:
        cls = st.__class__
        if cls is ast.FunctionDef or cls is ast.AsyncFunctionDef or cls is ast.ClassDef:
            if kind == "function":
                q = f"{qual}.<locals>.{st.name}"
            elif kind == "class":
                q = f"{qual}.{st.name}"
            else:
                q = st.name
            if cls is ast.ClassDef:
                _collect_functions(st.body, "class", q, out)
            else:
                out[q] = st
                _collect_functions(st.body, "function", q, out)
            continue
        for name in _BODY_FIELDS:
            sub = getattr(st, name, None)
            if sub:
                if name in ("handlers", "cases"):  # except handlers and match cases hold statement lists
                    for h in sub:
                        _collect_functions(h.body, kind, qual, out)
                else:
                    _collect_functions(sub, kind, qual, out)


def _module_facts(project, path: str) -> Optional[dict]:
    """{function qualname: (data flow or None, offloaded call positions, shape)} for every function
    of a module, computed the first time any of them is asked for: the module is parsed once, and
    no tree is kept.  None when its source is unavailable (changed since it was summarised)."""
    m = memo(project, "module-facts")
    if path in m:
        return m[path]
    out = None
    text = project.analysed_text(path)
    s = project.summaries.get(path)
    if text is not None and s is not None:
        try:
            nodes = function_nodes(ast.parse(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            nodes = None
        if nodes is not None:
            out = {}
            col = char_cols(text)
            for qual, fnode in nodes.items():
                try:
                    flow = _function_flow(fnode, _Resolver(s, qual), col)
                    # offloading matters only where a call can block an event loop
                    off = frozenset(offloaded_positions(fnode, col)) if fnode.__class__ is ast.AsyncFunctionDef \
                        else frozenset()
                except RecursionError:
                    flow, off = None, None
                out[qual] = (flow, off, _shape(fnode))
    m[path] = out
    return out


def _shape(fnode) -> tuple:
    """Statement-level facts of a function body, kept instead of its tree:
    (early exits: ((line, test tokens), ...), whether it yields,
    top-level assignments: ((first line, last line, assigned names), ...))."""
    exits, assigns = [], []
    for st in fnode.body:
        cls = st.__class__
        if cls is ast.If and not st.orelse and st.body and st.body[-1].__class__ in (ast.Return, ast.Raise):
            exits.append((st.lineno, guard_tokens(st.test)))
        elif cls is ast.Assign or cls is ast.AnnAssign:
            names = set()
            for t in (st.targets if cls is ast.Assign else [st.target]):
                while t.__class__ is ast.Subscript:
                    t = t.value
                if t.__class__ is ast.Name:
                    names.add(t.id)
                elif t.__class__ is ast.Attribute:
                    names.add(t.attr)
            assigns.append((st.lineno, st.end_lineno or st.lineno, frozenset(names)))
    return tuple(exits), _yields(fnode), tuple(assigns)


def _yields(fnode) -> bool:
    """Does the function's own body yield (not a nested function's)?"""
    todo = list(fnode.body)
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        todo.extend(ast.iter_child_nodes(n))
    return False


def _shape_of(project, sid: str) -> Optional[tuple]:
    path, _, scope = sid.partition("::")
    facts = _module_facts(project, path)
    hit = facts.get(scope) if facts else None
    return hit[2] if hit else None


def early_exit_tests(project, sid: str, line: int) -> list:
    """The tests (``CallInfo.guards`` token strings) of the ``if`` statements at the top level of a
    function, before ``line``, that end in ``return`` or ``raise`` and have no ``else``: code
    after them runs only when the test is false.  Empty when the source is unavailable."""
    shape = _shape_of(project, sid)
    return [toks for ln, toks in shape[0] if ln < line] if shape else []


def is_generator(project, sid: str) -> bool:
    """Does the function yield (calling it runs nothing)?  False when the source is unavailable."""
    shape = _shape_of(project, sid)
    return bool(shape and shape[1])


def assigned_at(project, sid: str, line: int) -> frozenset:
    """Names the top-level statement of a function holding ``line`` assigns: ``_model = load()``
    -> {_model}, ``self._model = ...`` -> {_model}, ``cache[name] = ...`` -> {cache}."""
    shape = _shape_of(project, sid)
    for first, last_line, names in shape[2] if shape else ():
        if first <= line <= last_line:
            return names
    return frozenset()


def flow_of(project, sid: str) -> Optional[dict]:
    """The data flow facts of one function, or None when its source is unavailable."""
    path, _, scope = sid.partition("::")
    facts = _module_facts(project, path)
    hit = facts.get(scope) if facts else None
    return hit[0] if hit else None


class Flows:
    """``flows.get(sid)``: the data flow of a function, computed on first use."""

    def __init__(self, project):
        self.project = project

    def get(self, sid: str, default=None):
        v = flow_of(self.project, sid)
        return default if v is None else v


def flows(project) -> Flows:
    return Flows(project)


def offloaded(project, sid: str) -> Optional[frozenset]:
    """``offloaded_positions`` of an async function (empty for a plain ``def``), or None when its
    source is unavailable."""
    path, _, scope = sid.partition("::")
    facts = _module_facts(project, path)
    hit = facts.get(scope) if facts else None
    return hit[1] if hit else None


# =============================================================================== project time


def excluded_path(project, path: str) -> bool:
    """Tests and notebooks are not serving code (a notebook's ``predict_fn`` feeds an explainer)."""
    s = project.summaries.get(path)
    return project.is_test_path(path) or (s is not None and s.kind == "notebook")


def handler_sids(project) -> list:
    """Request handlers, without tests, notebooks, and classes generated inside functions (a
    framework's own service factories)."""
    return [sid for sid in project.request_roots
            if not excluded_path(project, path_of(sid)) and "<locals>" not in sid.partition("::")[2]]


def class_of(project, path: str, scope: str) -> Optional[str]:
    s = project.summaries.get(path)
    fn = s.functions.get(scope) if s else None
    return fn.class_name if fn is not None else None


def type_of(project, path: str, scope: str, ref: str) -> Optional[str]:
    """The constructor/factory qualname that produced ``ref`` (``model``, ``self.model``)."""
    s = project.summaries.get(path)
    if s is None or not ref:
        return None
    if ref.startswith("self."):
        cls = class_of(project, path, scope)
        if not cls:
            return None
        t = s.var_types.get("@" + cls, {}).get(ref[5:])
        if t is None:
            # inherited attribute set in a project base class
            ci = s.classes.get(cls)
            for b in (ci.bases if ci else []):
                ref_cls = project._class_ref(b, path)
                if ref_cls:
                    t = project.summaries[ref_cls[0]].var_types.get("@" + ref_cls[1], {}).get(ref[5:])
                    if t:
                        return t
        return t
    t = s.var_types.get(scope, {}).get(ref)
    if t is None and ref not in s.scope_assigns.get(scope, {}):
        t = s.var_types.get(MODULE_SCOPE, {}).get(ref)
    return t


_NOT_MODEL_FROM_PRETRAINED = ("Tokenizer", "Processor", "Config", "FeatureExtractor", "ImageProcessor",
                              "TokenizerFast", "GenerationConfig")


def _project_fn(project, path: str, q: str) -> Optional[str]:
    q = q[:-2] if q.endswith("()") else q
    return project.resolve_qualname(q, path)


def loader_kind(project, path: str, t: Optional[str], depth: int = 0) -> Optional[str]:
    """Classify a constructor/factory qualname: 'torch' (an nn.Module in train mode), 'torch-pickle'
    (torch.load), 'torch-exempt' (TorchScript/ONNX), 'hf' (from_pretrained models), 'model' (any
    other model loader), 'not-model', or None (unknown)."""
    if not t:
        return None
    q = canonical(t[:-2] if t.endswith("()") else t)
    if q in MK.EVAL_EXEMPT_LOADERS or q.startswith("onnxruntime."):
        return "torch-exempt"
    if q.endswith(".from_pretrained"):
        if any(x in q for x in _NOT_MODEL_FROM_PRETRAINED):
            return "not-model"
        return "hf"
    if q in MK.TORCH_PICKLE_LOADERS:
        return "torch-pickle"
    if q in MK.TORCH_MODULE_FACTORIES or (q.startswith("torchvision.models.") and q[len("torchvision.models."):].split(".")[-1][:1].islower()):
        return "torch"
    if q.startswith("torch.nn."):
        return "not-model"  # layers (Softmax, ConstantPad1d...) applied to tensors, not served models
    if q in SK.MODEL_LOADERS or (q.startswith("mlflow.") and q.endswith(".load_model")) or last(q) == "load_model":
        return "model"
    if q.startswith(("transformers.pipeline", "sentence_transformers.", "ultralytics.", "whisper.")):
        return "model"
    if depth < 3:
        ref = project._class_ref(q, path)
        if ref is not None:
            return "torch" if is_torch_module_class(project, ref[0], ref[1]) else "not-model"
        sid = _project_fn(project, path, q)
        if sid is not None:
            return factory_kind(project, sid, depth + 1)
    return None


def is_torch_module_class(project, path: str, cls: str, depth: int = 0) -> bool:
    s = project.summaries.get(path)
    ci = s.classes.get(cls) if s else None
    if ci is None or depth > 5:
        return False
    for b in ci.bases:
        if canonical(b) in MK.TORCH_MODULE_BASES:
            return True
        ref = project._class_ref(b, path)
        if ref and is_torch_module_class(project, ref[0], ref[1], depth + 1):
            return True
    return False


def factory_kind(project, sid: str, depth: int = 0) -> Optional[str]:
    """A project function that returns a model: the kind of what it builds (see loader_kind)."""
    from mllint.graph import split_scope
    path, scope = split_scope(sid)
    kinds = []
    for c, tgt in project.calls(sid):
        k = None
        if c.assigned_to or c.in_return:
            if tgt and tgt != sid:
                if depth < 3:
                    k = factory_kind(project, tgt, depth + 1)
                    if k is None:
                        fn = project.function(tgt)
                        if fn and fn.name == "__init__" and fn.class_name and is_torch_module_class(
                                project, path_of(tgt), fn.class_name):
                            k = "torch"
            else:
                k = loader_kind(project, path, c.qualname or (f"{c.receiver_type}.{c.attr}" if c.receiver_type and c.attr else None), depth + 1)
        if k and k != "not-model":
            kinds.append(k)
    for pref in ("torch", "torch-pickle", "hf", "torch-exempt", "model"):
        if pref in kinds:
            return pref
    return None


def path_of(sid: str) -> str:
    return sid.partition("::")[0]


def is_model_ref(project, path: str, scope: str, ref: Optional[str]) -> bool:
    if not ref:
        return False
    t = type_of(project, path, scope, ref)
    if t is not None:
        k = loader_kind(project, path, t)
        if k is not None:
            return k != "not-model"
        return False  # a known non-model type (requests.Session, a project helper...)
    name = last(ref)
    if not (MK.MODEL_NAME_RE.match(name) and not MK.NOT_MODEL_NAME_RE.search(name)):
        return False
    s = project.summaries.get(path)
    if ref.startswith("self.") and s is not None:
        # an attribute never assigned from a call nor injected through a parameter of the same name
        # (``self.model = lambda x: x + 5``) is not a model
        cls = class_of(project, path, scope)
        if cls:
            methods = [f for q, f in s.functions.items() if f.class_name == cls]
            assigned = any(c.assigned_to == ref for c in s.calls if (s.functions.get(c.scope) or None) in methods)
            injected = any(p == ref[5:].lstrip("_") or p == ref[5:] for f in methods for p, _ in f.params)
            if methods and not assigned and not injected:
                return False
    elif s is not None and "." not in ref:
        v = s.scope_assigns.get(scope, {}).get(ref) or s.constants.get(ref)
        if v is not None and v.kind == "other" and v.value == "Lambda":
            return False  # ``model = lambda x: x``
    return True


def annotated_target(project, path: str, flow: Optional[dict], call) -> Optional[str]:
    """``model: HousePriceModel = ...; model.predict(x)`` -> the project method's scope id."""
    if not flow or not call.attr or not call.receiver:
        return None
    q = (flow.get("ann") or {}).get(call.receiver)
    if not q:
        return None
    ref = project._class_ref(q, path)
    if ref is None:
        return None
    return project._class_method(ref[0], ref[1], call.attr)


def inference_ref(project, path: str, call, target: Optional[str], flow: Optional[dict] = None) -> Optional[str]:
    """The model reference a call runs inference on (``model.predict(x)``, ``model(x)``,
    ``self.model(x)``, ``session.run(...)``), else None."""
    if target is not None:
        return None  # a project function/method
    if flow and call.receiver and (flow.get("ann") or {}).get(call.receiver):
        q = flow["ann"][call.receiver]
        if project._class_ref(q, path) is not None:
            return None  # an instance of a project class: its method is the callee
    if call.qualname is not None:
        return None
    if call.attr is None and call.receiver:
        ref = call.receiver  # model(x)
    elif call.attr and call.receiver == "self":
        ref = f"self.{call.attr}"  # self.model(x)
        s = project.summaries.get(path)
        cls = class_of(project, path, call.scope)
        if cls and s and call.attr in (s.classes.get(cls).methods if s.classes.get(cls) else ()):
            return None
        if not (call.args or call.kwargs or call.star_args):
            return None
    elif call.attr in MK.INFERENCE_METHODS and call.receiver:
        ref = call.receiver
    elif call.attr in ("run", "async_run") and call.receiver and "." in call.receiver and \
            last(call.receiver) in MK.INFERENCE_METHODS:
        ref = call.receiver.rsplit(".", 1)[0]  # BentoML runner: ``model.predict.run(x)``
    elif call.attr == "run" and call.receiver:
        t = canonical(type_of(project, path, call.scope, call.receiver) or "")
        if not (t.startswith(MK.SESSION_TYPES) or (not t and last(call.receiver).lower() in (
                "session", "sess", "ort_session", "onnx_session", "ort_sess"))):
            return None
        ref = call.receiver
    else:
        return None
    return ref if is_model_ref(project, path, call.scope, ref) else None


def inference_calls(project, sid: str) -> list:
    """[(CallInfo, model ref)] inference calls made directly in a scope."""
    path = path_of(sid)
    out = []
    for c, tgt in project.calls(sid):
        ref = inference_ref(project, path, c, tgt)
        if ref:
            out.append((c, ref))
    return out


def memo(project, key: str) -> dict:
    d = project.__dict__.setdefault("_serving_memo", {})
    return d.setdefault(key, {})


def performs_inference(project, sid: str) -> bool:
    """Does the scope, or a project function it reaches, run model inference?"""
    m = memo(project, "performs")
    if sid not in m:
        m[sid] = any(inference_calls(project, s) for s in project.reachable([sid], through_imports=False))
    return m[sid]


def call_at(project, sid: str, pos: tuple):
    for c, tgt in project.calls(sid):
        if (c.line, c.col) == pos:
            return c, tgt
    return None, None


def torch_pin_at_least_2_6(project, path: str = "") -> Optional[bool]:
    """True if the pinned torch is >= 2.6, False if pinned < 2.6, None if unknown.  Only the
    requirements/pyproject files nearest to ``path`` (same directory or the closest ancestor that
    names torch) count: a monorepo of examples pins per example."""
    by_dir: dict = {}
    here = path.rsplit("/", 1)[0] if "/" in path else ""
    for d in project.configs:
        ddir = d.path.rsplit("/", 1)[0] if "/" in d.path else ""
        if path and not (ddir == "" or here == ddir or here.startswith(ddir + "/")):
            continue
        by_dir.setdefault(ddir, []).append(d)
    for ddir in sorted(by_dir, key=len, reverse=True):
        v = _torch_verdicts(by_dir[ddir])
        if v is not None:
            return None if v == "unknown" else v
    return None


def _torch_verdicts(docs) -> Optional[bool]:
    import re
    verdicts = set()
    seen = False
    for d in docs:
        if d.kind == "requirements":
            for r in getattr(d.data, "requirements", []):
                if r.name == "torch":
                    seen = True
                    verdicts.add(_spec_verdict(r.specifier))
        elif d.kind == "pyproject" and isinstance(d.data, dict):
            deps = list(((d.data.get("project") or {}).get("dependencies") or []))
            for dep in deps:
                if isinstance(dep, str) and re.match(r"^\s*torch\b(?![-_.\w])", dep):
                    seen = True
                    verdicts.add(_spec_verdict(dep.strip()[5:]))
            poetry = (((d.data.get("tool") or {}).get("poetry") or {}).get("dependencies") or {})
            v = poetry.get("torch") if isinstance(poetry, dict) else None
            if isinstance(v, dict):
                v = v.get("version")
            if isinstance(v, str):
                seen = True
                verdicts.add(_spec_verdict(v.replace("^", ">=").replace("~", ">=")))
    if not seen:
        return None
    verdicts.discard(None)
    if not verdicts:
        return "unknown"
    if verdicts == {True}:
        return True
    if verdicts == {False}:
        return False
    return "unknown"


def _spec_verdict(spec: str) -> Optional[bool]:
    import re
    spec = spec.strip().strip("()")
    if not spec:
        return None
    lows, highs, exact = [], [], []
    for part in spec.split(","):
        part = part.strip()
        m = re.match(r"^(==|===|>=|>|<=|<|~=|!=)?\s*v?(\d+)(?:\.(\d+))?", part)
        if not m:
            continue
        op, ver = m.group(1) or "==", (int(m.group(2)), int(m.group(3) or 0))
        if op in ("==", "==="):
            exact.append(ver)
        elif op in (">=", ">", "~="):
            lows.append(ver)
        elif op in ("<", "<="):
            highs.append((ver, op))
    if exact:
        return exact[0] >= (2, 6)
    if highs:
        ver, op = min(highs)
        if ver < (2, 6) or (ver == (2, 6) and op == "<"):
            return False
    if lows and max(lows) >= (2, 6):
        return True
    return None


# =============================================================================== torch module facts
_CHAIN_METHODS = frozenset({"to", "cuda", "cpu", "half", "float", "double", "bfloat16", "eval", "train",
                            "requires_grad_", "share_memory", "to_empty", "module"})


def _is_eval_call(node) -> bool:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    a = node.func.attr
    if a == "eval" and not node.args and not node.keywords:
        return True
    if a == "train":
        v = node.args[0] if node.args else (node.keywords[0].value if node.keywords else None)
        return isinstance(v, ast.Constant) and v.value is False
    return False


TORCH_FACTS = "torch"  # summary.facts key shared by every TorchFacts rule


class TorchFacts:
    """Walk-time recorder of model creations, aliases and ``.eval()`` calls (mixin for FileRules).
    Several rules mix it in; the walk calls its hooks for the first one active in a module only
    (``once_per_module``), which records for all of them."""

    def _put(self, value) -> None:
        self.ctx.summary.facts.setdefault(TORCH_FACTS, []).append(value)

    @once_per_module
    def visit_Assign(self, node) -> None:
        if len(node.targets) != 1:
            return
        target = dotted(node.targets[0])
        if not target:
            return
        ctx = self.ctx
        value = node.value
        chain_eval = False
        while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _CHAIN_METHODS:
            chain_eval = chain_eval or _is_eval_call(value)
            value = value.func.value
        if isinstance(value, ast.Call):
            q = ctx.call_qualname(value)
            if q is None and isinstance(value.func, ast.Attribute):
                base = dotted(value.func.value)
                bt = ctx.var_type(base) if base else None
                if bt:
                    q = f"{bt}.{value.func.attr}"
            if q is None:
                return  # nothing to classify: every reader skips a creation without a qualname
            self._put(("c", ctx.scope, ctx.class_name, target, q, chain_eval,
                         ctx.span_of(node)))
        elif isinstance(value, (ast.Name, ast.Attribute)):
            src = dotted(value)
            if src:
                self._put(("a", ctx.scope, ctx.class_name, target, src, chain_eval))

    @once_per_module
    def visit_Call(self, node) -> None:
        if _is_eval_call(node):
            root = chain_root(node.func.value)
            if root:
                self._put(("e", self.ctx.scope, self.ctx.class_name, root))


def torch_index(project, code: str = TORCH_FACTS) -> dict:
    """{'creations': iterable of (path, scope, cls, target, qual, chain_eval, span), 'aliases':
    iterable of (path, scope, cls, target, src, chain_eval), 'evals': {(path, cls or scope, root)},
    'eval_scopes': {sid}} (the creations and aliases can be iterated any number of times)."""
    m = memo(project, "torch")
    if m:
        return m
    evals, eval_scopes = set(), set()
    for path, s in project.summaries.items():
        for item in s.facts.get(TORCH_FACTS, ()):
            if item.__class__ is tuple and item[0] == "e":
                _, scope, cls, root = item
                eval_scopes.add(f"{path}::{scope}")
                if root.startswith("self.") and cls:
                    evals.add((path, "@" + cls, root))
                evals.add((path, scope, root))
    m.update(creations=_TorchFactView(project.summaries, "c"), aliases=_TorchFactView(project.summaries, "a"),
             evals=evals, eval_scopes=eval_scopes)
    return m


class _TorchFactView:
    """The recorded creations (``"c"``) or aliases (``"a"``) as ``(path, ...)`` tuples, made on
    each iteration from the summaries instead of stored: tens of thousands on a large repository,
    read by three rules."""

    __slots__ = ("summaries", "tag")

    def __init__(self, summaries: dict, tag: str):
        self.summaries = summaries  # not the project: this lives in the project's memo (no cycle)
        self.tag = tag

    def __iter__(self):
        tag = self.tag
        for path, s in self.summaries.items():
            for item in s.facts.get(TORCH_FACTS, ()):
                if item.__class__ is tuple and item[0] == tag:
                    yield (path,) + item[1:]


def torch_kind_of_creation(project, path: str, qual: Optional[str]) -> Optional[str]:
    if not qual:
        return None
    return loader_kind(project, path, qual)


def no_grad_covered(project, sid: str, depth: int = 0, seen=None) -> bool:
    """Is the scope decorated with torch.no_grad/inference_mode, or called (by some caller) in such
    a context or from a covered caller?"""
    seen = seen if seen is not None else set()
    if sid in seen or depth > 6:
        return False
    seen.add(sid)
    fn = project.function(sid)
    if fn is not None:
        for d in fn.decorators:
            if canonical(d.qualname) in MK.TORCH_CONTEXTS_NO_GRAD or last(d.dotted) in ("no_grad", "inference_mode"):
                return True
    for caller in project.callers.get(sid, ()):
        for c, tgt in project.calls(caller):
            if tgt == sid and in_no_grad(c):
                return True
        if no_grad_covered(project, caller, depth + 1, seen):
            return True
    return False


def in_no_grad(c) -> bool:
    for ctxs in c.contexts:
        for item in ctxs.split("|"):
            if canonical(item) in MK.TORCH_CONTEXTS_NO_GRAD or last(item) in ("no_grad", "inference_mode"):
                return True
    return False


def torch_uses(project) -> list:
    """[(sid, CallInfo, key)] direct calls of a model object on the request path:
    ``model(x)``, ``self.model(x)``, ``model.forward(x)``; key = (path, '@Class' or scope, ref)."""
    m = memo(project, "torch_uses")
    if "v" in m:
        return m["v"]
    out = []
    for sid in project.request_scopes:
        path, _, scope = sid.partition("::")
        if excluded_path(project, path):
            continue
        s = project.summaries.get(path)
        for c, tgt in project.calls(sid):
            if tgt:
                continue
            keys = []
            if c.qualname is None and c.attr is None and c.receiver:
                ref = c.receiver
            elif c.qualname is None and c.receiver == "self" and c.attr and (c.args or c.kwargs or c.star_args or c.star_kwargs):
                ref = "self." + c.attr
                cls = class_of(project, path, scope)
                ci = s.classes.get(cls) if cls else None
                if ci is not None and c.attr in ci.methods:
                    continue
            elif c.qualname is None and c.attr in ("forward", "__call__") and c.receiver:
                ref = c.receiver
            elif c.qualname and c.attr is None and not c.qualname.startswith(("torch.", "numpy.")):
                mod, _, name = c.qualname.rpartition(".")
                mp = project.module_path(mod, path) if mod else None
                if mp and name in project.summaries[mp].constants:
                    out.append((sid, c, (mp, MODULE_SCOPE, name)))
                continue
            else:
                continue
            if ref.startswith("self."):
                cls = class_of(project, path, scope)
                if cls:
                    keys.append((path, "@" + cls, ref))
                    ci = s.classes.get(cls)
                    for b in (ci.bases if ci else []):
                        r = project._class_ref(b, path)
                        if r:
                            keys.append((r[0], "@" + r[1], ref))
            else:
                keys.append((path, scope, ref))
                if ref not in s.scope_assigns.get(scope, {}):
                    keys.append((path, MODULE_SCOPE, ref))
            for k in keys:
                out.append((sid, c, k))
    m["v"] = out
    return out


def creation_key(path, scope, cls, target) -> tuple:
    if target.startswith("self.") and cls:
        return (path, "@" + cls, target)
    return (path, scope, target)


# =============================================================================== prediction sinks
_LOGGER_NAME_RE = __import__("re").compile(r"(^|[._])(log|logger|logging|_logger|LOGGER|LOG|log_|audit)", __import__("re").I)
EXTRA_SINK_METHODS = frozenset({"add_task", "apply_async", "delay", "send_task", "enqueue", "put_nowait"})


def is_log_or_sink(c) -> bool:
    """A logger call, a queue/DB/object-store write, a monitoring client, a background task."""
    q = canonical(c.qualname)
    root = q.split(".")[0] if q else ""
    if q and (root in MK.LOGGER_MODULES or q.startswith(MK.LOGGER_MODULES)) and (c.attr in MK.LOG_METHODS or not c.attr):
        return True
    if c.attr in MK.LOG_METHODS and c.receiver and _LOGGER_NAME_RE.search(c.receiver):
        return True
    if q and any(q == m or q.startswith(m + ".") for m in MK.SINK_MODULES + MK.MONITORING_CLIENTS):
        return True
    if c.attr in MK.SINK_METHODS or c.attr in EXTRA_SINK_METHODS:
        return True
    rt = canonical(c.receiver_type or "")
    if rt and any(rt == m or rt.startswith(m + ".") for m in MK.SINK_MODULES + MK.MONITORING_CLIENTS):
        return True
    if c.attr and c.attr.startswith(("log_", "record_", "save_", "store_", "publish_", "track_")):
        return True
    return False


def logs_somewhere(project, sid: str) -> bool:
    """Does the scope, or a project function it reaches, log or write to a sink?"""
    m = memo(project, "logs")
    if sid not in m:
        m[sid] = any(is_log_or_sink(c) for s in project.reachable([sid], through_imports=False)
                     for c, _ in project.calls(s))
    return m[sid]


_DEPLOY_DIRS = ("k8s", "deploy", "deployment", "deployments", "manifests", "kubernetes", "config", "configs", "helm",
                "infra", "charts", "kustomize", "yaml", "yamls", "notebooks", "scripts", "sagemaker",
                "cloudformation", "cfn", "terraform", "cdk", "iac", "pipelines", "pipeline", "templates")


def config_scope(path: str) -> str:
    """The directory a deploy file (manifest, deploy script) speaks for: its own directory, or the
    parent when it sits in a ``k8s/``/``deploy/``... folder."""
    d = path.rsplit("/", 1)[0] if "/" in path else ""
    while d and d.rsplit("/", 1)[-1].lower() in _DEPLOY_DIRS:
        d = d.rsplit("/", 1)[0] if "/" in d else ""
    return d


def in_scope(scope: str, path: str) -> bool:
    return not scope or path == scope or path.startswith(scope + "/")


def payload_capture_scopes(project) -> list:
    """[scope dir] of payload-capture configuration: KServe ``spec.predictor.logger``, Seldon
    ``logger``, SageMaker ``DataCaptureConfig``."""
    m = memo(project, "capture")
    if "v" not in m:
        m["v"] = [config_scope(p) for p, _ in _payload_capture(project)]
    return m["v"]


def _payload_capture(project):
    for d in project.configs:
        data = d.data
        if d.kind == "k8s" and isinstance(data, dict):
            spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
            if d.subkind == "InferenceService":
                for comp in ("predictor", "transformer", "explainer"):
                    c = spec.get(comp)
                    if isinstance(c, dict) and c.get("logger"):
                        yield d.path, c.line_of("logger") if hasattr(c, "line_of") else 1
            if d.subkind == "SeldonDeployment":
                if "logger" in repr(spec):
                    yield d.path, 1
        if d.kind == "cloudformation" and "DataCaptureConfig" in repr(data):
            yield d.path, 1
    for path, s in project.summaries.items():
        for c in s.calls:
            if c.qualname and c.qualname.endswith("DataCaptureConfig"):
                yield path, c.line
            elif "DataCaptureConfig" in c.kwargs or "data_capture_config" in c.kwargs:
                yield path, c.line


# =============================================================================== repository-level evidence
def inference_handlers(project) -> list:
    """Non-test request handlers that run a model (directly or through callees)."""
    m = memo(project, "inference_handlers")
    if "v" not in m:
        m["v"] = [sid for sid in handler_sids(project) if performs_inference(project, sid)]
    return m["v"]


def serving_anchor(project) -> Optional[tuple]:
    """(path, span) of the serving entrypoint: a `serving` entrypoint (uvicorn/gunicorn target)
    whose module holds an inference handler, else the first inference handler's def line."""
    hs = inference_handlers(project)
    if not hs:
        return None
    paths = {path_of(h) for h in hs}
    for ep in project.entrypoints:
        if ep.kind == "serving" and ep.path in paths:
            return ep.anchor
    return project.handler_anchor(sorted(hs)[0])


def is_get_route(fn) -> bool:
    """A handler registered only for GET (reports, metadata): its result is not a prediction made
    from request data."""
    if fn is None or not fn.decorators:
        return False
    for d in fn.decorators:
        meth = d.dotted.rsplit(".", 1)[-1]
        if meth == "get":
            continue
        if meth == "route":
            methods = d.kwargs.get("methods")
            if methods is None or (methods.kind == "list" and all(
                    v.kind == "const" and str(v.value).upper() == "GET" for v in methods.value)):
                continue
        return False
    return True


def any_call(project, pred) -> Optional[tuple]:
    for path, c in project.all_calls():
        if pred(c):
            return path, c
    return None


def qual_in(q: Optional[str], names) -> bool:
    cq = canonical(q)
    return bool(cq) and in_packages(cq, names)


def imports_any(project, modules) -> bool:
    return any(project.uses_module(m) for m in modules)


def config_mentions(project, pattern) -> Optional[str]:
    import re
    rx = re.compile(pattern, re.I)
    for d in project.configs:
        if d.kind in ("k8s", "yaml", "prometheus-rules", "cloudformation", "params", "dockerfile", "requirements",
                      "pyproject", "conda-env", "shell", "github-workflow", "gitlab-ci"):
            text = getattr(d, "text", None)
            if text is UNREAD:
                return d.path  # cannot tell: counted as a mention (see ConfigDocument.evidence)
            if not text:
                try:
                    text = repr(d.data)
                except Exception:
                    text = ""
            if rx.search(text):
                return d.path
    return None


def read_text(project, rel: str, limit: int = 200_000) -> str:
    import os
    try:
        with open(os.path.join(project.root, rel), "rb") as fh:
            return fh.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


BUILTIN_METRIC_SERVERS = ("kserve", "ts", "bentoml", "ray", "mlserver", "seldon_core", "triton_python_backend_utils",
                          "sagemaker_inference", "azure.functions", "functions_framework", "modal", "aws_lambda_powertools")


def web_inference_handlers(project) -> list:
    """Inference handlers of hand-written web apps (FastAPI, Flask, ...), i.e. not served by a model
    server that exports request metrics by itself (KServe, TorchServe, BentoML, Ray Serve, MLServer,
    Seldon, SageMaker/Lambda scripts)."""
    out = []
    for sid in inference_handlers(project):
        path = path_of(sid)
        fn = project.function(sid)
        s = project.summaries.get(path)
        if fn is None or s is None or not fn.decorators:
            continue
        if any(a.kind == "const" and a.value in ("/invocations", "/ping") for d in fn.decorators for a in d.args):
            continue  # a SageMaker container: the endpoint records latency and invocations per variant
        mods = {i.module or "" for i in s.imports}
        if any(m == b or m.startswith(b + ".") for m in mods for b in BUILTIN_METRIC_SERVERS):
            continue
        if any(canonical(d.qualname).startswith(("bentoml.", "ray.")) for d in fn.decorators):
            continue
        out.append(sid)
    return out


def web_anchor(project) -> Optional[tuple]:
    hs = web_inference_handlers(project)
    if not hs:
        return None
    paths = {path_of(h) for h in hs}
    for ep in project.entrypoints:
        if ep.kind == "serving" and ep.path in paths:
            return ep.anchor
    return project.handler_anchor(sorted(hs)[0])


def torch_by_use(project, path: str, scope: str, ref: str) -> bool:
    """An object of unknown type on which ``load_state_dict(...)`` is called is a torch module."""
    s = project.summaries.get(path)
    if s is None:
        return False
    cls = class_of(project, path, scope)
    for c in s.calls:
        if c.attr != "load_state_dict" or c.receiver != ref:
            continue
        if ref.startswith("self."):
            if cls and class_of(project, path, c.scope) == cls:
                return True
        elif c.scope in (scope, MODULE_SCOPE):
            return True
    return False


_SM_MODEL_PARAM = {"predict_fn": 1, "transform_fn": 0}


def sagemaker_model_qual(project, path: str, scope: str, ref: str) -> Optional[str]:
    """SageMaker contract: ``predict_fn(data, model)`` / ``transform_fn(model, ...)`` receive what
    ``model_fn`` returns.  -> the qualname of the model-producing call in ``model_fn``."""
    s = project.summaries.get(path)
    fn = s.functions.get(scope) if s else None
    if fn is None or fn.class_name or fn.name not in _SM_MODEL_PARAM or "model_fn" not in s.functions:
        return None
    params = [p for p, _ in fn.params]
    i = _SM_MODEL_PARAM[fn.name]
    if len(params) <= i or params[i] != ref:
        return None
    for c, tgt in project.calls(f"{path}::model_fn"):
        if not (c.assigned_to or c.in_return):
            continue
        q = c.qualname or (f"{c.receiver_type}.{c.attr}" if c.receiver_type and c.attr else None)
        k = loader_kind(project, path, q) if q else None
        if k and k != "not-model":
            return q
    return None
