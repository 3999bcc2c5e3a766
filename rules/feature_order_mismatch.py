"""Training and serving select features with literal lists that differ in order or membership.

## What it does
Collects literal lists of column names (at least four strings) written in code: `FEATURES = [...]`
constants, `df[[...]]` selections and `columns=[...]` of `pd.DataFrame(...)`/`reindex(...)`. When a list on the serving path (request handlers, what they
call, serving modules) overlaps a training-side list by at least 80 % but is not the same
sequence, the serving list is reported with the closest training list as related location.
Lists defined in a module that both sides use are shared, and are never compared.

## Why is this bad?
Checkpoint 5 (training-serving consistency): most models consume features by position. A column
list typed twice drifts: a reordered or renamed column is silently fed to the wrong weight, and
predictions degrade with no error.

## Example
```python
import pandas as pd
from fastapi import FastAPI
from sklearn.linear_model import LogisticRegression

app = FastAPI()


def train(df):
    return LogisticRegression().fit(df[["age", "income", "tenure", "plan"]], df["churned"])


@app.post("/predict")
def predict(payload: dict):
    X = pd.DataFrame([payload])[["income", "age", "tenure", "plan"]]
    return {"p": float(model.predict(X)[0])}


if __name__ == "__main__":
    model = train(pd.read_csv("churn.csv"))
```

## Use instead
```python
import pandas as pd
from fastapi import FastAPI
from sklearn.linear_model import LogisticRegression

FEATURES = ["age", "income", "tenure", "plan"]  # one definition, imported by training and serving
app = FastAPI()


def train(df):
    return LogisticRegression().fit(df[FEATURES], df["churned"])


@app.post("/predict")
def predict(payload: dict):
    X = pd.DataFrame([payload])[FEATURES]
    return {"p": float(model.predict(X)[0])}


if __name__ == "__main__":
    model = train(pd.read_csv("churn.csv"))
```

## Known limits
Lists built dynamically, read from config, or shorter than four names are not compared. A training
list is compared without the columns its file drops (`df.drop(columns=...)`) or uses as the label
(`y = df["churned"]`, `fit(X, df["churned"])`). The
overlap is computed on names; a list of unrelated fields that happens to share most names with a
training list (a response schema, say) can be reported.
"""
import ast

from mllint.graph import scope_id
from mllint.knowledge import data as DK
from mllint.rule import FileRule, Location, ProjectRule, RuleMeta

_MIN_ITEMS = 4
_MIN_OVERLAP = 0.8


_SEQUENCES = frozenset({ast.List, ast.Tuple})


def _str_list(node):
    if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) >= _MIN_ITEMS and \
            all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return tuple(e.value for e in node.elts)
    return None


class FeatureOrderMismatch(FileRule, ProjectRule):
    meta = RuleMeta(code="ML0503", level="warning", precision="high", tags=("training-serving-skew",))

    def visit_Subscript(self, node):
        if node.slice.__class__ not in _SEQUENCES:
            return  # most subscripts: ``x[0]``, ``d["k"]`` (checked here, every subscript comes by)
        items = _str_list(node.slice)
        if items and len(set(items)) == len(items):
            self._rec(node.slice, items, "")

    def begin(self):
        self._not_features = set()  # columns this file drops or uses as the label

    def visit_Call(self, node):
        # pd.DataFrame(rows, columns=[...]) / df.reindex(columns=[...])
        f = node.func
        attr = f.attr if f.__class__ is ast.Attribute else None
        if attr in ("fit", "fit_transform") and len(node.args) >= 2:
            self._not_features.update(_subscript_col(node.args[1]))  # ``fit(X, df["churned"])``
        for k in node.keywords:
            if k.arg == "columns":
                if attr == "drop":  # ``df.drop(columns="churned")``: not a feature
                    self._not_features.update(_strs(k.value))
                    continue
                items = _str_list(k.value)
                if items and len(set(items)) == len(items):
                    self._rec(k.value, items, "")

    def visit_Assign(self, node):
        t, v = node.targets[0], node.value
        vc = v.__class__
        if vc in _SEQUENCES:
            items = _str_list(v)
            if items and len(set(items)) == len(items) and len(node.targets) == 1 and isinstance(t, ast.Name):
                self._rec(v, items, t.id)
        # ``y = df["churned"]`` / ``X, y = ..., df["churned"]``: the label is not a feature
        if vc is ast.Subscript:
            pairs = ((t, v),)
        elif vc is ast.Tuple and t.__class__ is ast.Tuple and len(t.elts) == len(v.elts):
            pairs = zip(t.elts, v.elts)
        else:
            return
        for t, v in pairs:
            if v.__class__ is ast.Subscript and t.__class__ is ast.Name and DK.TARGET_NAME.match(t.id):
                self._not_features.update(_subscript_col(v))

    def finish(self):
        if self._not_features:
            self.record((None, tuple(sorted(self._not_features))))

    def _rec(self, node, items, name):
        self.record((self.ctx.scope, *self.ctx.span_of(node), items, name))

    # ------------------------------------------------------------------ project phase
    def check_project(self, project):
        if not project.has_training or not project.has_serving:
            return
        train, serve = [], []
        for path, s in project.summaries.items():
            facts = s.facts.get(self.meta.code)
            if not facts or project.is_test_path(path):
                continue
            path_trains = any(sid.startswith(path + "::") for sid in project.training_scopes)
            dropped = {c for f in facts if f[0] is None for c in f[1]}
            for f in facts:
                scope = f[0]
                if scope is None:
                    continue
                if dropped and set(f[5]) & dropped:  # the training list without its label and dropped columns
                    f = (*f[:5], tuple(x for x in f[5] if x not in dropped), *f[6:])
                sid = scope_id(path, scope)
                is_train = sid in project.training_scopes or (scope == "<module>" and path_trains)
                is_serve = sid in project.request_scopes or sid in project.startup_scopes or \
                    (scope == "<module>" and path in project.serving_modules)
                if is_train and is_serve:
                    continue  # a shared definition
                if is_train:
                    train.append((path, f))
                elif is_serve:
                    serve.append((path, f))
        train_seqs = {f[5] for _, f in train}
        seen = set()
        for path, f in serve:
            items = f[5]
            if items in train_seqs or (path, f[1], f[2]) in seen:
                continue  # the same sequence exists on the training side
            best, best_score = None, 0.0
            for tpath, t in train:
                common = len(set(items) & set(t[5]))
                score = common / max(len(items), len(t[5]))
                if score > best_score:
                    best, best_score = (tpath, t), score
            if best is None or best_score < _MIN_OVERLAP:
                continue
            seen.add((path, f[1], f[2]))
            tpath, t = best
            a, b = set(items), set(t[5])
            if a == b:
                diff = "the same names in a different order"
            else:
                parts = []
                if b - a:
                    parts.append("missing " + ", ".join(f"`{x}`" for x in sorted(b - a)[:3]))
                if a - b:
                    parts.append("extra " + ", ".join(f"`{x}`" for x in sorted(a - b)[:3]))
                diff = " and ".join(parts)
            label = f"`{t[6]}`" if t[6] else "the training feature list"
            yield self.finding(path, (f[1], f[2], f[3], f[4]),
                               f"serving feature list differs from {label} ({tpath}:{t[1]}): {diff}; import one "
                               f"shared definition so the column order cannot drift",
                               related=[Location(tpath, t[1], t[2], message="the training list")])


def _strs(node) -> list:
    if node.__class__ is ast.Constant and isinstance(node.value, str):
        return [node.value]
    if node.__class__ in (ast.List, ast.Tuple):
        return [e.value for e in node.elts if e.__class__ is ast.Constant and isinstance(e.value, str)]
    return []


def _subscript_col(node) -> list:
    """``df["churned"]`` -> ["churned"]."""
    if node.__class__ is ast.Subscript and node.slice.__class__ is ast.Constant and isinstance(node.slice.value, str):
        return [node.slice.value]
    return []
