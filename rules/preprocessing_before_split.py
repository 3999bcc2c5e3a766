"""A data-dependent transformer or aggregate is fit on data that is later split into train and test.

## What it does
Follows each variable through the assignments of a function or module (a notebook's cells are one
module) and flags a fit whose learned statistics reach a train/test split:

- `fit`/`fit_transform`/`fit_on_texts` of scalers, `KBinsDiscretizer`, imputers, feature selectors,
  `PCA`/`TruncatedSVD`, text vectorisers, target encoders and Keras `Tokenizer`, when the
  transformed output flows into `train_test_split`, a cross-validation function, a splitter's
  `.split(X)` or a `*SearchCV.fit(X)`, or when the transformer fit on the full data is applied to
  a split part;
- pandas statistics baked into the data: `fillna(df[c].mean())`, `(df - df.mean()) / df.std()`,
  `(x - x.min()) / (x.max() - x.min())`, `pd.qcut(...)`, when that data is split afterwards.

## Why is this bad?
Checkpoint 6 (point-in-time correctness): the test rows' statistics (means, vocabularies, selected
features, quantiles) leak into the features the model is trained on, so the evaluation is
optimistic and the number will not hold in production.

## Example
```python
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
```

## Use instead
```python
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression

X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
```

## Known limits
Test files (under `tests/` or `test/`, `test_*.py`, `*_test.py`, `conftest.py`) are not checked:
they build synthetic data on purpose. The analysis is intra-procedural: data that crosses a function boundary, a class attribute or a
file is not followed, and a fit inside a helper function is not seen. Label and one-hot encoders,
`get_dummies` and `pd.cut` are not reported (their leak is the category set, not a statistic).
Statistics along another axis than the rows (`X.mean(axis=1)`: each sample by its own values) are
not reported.
A `SimpleImputer(strategy="constant")` learns nothing and is not reported. Data held in a variable
named like a training part (`X_train`, `train_df`) counts as already split: scaling `X_train` and
cross-validating on it, or splitting a competition's `train.csv` into train and validation after
imputing it, is not reported.
"""
import ast

from mllint.knowledge import data as DK, is_test_path
from mllint.knowledge.dataflow import SPLIT, Flow, dotted, kwarg, root_name, split_sink
from mllint.rule import FileRule, Location, RuleMeta
from mllint.summary import iter_nodes

_NUMPY_AGG_DIV = frozenset({"std", "max", "var", "nanstd", "nanmax"})
_NUMPY_AGG_SUB = frozenset({"mean", "median", "min", "nanmean", "nanmedian", "nanmin"})


class _Event:
    __slots__ = ("id", "node", "what", "reported", "obj")

    def __init__(self, i, node, what, obj=None):
        self.id, self.node, self.what, self.reported, self.obj = i, node, what, False, obj


class PreprocessingBeforeSplit(FileRule):
    meta = RuleMeta(code="ML0601", level="warning", precision="high", tags=("leakage", "data"))

    def begin(self):
        self.module = None
        if is_test_path(self.ctx.path):
            return False  # tests split synthetic data on purpose
        # nothing to find in a module that never splits (gate before any dataflow work)
        return self.ctx.text_has(*DK.SPLIT_NEEDLES)

    def visit_Module(self, node):
        self.module = node

    def leave_FunctionDef(self, node):
        self._analyse(node.body)

    leave_AsyncFunctionDef = leave_FunctionDef

    def finish(self):
        if self.module is not None:
            self._analyse(self.module.body)

    # ------------------------------------------------------------------ analysis of one scope
    def _analyse(self, body):
        self.events = []
        self.fitted = {}  # transformer variable -> _Event (None: fit on a split part)
        self.by_node = {}  # id(fit call) -> _Event, for chained `.fit(X).transform(X)`
        self.ctor = {}  # variable -> constructor ast.Call
        self.aggvars = {}  # variable -> data variable it is an aggregate of
        self.reported_objs = set()
        self.in_split = {}  # events whose fitted data was split afterwards
        # names a comprehension binds to one element at a time: ``[scaler.fit_transform(s) for s in
        # series]`` scales each sample by its own values, nothing crosses samples
        self.element_names = {n.id for stmt in body for comp in iter_nodes(stmt) if comp.__class__ is ast.comprehension
                              for n in iter_nodes(comp.target) if n.__class__ is ast.Name}
        flow = Flow(self.ctx, self._on_call, self._on_bind)
        flow.run(body)

    def _event(self, node, what, obj=None):
        e = _Event(len(self.events), node, what, obj)
        self.events.append(e)
        return e

    def _report(self, e, split_node, split_name):
        if e.reported or (e.obj and e.obj in self.reported_objs):
            return  # one finding per fit, and per re-fitted transformer variable
        e.reported = True
        if e.obj:
            self.reported_objs.add(e.obj)
        line = split_node.lineno
        self.report(e.node, f"{e.what} data that `{split_name}` ({self.ctx.line_label(line)}) later splits into train and "
                            f"test: test statistics leak into training; fit it inside a Pipeline or on the "
                            f"training split only",
                    related=[Location(self.ctx.path, line, self.ctx.span_of(split_node)[1], message="the split")])

    def _split_part(self, flow, expr):
        """Data already split off (a split's output, or a variable named like the training part)."""
        if SPLIT in flow.deps(expr):
            return True
        r = root_name(expr) if expr is not None else None
        return bool(r) and "train" in r.lower()

    def _is_local(self, name):
        return bool(name) and name not in self.ctx.summary.aliases and name not in ("self", "cls")

    # an aggregate of a local variable: df['a'].mean(), np.mean(x), df.mode()[0], a saved aggregate
    def _agg_root(self, expr, depth=0):
        if depth > 4 or expr is None:
            return None
        if isinstance(expr, ast.Name):
            return self.aggvars.get(expr.id)
        if isinstance(expr, ast.Subscript):
            return self._agg_root(expr.value, depth + 1)
        if isinstance(expr, ast.Call):
            f = expr.func
            if isinstance(f, ast.Attribute) and f.attr in DK.AGG_METHODS:
                axis = next((k.value for k in expr.keywords if k.arg == "axis"), None)
                if axis is not None and self.ctx.literal(axis) not in (0, None, "index", "rows"):
                    return None  # ``X.mean(axis=1)``: each row's own statistic, nothing crosses rows
                q = self.ctx.qualname(f)
                if q is None:
                    r = root_name(f.value)
                    return r if self._is_local(r) else None
                if q in DK.NUMPY_AGG_FUNCTIONS or q.startswith("numpy."):
                    r = root_name(expr.args[0]) if expr.args else None
                    return r if self._is_local(r) else None
                return None
            if isinstance(f, ast.Name) and f.id in ("round", "int", "float") and expr.args:
                return self._agg_root(expr.args[0], depth + 1)
        return None

    def _std_root(self, value):
        """(x - agg(x)) / agg(x) or x / agg(x)-style scaling -> the data root, else None."""
        if not isinstance(value, ast.BinOp):
            return None
        if isinstance(value.op, ast.Div):
            num, den = value.left, value.right
            den_roots = {self._agg_root(n) for n in ast.walk(den) if isinstance(n, ast.Call)} - {None}
            if not den_roots:
                return None
            if isinstance(num, ast.BinOp) and isinstance(num.op, ast.Sub):
                r = root_name(num.left)
                if r in den_roots:
                    return r
            return None
        if isinstance(value.op, ast.Sub):
            r = root_name(value.left)
            if r is not None and self._agg_root(value.right) == r and isinstance(value.right, ast.Call) \
                    and isinstance(value.right.func, ast.Attribute) and value.right.func.attr in _NUMPY_AGG_SUB:
                return r
        return None

    def _on_bind(self, flow, target, value):
        if isinstance(target, ast.Name):
            self.ctor.pop(target.id, None)
            self.aggvars.pop(target.id, None)
            self.fitted.pop(target.id, None)
            if isinstance(value, ast.Call):
                self.ctor[target.id] = value
                r = self._agg_root(value)
                if r:
                    self.aggvars[target.id] = r
        if value is None:
            return
        r = self._std_root(value)
        if r is not None and not self._split_part(flow, ast.Name(id=r, ctx=ast.Load())):
            e = self._event(value, "Scaling by its own mean/std/min/max uses")
            flow.add(root_name(target), {("out", e.id)})

    def _on_call(self, flow, call):
        sink = split_sink(flow, call)
        if sink is not None:
            deps, produced, name = sink
            for lab in sorted(deps, key=lambda x: (x[0], x[1] if len(x) > 1 else -1)):  # earliest fit first
                if lab[0] == "out":
                    self._report(self.events[lab[1]], call, name)
                elif lab[0] == "in":
                    self.in_split.setdefault(lab[1], (call, name))
            return produced
        func = call.func
        if isinstance(func, ast.Name):
            if flow.qualname(call) in DK.QUANTILE_BINNING and call.args:
                if self._split_part(flow, call.args[0]):
                    return ()
                e = self._event(call, "`qcut` bins by the quantiles of")
                return {("out", e.id)}
            return ()
        if not isinstance(func, ast.Attribute):
            return ()
        attr = func.attr
        recv = func.value
        if flow.qualname(call) in DK.QUANTILE_BINNING and call.args:
            if self._split_part(flow, call.args[0]):
                return ()
            e = self._event(call, "`qcut` bins by the quantiles of")
            return {("out", e.id)}
        if attr in ("fit", "fit_transform", "fit_on_texts"):
            t = flow.type_of(recv)
            if t not in DK.LEAKY_TRANSFORMERS:
                return ()
            ctor = recv if isinstance(recv, ast.Call) else self.ctor.get(dotted(recv) or "")
            if ctor is not None and t == "sklearn.impute.SimpleImputer":
                strat = kwarg(ctor, "strategy")
                if isinstance(strat, ast.Constant) and strat.value == "constant":
                    return ()
            data = call.args[0] if call.args else (kwarg(call, "X") or kwarg(call, "raw_documents")
                                                    or kwarg(call, "texts"))
            if data is None:
                return ()
            obj = dotted(recv)
            names = {n.id for n in iter_nodes(data) if n.__class__ is ast.Name} if self.element_names else ()
            if names and names & self.element_names and \
                    all(n in self.element_names or not self._is_local(n) for n in names):
                return ()  # fit on one element of a collection (refit per sample)
            if self._split_part(flow, data):
                if obj:
                    self.fitted[obj] = None
                return ()
            e = self._event(call, f"`{t.rsplit('.', 1)[-1]}` is fit on", obj)
            if obj:
                self.fitted[obj] = e
            self.by_node[id(call)] = e
            r = root_name(data)
            if self._is_local(r):
                flow.add(r, {("in", e.id)})
            return {("out", e.id)} if attr == "fit_transform" else ()
        if attr in DK.APPLY_METHODS:
            obj = dotted(recv)
            e = self.fitted.get(obj) if obj else self.by_node.get(id(recv))
            if e is None:
                return ()
            data = call.args[0] if call.args else None
            if e.id in self.in_split and SPLIT in flow.deps(data):
                self._report(e, *self.in_split[e.id])
            return {("out", e.id)}
        if attr == "fillna":
            value = call.args[0] if call.args else kwarg(call, "value")
            if value is None:
                return ()
            roots = {self._agg_root(n) for n in ast.walk(value) if isinstance(n, (ast.Call, ast.Name))} - {None}
            if not roots:
                return ()
            r = root_name(recv)
            if self._split_part(flow, recv) or any(self._split_part(flow, ast.Name(id=x, ctx=ast.Load())) for x in roots):
                return ()
            e = self._event(call, "`fillna` fills with a statistic of")
            inplace = kwarg(call, "inplace")
            if isinstance(inplace, ast.Constant) and inplace.value is True:
                flow.add(r, {("out", e.id)})
            return {("out", e.id)}
        return ()
