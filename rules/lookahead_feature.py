"""A feature column is built from future rows: `shift(-n)`, `rolling(center=True)` or `bfill`.

## What it does
Flags assignments of feature columns or variables whose value uses a look-ahead operation on a
time-ordered frame: `.shift(-n)` with a negative literal, `.rolling(..., center=True)`, `.bfill()`
/ `.backfill()` and `fillna(method="bfill")`. Assignments that build the label are fine and stay
silent: a target named `y`, `target`, `label`, `future_*`, `next_*` ..., or a column later used as
the label (assigned to `y`, passed as `y` to `fit`/`train_test_split`, or dropped from `X`), or a
column the label is built from that no feature list names (`ret_5d = close.shift(-5) / close - 1`,
then `up = ret_5d > 0`).
Only modules that also train, predict or split are checked.

## Why is this bad?
Checkpoint 6 (point-in-time correctness): at prediction time the future rows do not exist yet.
A model trained on features that peek at them looks excellent offline and fails in production.

## Example
```python
df = df.sort_values("date")
df["price_next_mean"] = df["price"].rolling(7, center=True).mean()
df["demand_filled"] = df["demand"].bfill()
model.fit(df[["price_next_mean", "demand_filled"]], df["sales"])
```

## Use instead
```python
df = df.sort_values("date")
df["price_mean_7d"] = df["price"].rolling(7).mean()       # trailing window only
df["demand_filled"] = df["demand"].ffill()                 # carry the past forward
df["target"] = df["sales"].shift(-1)                       # shifting the label is fine
model.fit(df[["price_mean_7d", "demand_filled"]], df["target"])
```

## Known limits
Test files (under `tests/` or `test/`, `test_*.py`, `*_test.py`, `conftest.py`) are not checked:
they build synthetic data on purpose. Column names reached through variables (`df[col]`) are matched only when the label column is
written the same way. `interpolate()` is not reported, and neither is the `.ffill().bfill()` idiom (the back-fill only
fills the gap before each series' first observation).
"""
import ast
import re

from mllint.knowledge import data as DK, is_test_path
from mllint.knowledge import training as TK
from mllint.rule import FileRule, RuleMeta
from mllint.summary import iter_nodes  # ast.walk without ctx/operator nodes, same order

_X_NAME = re.compile(r"^(x|X|X_.*|x_.*|features?|feats?|inputs?|predictors?|data_x|df_x)$")
_MODEL_ATTRS = frozenset({"fit", "predict", "train", "fit_generator", "predict_proba"})
_MODELLING_WORDS = tuple(f".{a}" for a in _MODEL_ATTRS) + tuple(q.rsplit(".", 1)[-1] for q in TK.SPLIT_FUNCTIONS)


class LookaheadFeature(FileRule):
    meta = RuleMeta(code="ML0604", level="warning", precision="high", tags=("leakage", "time-series"))

    def begin(self):
        self.candidates = []  # (call node, target key, what)
        self.labels = set()  # column names used as the label
        self.sources: dict = {}  # column -> the columns its assignments read (``df["up"] = df["ret"] > 0``)
        self.listed = set()  # column names in list/tuple literals: feature lists, ``df[["a", "b"]]``
        self.modelling = False
        if is_test_path(self.ctx.path):
            return False  # tests build synthetic series on purpose
        # and the module models (finish() reports nothing otherwise): ``.fit(`` and the like, or a split
        return self.ctx.text_has("shift(", "rolling(", "bfill", "backfill", "method=") and \
            self.ctx.text_has(*_MODELLING_WORDS)

    # -------------------------------------------------------------- what is the label
    def visit_Call(self, node):
        q = self.ctx.call_qualname(node)
        func = node.func
        if q in TK.SPLIT_FUNCTIONS:
            self.modelling = True
            if len(node.args) >= 2:
                self._label(node.args[1])
        elif isinstance(func, ast.Attribute) and func.attr in _MODEL_ATTRS:
            self.modelling = True
            for a in node.args[:1]:  # ``model.fit(df[["ret_5d", "vol"]], y)``: columns used as features
                for n in iter_nodes(a):
                    if n.__class__ in (ast.List, ast.Tuple):
                        self.listed.update(e.value for e in n.elts
                                           if e.__class__ is ast.Constant and isinstance(e.value, str))
            if func.attr == "fit" and len(node.args) >= 2:
                self._label(node.args[1])
            y = _kw(node, "y")
            if y is not None:
                self._label(y)

    def _label(self, expr):
        if isinstance(expr, ast.Subscript):
            s = expr.slice
            if isinstance(s, ast.Constant) and isinstance(s.value, str):
                self.labels.add(s.value)
        elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and not self.ctx.qualname(expr):
            self.labels.add(expr.attr)

    # -------------------------------------------------------------- candidates
    def visit_Assign(self, node):
        if len(node.targets) != 1:
            return
        key = _target_key(node.targets[0])
        if isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if DK.TARGET_NAME.match(name):
                self._label(node.value)
            elif _X_NAME.match(name):
                for n in iter_nodes(node.value):
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "drop":
                        for c in iter_nodes(n):
                            if isinstance(c, ast.Constant) and isinstance(c.value, str):
                                self.labels.add(c.value)
        for n in iter_nodes(node.value):
            if n.__class__ in (ast.List, ast.Tuple):
                self.listed.update(e.value for e in n.elts if e.__class__ is ast.Constant and isinstance(e.value, str))
        if key is not None:
            self.sources.setdefault(key, set()).update(
                n.slice.value for n in iter_nodes(node.value)
                if n.__class__ is ast.Subscript and n.slice.__class__ is ast.Constant and isinstance(n.slice.value, str))
        if key is None or DK.TARGET_NAME.match(key):
            return
        for n in iter_nodes(node.value):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
                what = self._lookahead(n)
                if what:
                    self.candidates.append((n, key, what))
                    return

    def _lookahead(self, call):
        attr = call.func.attr
        if attr == "shift":
            k = call.args[0] if call.args else _kw(call, "periods")
            v = self.ctx.literal(k) if k is not None else None
            if isinstance(k, ast.UnaryOp) and isinstance(k.op, ast.USub) and isinstance(k.operand, ast.Name):
                c = self.ctx.resolve_const(self.ctx.value(k.operand))  # shift(-HORIZON)
                if c.kind == "const" and isinstance(c.value, int) and not isinstance(c.value, bool):
                    v = -c.value
            if isinstance(v, int) and not isinstance(v, bool) and v < 0:
                return f"`shift({v})` reads {-v} row(s) ahead"
        elif attr == "rolling":
            c = _kw(call, "center")
            if c is not None and self.ctx.literal(c) is True:
                return "`rolling(center=True)` averages over future rows"
        elif attr in DK.LOOKAHEAD_FILL:
            if not self._after_ffill(call):
                return f"`{attr}()` fills gaps with later values"
        elif attr == "fillna":
            m = _kw(call, "method")
            if m is not None and self.ctx.literal(m) in DK.LOOKAHEAD_FILL and not self._after_ffill(call):
                return "`fillna(method=\"bfill\")` fills gaps with later values"
        return None

    def _after_ffill(self, call):
        """``.ffill().bfill()``: the back-fill only reaches the gap before a series' first value."""
        inner = call.func.value
        if not (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)):
            return False
        if inner.func.attr in ("ffill", "pad"):
            return True
        m = _kw(inner, "method") if inner.func.attr == "fillna" else None
        return m is not None and self.ctx.literal(m) in ("ffill", "pad")

    def finish(self):
        if not self.modelling:
            return
        # the columns a label is built from (``ret_5d = close.shift(-5)/close - 1; up = ret_5d > 0``)
        label_inputs, todo = set(), list(self.labels)
        while todo:
            col = todo.pop()
            for src in self.sources.get(col, ()):
                if src not in label_inputs:
                    label_inputs.add(src)
                    todo.append(src)
        for call, key, what in self.candidates:
            if key in self.labels or (key in label_inputs and key not in self.listed):
                continue  # the label, or a column only the label is built from
            self.report(call, f"{what} to build feature `{key}`: at prediction time those rows do not exist yet; "
                              f"use trailing windows / `ffill`, or make it the label")


def _kw(call, name):
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def _target_key(t):
    if isinstance(t, ast.Name):
        return t.id
    if isinstance(t, ast.Subscript):
        s = t.slice
        if isinstance(s, ast.Constant) and isinstance(s.value, str):
            return s.value
        return None
    if isinstance(t, ast.Attribute):
        return t.attr
    return None
