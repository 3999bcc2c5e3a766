"""Intra-procedural def-use label propagation over the statements of one scope.

Used by the leakage rules (checkpoint 6).  A FileRule keeps the ``ast`` node of a function (or the
module: for a notebook, all cells in order) that it received during the single walk and runs a
``Flow`` over its statements in ``leave_FunctionDef``/``finish``: no second parse.

Every variable carries a frozenset of labels (hashable tuples).  An assignment gives its targets
the labels of every name its right-hand side reads plus the labels the rule's ``on_call`` hook
produces for the calls in it; assignments to ``x[...]``/``x.attr`` add to ``x`` (weak update).
Statements are visited in program order (compound statements: header, then body); both branches
of an ``if`` apply.  Nested function and class bodies are separate scopes and are skipped.
"""
from __future__ import annotations

import ast
from typing import Callable, Iterable, Optional

from mllint.knowledge import canonical
from mllint.summary import dotted

EMPTY: frozenset = frozenset()
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)




def root_name(node: ast.AST) -> Optional[str]:
    """The variable an expression reads its data from: ``df`` for ``df['a'].values``, ``X`` for
    ``X.to_numpy()``, ``None`` for anything else."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        key = _self_attr(node)
        if key:
            return key
        if isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        else:
            return None


def _self_attr(node: ast.AST) -> Optional[str]:
    """``self.x`` (and ``cls.x``) is a variable of its own: -> 'self.x'."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
        return f"{node.value.id}.{node.attr}"
    return None


def kwarg(call: ast.Call, name: str) -> Optional[ast.AST]:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def names_read(expr: ast.AST) -> Iterable[str]:
    stack = [expr]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store):
            yield n.id
        elif _self_attr(n) and not isinstance(n.ctx, ast.Store):
            yield _self_attr(n)
        elif isinstance(n, _SCOPES):
            continue
        stack.extend(ast.iter_child_nodes(n))


class Flow:
    def __init__(self, ctx, on_call: Callable, on_bind: Optional[Callable] = None):
        self.ctx = ctx
        self.on_call = on_call  # (flow, ast.Call) -> iterable of labels the call's value carries
        self.on_bind = on_bind  # (flow, target node, value node) after a binding
        self.labels: dict = {}
        self.types: dict = {}  # dotted var -> canonical qualname of the constructor that made it
        self.stmt: Optional[ast.AST] = None  # statement being processed

    # ------------------------------------------------------------------ queries for hooks
    def of(self, name: Optional[str]) -> frozenset:
        return self.labels.get(name, EMPTY) if name else EMPTY

    def deps(self, expr: Optional[ast.AST]) -> frozenset:
        if expr is None:
            return EMPTY
        out = set()
        for n in names_read(expr):
            out |= self.labels.get(n, EMPTY)
        return frozenset(out)

    def add(self, name: Optional[str], labels: Iterable) -> None:
        if name:
            self.labels[name] = self.labels.get(name, EMPTY) | frozenset(labels)

    def type_of(self, expr: ast.AST) -> str:
        if isinstance(expr, ast.Call):
            return canonical(self.ctx.qualname(expr.func))
        d = dotted(expr)
        if d is None:
            return ""
        return self.types.get(d, "")

    def qualname(self, call: ast.Call) -> str:
        return canonical(self.ctx.qualname(call.func))

    # ------------------------------------------------------------------ driver
    def run(self, body: list) -> None:
        for stmt in body:
            self.statement(stmt)

    def statement(self, s: ast.stmt) -> None:
        if isinstance(s, _SCOPES):
            return
        self.stmt = s
        if isinstance(s, ast.Assign):
            gen = self.eval(s.value)
            for t in s.targets:
                self.bind(t, gen, s.value)
        elif isinstance(s, ast.AnnAssign):
            if s.value is not None:
                self.bind(s.target, self.eval(s.value), s.value)
        elif isinstance(s, ast.AugAssign):
            gen = self.eval(s.value) | self.deps(s.target)
            self.bind(s.target, gen, None)
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            self.bind(s.target, self.eval(s.iter), None)
            self.run(s.body)
            self.run(s.orelse)
        elif isinstance(s, ast.While):
            self.eval(s.test)
            self.run(s.body)
            self.run(s.orelse)
        elif isinstance(s, ast.If):
            self.eval(s.test)
            self.run(s.body)
            self.run(s.orelse)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                g = self.eval(item.context_expr)
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, g, item.context_expr)
            self.run(s.body)
        elif isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
            self.run(s.body)
            for h in s.handlers:
                self.run(h.body)
            self.run(s.orelse)
            self.run(s.finalbody)
        elif isinstance(s, (ast.Expr, ast.Return)):
            if s.value is not None:
                self.eval(s.value)
        elif isinstance(s, ast.Delete):
            for t in s.targets:
                if isinstance(t, ast.Name):
                    self.labels.pop(t.id, None)

    def bind(self, target: ast.AST, gen: frozenset, value: Optional[ast.AST]) -> None:
        if _self_attr(target):
            self.labels[_self_attr(target)] = gen
            q = canonical(self.ctx.qualname(value.func)) if isinstance(value, ast.Call) else ""
            if q:
                self.types[_self_attr(target)] = q
            else:
                self.types.pop(_self_attr(target), None)
        elif isinstance(target, ast.Name):
            self.labels[target.id] = gen
            q = canonical(self.ctx.qualname(value.func)) if isinstance(value, ast.Call) else ""
            if q:
                self.types[target.id] = q
            else:
                self.types.pop(target.id, None)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for e in target.elts:
                self.bind(e, gen, None)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, gen, None)
        elif isinstance(target, (ast.Subscript, ast.Attribute)):
            d = dotted(target)
            if d and isinstance(value, ast.Call):
                q = canonical(self.ctx.qualname(value.func))
                if q:
                    self.types[d] = q
            self.add(root_name(target), gen)
        if self.on_bind is not None:
            self.on_bind(self, target, value)

    def eval(self, expr: Optional[ast.AST]) -> frozenset:
        if expr is None:
            return EMPTY
        out = set()
        self._eval(expr, out)
        return frozenset(out)

    def _eval(self, n: ast.AST, out: set) -> None:
        if isinstance(n, _SCOPES):
            return
        if isinstance(n, ast.Name):
            if not isinstance(n.ctx, ast.Store):
                out |= self.labels.get(n.id, EMPTY)
            return
        key = _self_attr(n)
        if key and not isinstance(n.ctx, ast.Store):
            out |= self.labels.get(key, EMPTY)
            return
        for child in ast.iter_child_nodes(n):
            self._eval(child, out)
        if isinstance(n, ast.Call):
            produced = self.on_call(self, n)
            if produced:
                out.update(produced)


def scope_body(node: ast.AST) -> list:
    """Statements of a module/function, with ``if __name__ == "__main__":`` blocks kept in place."""
    return list(getattr(node, "body", []) or [])


SPLIT = ("split",)


def split_sink(flow: Flow, call: ast.Call) -> Optional[tuple]:
    """When ``call`` splits data into train and test parts (``train_test_split``, ``random_split``,
    ``cross_val_score``-style functions, ``<splitter>.split(X)``, ``<SearchCV>.fit(X)``):
    (labels of the data being split, labels its value carries, short name).  Else None."""
    from mllint.knowledge import data as DK

    q = flow.qualname(call)
    func = call.func
    if q in DK.SPLIT_FUNCTIONS:
        arrays = [a for a in call.args if not isinstance(a, ast.Starred)]
        deps = frozenset().union(*[flow.deps(a) for a in arrays]) if arrays else EMPTY
        return deps, frozenset({SPLIT}), q.rsplit(".", 1)[-1]
    if q in DK.CV_FUNCTIONS:
        pos = DK.CV_FUNCTIONS[q]
        x = call.args[pos] if len(call.args) > pos else kwarg(call, "X")
        return flow.deps(x), EMPTY, q.rsplit(".", 1)[-1]
    if isinstance(func, ast.Attribute):
        rt = flow.type_of(func.value)
        if func.attr == "split" and rt in DK.SPLITTERS:
            x = call.args[0] if call.args else kwarg(call, "X")
            return flow.deps(x), frozenset({SPLIT}), rt.rsplit(".", 1)[-1] + ".split"
        if func.attr == "fit" and rt in DK.SEARCH_CV:
            x = call.args[0] if call.args else kwarg(call, "X")
            return flow.deps(x), EMPTY, rt.rsplit(".", 1)[-1] + ".fit"
    return None
