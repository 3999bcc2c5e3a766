"""A transformer or encoder is fit on request data in the serving path.

## What it does
Flags, in code reachable from a request handler (FastAPI/Flask routes, KServe/MLServer/TorchServe
`predict`, SageMaker `predict_fn`, Lambda handlers ...): `fit`/`fit_transform`/`partial_fit` of
scalers, imputers, encoders, selectors, vectorisers and decompositions, Keras
`Tokenizer.fit_on_texts`, `pd.get_dummies`, `pd.qcut` / `pd.cut(bins=<int>)`, which bin by the
request's own statistics, and normalisation by the request batch's statistics
(`(x - x.mean()) / x.std()`, `(x - x.min()) / (x.max() - x.min())`) in pandas/polars modules
(per-image or per-signal standardisation in modules using torch, PIL, OpenCV, librosa ... is a
per-sample operation and is not reported).

## Why is this bad?
Checkpoint 5 (training-serving consistency): the model was trained on features scaled, encoded and
binned with the training data's statistics. Refitting on one request (or one batch) produces
different features: a single row standardises to zeros, `get_dummies` emits only the categories
present in the request, and the columns no longer line up with the model's.

## Example
```python
import pandas as pd
from fastapi import FastAPI
from sklearn.preprocessing import StandardScaler

app = FastAPI()

@app.post("/predict")
def predict(payload: dict):
    df = pd.DataFrame([payload])
    X = StandardScaler().fit_transform(df)
    return {"score": float(model.predict(X)[0])}
```

## Use instead
```python
import joblib
import pandas as pd
from fastapi import FastAPI

app = FastAPI()
scaler = joblib.load("scaler.joblib")  # fitted in training, loaded once at start-up

@app.post("/predict")
def predict(payload: dict):
    X = scaler.transform(pd.DataFrame([payload]))
    return {"score": float(model.predict(X)[0])}
```

## Known limits
Handlers whose name says they train (`train`, `fit`, `update`, `learn`) and handlers that also
train a model (online learning) are not reported; suppress the finding in other online-learning
services. A fit guarded by a parameter (`if fit: scaler.fit(df)`) is treated as the training
branch. A transformer whose type cannot be resolved counts only when its variable is named like
one (`scaler`, `encoder`, `vectorizer`, `tokenizer` ...). `get_dummies` followed in the same
handler by `.reindex(columns=...)` or `.align(...)` gets the training columns and is not reported.
"""
import ast
import re

from mllint.graph import split_scope
from mllint.knowledge import canonical, last
from mllint.knowledge import data as DK
from mllint.knowledge import serving as SK
from mllint.knowledge import training as TK
from mllint.rule import FileRule, ProjectRule, RuleMeta

_NAMED_TRANSFORMER = re.compile(r"(scaler|encoder|vectori[sz]er|tokeni[sz]er|imputer|normali[sz]er|binarizer|"
                                r"discreti[sz]er|selector|pca|svd)$", re.I)
_TRAINING_NAME = re.compile(r"(train|fit|update|learn|refresh|retrain|calibrat)", re.I)


_PER_SAMPLE_LIBS = frozenset({"torch", "torchvision", "torchaudio", "PIL", "cv2", "librosa", "tensorflow", "keras",
                              "skimage", "imageio", "soundfile", "scipy"})
_BATCH_STATS = frozenset({"mean", "std", "min", "max", "median", "var"})


def _stat_root(node):
    """``x.mean()`` / ``np.std(x)`` -> the dotted name of ``x``; else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _BATCH_STATS:
        if node.args and isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "numpy", "torch"):
            return ast.unparse(node.args[0])
        if not node.args or node.func.attr not in ("min", "max"):
            return ast.unparse(node.func.value)
    return None


class FitAtInference(FileRule, ProjectRule):
    meta = RuleMeta(code="ML0502", level="warning", precision="high", tags=("training-serving-skew", "serving"))

    def begin(self):
        # request-path code can only live in modules that a serving module imports (pre-scan)
        return self.ctx.maybe_serving

    def visit_BinOp(self, node):
        # (x - x.mean()) / x.std()  or  (x - x.min()) / (x.max() - x.min()): scaling by the batch's statistics
        if not isinstance(node.op, ast.Div) or not isinstance(node.left, ast.BinOp) or \
                not isinstance(node.left.op, ast.Sub):
            return
        roots = {q.split(".")[0] for q in self.ctx.summary.aliases.values()}
        if "pandas" not in roots and "polars" not in roots or roots & _PER_SAMPLE_LIBS:
            return  # per-image / per-signal standardisation is per sample, not per batch
        x = ast.unparse(node.left.left)
        if _stat_root(node.left.right) != x:
            return
        den = [n for n in ast.walk(node.right) if isinstance(n, ast.Call)]
        if den and all(_stat_root(n) == x for n in den):
            self.record((self.ctx.scope, *self.ctx.span_of(node)))

    def check_project(self, project):
        for sid in sorted(project.request_scopes):
            path, scope = split_scope(sid)
            if project.is_test_path(path):
                continue
            fn = project.function(sid)
            if fn is not None and _TRAINING_NAME.search(fn.name):
                continue
            calls = [c for c, _ in project.calls(sid)]
            if any(TK.is_training_call(c) and not self._is_preprocessor(c) for c in calls):
                continue  # an online-learning handler
            params = {p for p, _ in fn.params} if fn is not None else set()
            s = project.summaries.get(path)
            for f in (s.facts.get(self.meta.code, []) if s is not None else []):
                if f[0] == scope:
                    yield self.finding(path, f[1:], "normalising by the request batch's own mean/std (or min/max) on "
                                                    "the serving path: the features no longer match training; use "
                                                    "the statistics saved at training time")
            for c in calls:
                what = self._what(c)
                if what is None:
                    continue
                if params and any(set(g.split()) & params for g in c.guards):
                    continue  # `if fit:` - the training branch of a shared helper
                if canonical(c.qualname) in DK.DUMMIES and any(_aligns(o) and o.line >= c.line for o in calls):
                    continue  # ``.reindex(columns=TRAIN_COLUMNS, fill_value=0)``: the training columns
                yield self.finding(path, c.span(), f"{what} on request data in the serving path: the features "
                                                   f"no longer match training; load the transformer fitted in "
                                                   f"training and only `transform`")

    def _is_preprocessor(self, c):
        return self._what(c) is not None or canonical(c.receiver_type) in DK.FITTABLE_PREPROCESSORS

    def _what(self, c):
        q = canonical(c.qualname)
        if q in DK.DUMMIES:
            return "`get_dummies` encodes only the categories present"
        if q == "pandas.qcut":
            return "`qcut` bins by the request's own quantiles"
        if q == "pandas.cut":
            bins = c.arg(1, "bins")
            if bins is not None and bins.kind == "const" and isinstance(bins.value, int) and \
                    not isinstance(bins.value, bool):
                return "`cut` with a bin count bins by the request's own range"
            return None
        if c.attr not in ("fit", "fit_transform", "partial_fit", "fit_on_texts", "adapt"):
            return None
        if not (c.args or c.kwargs or c.star_args):
            return None
        rt = canonical(c.receiver_type)
        if rt.endswith("()"):
            rt = ""
        name = last(rt) if rt else ""
        if rt in DK.FITTABLE_PREPROCESSORS:
            return f"`{name}.{c.attr}` refits"
        if (not rt or rt in SK.MODEL_LOADERS) and c.receiver and c.attr in ("fit", "fit_transform", "fit_on_texts") and \
                _NAMED_TRANSFORMER.search(last(c.receiver)):
            return f"`{c.receiver}.{c.attr}` refits"
        return None


def _aligns(c) -> bool:
    """``df.reindex(columns=...)`` / ``df.align(other, ...)``: the frame gets a fixed column set."""
    return (c.attr == "reindex" and ("columns" in c.kwargs or len(c.args) >= 2)) or c.attr == "align"
