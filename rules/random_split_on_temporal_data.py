"""A shuffled train/test split of data that is sorted or indexed by time.

## What it does
Follows variables through the assignments of a function or module (a notebook's cells are one
module). A frame becomes time-ordered when it is sorted by a time column
(`sort_values("date")`), indexed by one (`set_index("timestamp")`, `df.index =
pd.to_datetime(...)`, `read_csv(..., parse_dates=[...], index_col=...)`) or resampled. The rule
flags `train_test_split` without `shuffle=False`, and `.split(X)` of `ShuffleSplit` or
`KFold(shuffle=True)`, applied to such a frame or anything derived from it. Aggregating by group
(`groupby`, `pivot_table`) ends the time ordering.

## Why is this bad?
Checkpoint 6 (point-in-time correctness): a shuffled split puts rows from the future into the
training set and evaluates on rows from the past, so the model is scored on interpolation while
production asks it to extrapolate. Errors look smaller than they will be.

## Example
```python
import pandas as pd
from sklearn.model_selection import train_test_split

df = pd.read_csv("sales.csv", parse_dates=["date"]).sort_values("date")
train, test = train_test_split(df, test_size=0.2, random_state=0)
```

## Use instead
```python
import pandas as pd
from sklearn.model_selection import TimeSeriesSplit, train_test_split

df = pd.read_csv("sales.csv", parse_dates=["date"]).sort_values("date")
train, test = train_test_split(df, test_size=0.2, shuffle=False)   # a time cut
folds = TimeSeriesSplit(n_splits=5).split(df)
```

## Known limits
Test files (under `tests/` or `test/`, `test_*.py`, `*_test.py`, `conftest.py`) are not checked:
they build synthetic data on purpose. A time column is recognised by name (`date`, `*_at`, `timestamp`, `*_ts`, `time`, `dt` ...) or by
`parse_dates`/`pd.to_datetime`. Cross-sectional data that merely happens to be sorted by a date
(one row per customer, say) can be split at random; suppress the finding there.
"""
import ast

from mllint.knowledge import data as DK, is_test_path
from mllint.knowledge.dataflow import Flow, kwarg, root_name
from mllint.rule import FileRule, RuleMeta
from mllint.summary import iter_nodes  # ast.walk without ctx/operator nodes, same order

TIME = ("time",)
_UNORDERING = frozenset({"groupby", "pivot_table", "pivot", "value_counts", "describe", "nunique", "agg",
                         "aggregate", "sample", "corr", "crosstab", "group_by", "unique"})


class RandomSplitOnTemporalData(FileRule):
    meta = RuleMeta(code="ML0605", level="warning", precision="medium", tags=("leakage", "time-series"))

    def begin(self):
        self.module = None
        self.time_cols = set()
        if is_test_path(self.ctx.path):
            return False  # tests split synthetic data on purpose
        return self.ctx.text_has(*DK.SPLIT_NEEDLES)

    def visit_Module(self, node):
        self.module = node

    def visit_Call(self, node):
        pd = kwarg(node, "parse_dates")
        if pd is not None:
            v = self.ctx.literal(pd)
            if isinstance(v, list):
                self.time_cols.update(x for x in v if isinstance(x, str))
        if self.ctx.call_qualname(node) in DK.DATETIME_FUNCTIONS and node.args:
            a = node.args[0]
            if isinstance(a, ast.Subscript) and isinstance(a.slice, ast.Constant) and isinstance(a.slice.value, str):
                self.time_cols.add(a.slice.value)

    def leave_FunctionDef(self, node):
        self._analyse(node.body)

    leave_AsyncFunctionDef = leave_FunctionDef

    def finish(self):
        if self.module is not None:
            self._analyse(self.module.body)

    def _analyse(self, body):
        self.ctors = {}
        self.done = set()
        Flow(self.ctx, self._on_call, self._on_bind).run(body)

    def _is_time(self, expr):
        if expr is None:
            return False
        v = self.ctx.literal(expr)
        vals = v if isinstance(v, list) else [v]
        return any(isinstance(x, str) and (x in self.time_cols or DK.TIME_NAME.search(x)) for x in vals)

    def _on_bind(self, flow, target, value):
        if isinstance(target, ast.Name):
            if isinstance(value, ast.Call):
                self.ctors[target.id] = value
            else:
                self.ctors.pop(target.id, None)
            if value is not None and any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                                         and n.func.attr in _UNORDERING for n in iter_nodes(value)):
                flow.labels[target.id] = flow.labels.get(target.id, frozenset()) - {TIME}
        elif isinstance(target, ast.Attribute) and target.attr == "index" and isinstance(value, ast.Call):
            if flow.qualname(value) in DK.DATETIME_FUNCTIONS:
                flow.add(root_name(target.value), {TIME})

    def _on_call(self, flow, call):
        q = flow.qualname(call)
        func = call.func
        if q in DK.TIME_INDEXED_SOURCES:
            return {TIME}
        if isinstance(func, ast.Attribute) and func.attr == "history" and flow.type_of(func.value) == "yfinance.Ticker":
            return {TIME}
        if q in DK.READ_FUNCTIONS:
            pdates, icol = kwarg(call, "parse_dates"), kwarg(call, "index_col")
            if pdates is not None and icol is not None:
                pv, iv = self.ctx.literal(pdates), self.ctx.literal(icol)
                if pv is True or (isinstance(pv, list) and (iv in pv or (isinstance(iv, int) and iv in pv))) \
                        or (isinstance(iv, str) and DK.TIME_NAME.search(iv)):
                    return {TIME}
            return ()
        if q == "sklearn.model_selection.train_test_split":
            sh = kwarg(call, "shuffle")
            if sh is not None and self.ctx.literal(sh) is not True:
                return ()
            arrays = [a for a in call.args if not isinstance(a, ast.Starred)]
            if any(TIME in flow.deps(a) for a in arrays):
                self._flag(call, "`train_test_split` shuffles")
            return ()
        if not isinstance(func, ast.Attribute):
            return ()
        attr = func.attr
        if attr in ("sort_values", "set_index", "sort_index"):
            by = call.args[0] if call.args else (kwarg(call, "by") or kwarg(call, "keys"))
            ordered = self._is_time(by) or (attr == "sort_index" and TIME in flow.deps(func.value))
            if not ordered:
                return ()
            ip = kwarg(call, "inplace")
            if ip is not None and self.ctx.literal(ip) is True:
                flow.add(root_name(func.value), {TIME})
            return {TIME}
        if attr in ("resample", "asfreq"):
            return {TIME}
        if attr == "split":
            recv = func.value
            ctor = recv if isinstance(recv, ast.Call) else self.ctors.get(recv.id if isinstance(recv, ast.Name) else "")
            if ctor is None or not isinstance(ctor, ast.Call):
                return ()
            cq = flow.qualname(ctor)
            shuffled = cq in ("sklearn.model_selection.ShuffleSplit",)
            if cq in ("sklearn.model_selection.KFold", "sklearn.model_selection.StratifiedKFold"):
                sh = kwarg(ctor, "shuffle")
                shuffled = sh is not None and self.ctx.literal(sh) is True
            x = call.args[0] if call.args else None
            if shuffled and x is not None and TIME in flow.deps(x):
                self._flag(call, f"`{cq.rsplit('.', 1)[-1]}` shuffles")
        return ()

    def _flag(self, call, what):
        if id(call) in self.done:
            return
        self.done.add(id(call))
        self.report(call, f"{what} rows of data that is ordered by time: the model trains on the future and is "
                          f"tested on the past; use `TimeSeriesSplit` or a time cut (`shuffle=False`)")
