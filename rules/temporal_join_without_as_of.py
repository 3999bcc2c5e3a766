"""Event rows are joined to a time-varying feature table on entity keys only.

## What it does
Follows frames through the assignments of a function or module (a notebook's cells are one
module) and flags pandas `merge`/`join`, polars `join` and PySpark `join` calls whose keys are
entity columns only, when the left frame carries timestamps (read with `parse_dates=`, converted
with `pd.to_datetime`, used with `.dt`, or holding a column named like `*_at`, `*_ts`,
`timestamp`, `date`, `time`) and the right-hand frame is a time-varying feature table: it comes
from a `groupby` over entity and time columns (or a `rolling`/`resample` `on=` a time column) and
the join uses its entity keys but not its time key. A join whose result is then filtered by comparing time columns is fine, and
`merge_asof`/`join_asof` never fire.

## Why is this bad?
Checkpoint 6 (point-in-time correctness): every event is matched with every version of the
entity's features, including those computed after the event. Training rows see the future, so
offline metrics overstate what the model can do when it only has the past.

## Example
```python
import pandas as pd

events = pd.read_csv("events.csv", parse_dates=["event_ts"])
daily = pd.read_csv("activity.csv", parse_dates=["day"])
features = daily.groupby(["user_id", "day"]).agg(spend=("amount", "sum")).reset_index()
train = events.merge(features, on="user_id", how="left")
```

## Use instead
```python
import pandas as pd

events = pd.read_csv("events.csv", parse_dates=["event_ts"]).sort_values("event_ts")
daily = pd.read_csv("activity.csv", parse_dates=["day"])
features = daily.groupby(["user_id", "day"]).agg(spend=("amount", "sum")).reset_index()
train = pd.merge_asof(events, features.sort_values("day"), left_on="event_ts", right_on="day",
                      by="user_id", direction="backward")
```

## Known limits
Test files (under `tests/` or `test/`, `test_*.py`, `*_test.py`, `conftest.py`) are not checked:
they build synthetic data on purpose. Join keys, group keys and time columns must be literal strings; time columns are recognised by
name, so a period key such as `date_block_num` or `wm_yr_wk` is not seen as time (and the join is
left alone). Joins whose keys are held in variables, index
joins without `on=`, SQL strings and Spark join conditions written as expressions are not checked.
Time filters written through `query()` strings are recognised only when they compare columns.
"""
import ast

from mllint.knowledge import data as DK, is_test_path
from mllint.knowledge.dataflow import Flow, kwarg, root_name
from mllint.rule import FileRule, RuleMeta
from mllint.summary import iter_nodes  # ast.walk without ctx/operator nodes, same order

TS = ("ts",)
TV = ("time-varying",)


class TemporalJoinWithoutAsOf(FileRule):
    meta = RuleMeta(code="ML0603", level="warning", precision="medium", tags=("leakage", "time-series"))

    def begin(self):
        self.module = None
        if is_test_path(self.ctx.path):
            return False  # tests join synthetic tables on purpose
        # the right-hand table must come from a group-by to be reported
        return self.ctx.text_has("merge(", ".join(", "join_asof", "merge_asof") and self.ctx.text_has("groupby", "group_by")

    def visit_Module(self, node):
        self.module = node

    def leave_FunctionDef(self, node):
        self._analyse(node.body)

    leave_AsyncFunctionDef = leave_FunctionDef

    def finish(self):
        if self.module is not None:
            self._analyse(self.module.body)

    def _analyse(self, body):
        self.candidates = []  # (call, result var)
        self.filtered = set()  # variables compared on a time column
        self.gkeys = {}  # variable -> keys of the groupby that built it
        self.ts_vars = set()  # variables whose time-named columns are read somewhere in the scope
        for st in body:
            for n in iter_nodes(st):
                key = _col(n) if isinstance(n, (ast.Subscript, ast.Attribute)) else None
                if key and DK.TIME_NAME.search(key[1]) and key[0] not in self.ctx.summary.aliases:
                    self.ts_vars.add(key[0])
        flow = Flow(self.ctx, self._on_call, self._on_bind)
        flow.run(body)
        for st in body:
            for n in iter_nodes(st):
                if isinstance(n, ast.Compare):
                    for side in [n.left] + list(n.comparators):
                        key = _col(side)
                        if key and DK.TIME_NAME.search(key[1]):
                            self.filtered.add(key[0])
                elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "between":
                    key = _col(n.func.value)
                    if key and DK.TIME_NAME.search(key[1]):
                        self.filtered.add(key[0])
                elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("query", "filter", "where") \
                        and n.args and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str):
                    q = n.args[0].value
                    if any(op in q for op in ("<", ">")) and any(DK.TIME_NAME.search(w.strip("`()")) for w in q.split()):
                        r = root_name(n.func.value)
                        if r:
                            self.filtered.add(r)
        for call, var in self.candidates:
            if var and var in self.filtered:
                continue
            self.report(call, "join of event rows to a time-varying feature table on entity keys only: each event "
                              "also gets feature values from after it happened; use `merge_asof`/`join_asof` "
                              "(direction=\"backward\") or filter feature time <= event time")

    def _on_bind(self, flow, target, value):
        if isinstance(target, ast.Subscript) and isinstance(value, ast.Call) and \
                flow.qualname(value) in DK.DATETIME_FUNCTIONS:
            flow.add(root_name(target), {TS})
        if isinstance(target, ast.Subscript):
            key = _col(target)
            if key and DK.TIME_NAME.search(key[1]):
                flow.add(key[0], {TS})
        if isinstance(target, ast.Name):
            keys = self._group_keys(value) if value is not None else None
            if keys is not None:
                self.gkeys[target.id] = keys
            elif value is not None and root_name(value) in self.gkeys and root_name(value) != target.id:
                self.gkeys[target.id] = self.gkeys[root_name(value)]
            elif value is None or root_name(value) != target.id:
                self.gkeys.pop(target.id, None)
        if isinstance(target, ast.Name) and isinstance(value, ast.Call):
            for c in self.candidates:
                if c[0] is value:
                    self.candidates[self.candidates.index(c)] = (value, target.id)

    def _on_call(self, flow, call):
        q = flow.qualname(call)
        func = call.func
        if q in DK.READ_FUNCTIONS:
            pdates = kwarg(call, "parse_dates")
            if pdates is not None and self.ctx.literal(pdates) not in (False, None):
                return {TS}
            return ()
        if q == "pandas.merge" and len(call.args) >= 2:
            self._join(flow, call, call.args[0], call.args[1])
            return ()
        if not isinstance(func, ast.Attribute):
            return ()
        attr = func.attr
        if attr in DK.TIME_VARYING_METHODS:
            return {TV}
        if attr == "dt" or (isinstance(func.value, ast.Attribute) and func.value.attr == "dt"):
            flow.add(root_name(func.value), {TS})
        if attr in DK.JOIN_METHODS and call.args:
            self._join(flow, call, func.value, call.args[0])
        return ()

    def _join(self, flow, call, left, right):
        keys = []
        for name in ("on", "left_on", "right_on"):
            v = kwarg(call, name)
            if v is not None:
                keys.append(v)
        if not keys and len(call.args) >= 2 and isinstance(call.func, ast.Attribute) and call.func.attr == "join":
            keys.append(call.args[1])  # Spark: df.join(other, "user_id")
        if not keys:
            return
        names = []
        for k in keys:
            v = self.ctx.literal(k)
            vals = v if isinstance(v, list) else [v]
            if not all(isinstance(x, str) for x in vals):
                return  # keys not resolvable
            names.extend(vals)
        if not names or any(DK.TIME_NAME.search(n) for n in names):
            return  # a time key joins exact timestamps
        ld = self._deps(flow, left)
        group_keys = self._group_keys(right)
        if group_keys is None:
            group_keys = self.gkeys.get(root_name(right) or "", set())
        time_keys = {k for k in group_keys if DK.TIME_NAME.search(k)}
        # the right side is keyed by entity + time (a time-varying feature table) and the join uses
        # only (some of) its entity keys
        if time_keys and set(names) <= group_keys - time_keys and TS in ld:
            self.candidates.append((call, None))

    def _group_keys(self, expr):
        """Keys of the groupby (plus a rolling/resample `on=` time column) that built ``expr``."""
        keys, found = set(), False
        for n in iter_nodes(expr):
            if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)):
                continue
            if n.func.attr in ("groupby", "group_by"):
                found = True
                by = n.args[0] if n.args else kwarg(n, "by")
                v = self.ctx.literal(by) if by is not None else None
                vals = v if isinstance(v, list) else [v]
                if not all(isinstance(k, str) for k in vals):
                    return set()
                keys.update(vals)
            elif n.func.attr in DK.TIME_VARYING_METHODS:
                on = kwarg(n, "on") or kwarg(n, "index_column")
                v = self.ctx.literal(on) if on is not None else None
                if isinstance(v, str):
                    found = True
                    keys.add(v)
        return keys if found else None

    def _deps(self, flow, expr):
        out = set(flow.deps(expr))
        if root_name(expr) in self.ts_vars:
            out.add(TS)
        for n in iter_nodes(expr):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in DK.TIME_VARYING_METHODS:
                out.add(TV)
                for a in list(n.args) + [k.value for k in n.keywords]:
                    v = self.ctx.literal(a)
                    if any(isinstance(x, str) and DK.TIME_NAME.search(x) for x in (v if isinstance(v, list) else [v])):
                        out.add(TS)
            key = _col(n) if isinstance(n, (ast.Subscript, ast.Attribute)) else None
            if key and DK.TIME_NAME.search(key[1]):
                out.add(TS)
        return out


def _col(node):
    """(frame var, column) for df["col"] / df.col, else None."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        s = node.slice
        if isinstance(s, ast.Constant) and isinstance(s.value, str):
            return node.value.id, s.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and not node.attr.startswith("_"):
        return node.value.id, node.attr
    return None
