"""Training and serving both compute features, and share neither a feature module nor a feature store.

## What it does
Fires once per repository when both a training entrypoint and a serving path exist, both sides run
feature-transformation code (pandas/numpy operations such as `fillna`, `map`, `astype`,
`get_dummies`, `log1p`, datetime parts), and:

- no feature store is used or configured (`feature_store.yaml`, Feast `FeatureView`/`Entity`/
  `FeatureService`, Tecton, Hopsworks `hsfs`, `sagemaker.feature_store`, Vertex
  `FeatureOnlineStore`, Databricks `FeatureEngineeringClient`/`FeatureStoreClient`), and
- no project module with functions is imported by both sides (the intersection of what the
  training entrypoints reach and what the serving modules reach), and
- no dbt project computes the features upstream.

The finding is anchored at the first request handler that computes features.

## Why is this bad?
Checkpoint 8 (feature store / shared feature definitions): two copies of the feature logic drift
apart (a changed fill value, a new category, a different log base) and the model is served
features it was never trained on. One definition, imported by both sides or served from a
feature store, removes that class of skew.

## Example
```python
# train.py
df["amount_log"] = np.log1p(df["amount"].fillna(0))
model.fit(df[["amount_log"]], df["y"])

# serve.py (request handler)
amount_log = math.log1p(payload.get("amount") or 0)
```

## Use instead
```python
# features.py, imported by train.py and serve.py
def amount_log(amount):
    return np.log1p(np.nan_to_num(amount))
```

## Known limits
In a repository of many examples, only training entrypoints under the serving module's
grandparent directory are paired with it.
Features computed in SQL, another language or a service outside the repository are not seen; a
shared module counts whatever it contains (feature code or a shared read function). Training that
fits a scikit-learn `Pipeline`/`ColumnTransformer` ships its preprocessing inside the model, which
counts as the shared definition.
"""
import os
import re

from mllint.graph import split_scope
from mllint.knowledge import canonical
from mllint.knowledge import data as DK
from mllint.rule import ProjectRule, RuleMeta

_FEATURE_ATTRS = frozenset({
    "fillna", "map", "apply", "astype", "get_dummies", "log1p", "log", "clip", "cut", "qcut", "replace",
    "to_datetime", "dayofweek", "hour", "month", "weekday", "transform", "where", "one_hot", "sqrt", "exp",
    "fill_null", "with_columns", "str", "dt", "isin", "round", "nan_to_num", "digitize",
})


_PIPELINES = frozenset({"sklearn.pipeline.Pipeline", "sklearn.pipeline.make_pipeline",
                        "sklearn.compose.ColumnTransformer", "sklearn.compose.make_column_transformer"})
_FEATURE_FN = re.compile(r"(feature|featuri[sz]e|preprocess|prepare|build_x|make_x|encode_input)", re.I)


class NoSharedFeatureDefinitions(ProjectRule):
    meta = RuleMeta(code="ML0801", level="note", precision="medium", profile="production",
                    tags=("feature-store", "training-serving-skew"))

    def check_project(self, project):
        if not project.has_training or not project.has_serving:
            return
        if self._has_feature_store(project) or project.has_file(r"(^|/)dbt_project\.ya?ml$"):
            return
        anchor = None
        for sid in project.request_roots:  # the handler that computes features
            if not project.is_test_path(split_scope(sid)[0]) and \
                    self._computes(project, project.reachable([sid], through_imports=False)):
                anchor = project.handler_anchor(sid)
                break
        if anchor is None:
            return
        near = self._near_training(project, anchor[0])
        if not near:
            return  # training and serving of unrelated examples in a monorepo
        train_sids = {s for s in project.reachable([r for ep in near for r in ep.scopes])
                      if not project.is_test_path(split_scope(s)[0])}
        if not self._computes(project, train_sids):
            return
        if any(canonical(c.qualname) in _PIPELINES for sid in train_sids for c, _ in project.calls(sid)):
            return  # the preprocessing ships inside the model: a fitted Pipeline/ColumnTransformer is shared
        serve_sids = {s for s in project.request_scopes | project.startup_scopes
                      if not project.is_test_path(split_scope(s)[0])}
        serve_sids |= {f"{p}::<module>" for p in project.serving_modules if not project.is_test_path(p)}
        train_paths = {split_scope(s)[0] for s in train_sids}
        serve_paths = {split_scope(s)[0] for s in serve_sids}
        for path in train_paths & serve_paths:
            s = project.summaries.get(path)
            if s is not None and s.functions:
                return  # a shared project module with functions (feature code or a shared reader)
        path, span = anchor
        yield self.finding(path, span, "training and serving both compute features but share no feature module "
                                       "and no feature store: the two copies will drift; move the feature code "
                                       "into one module imported by both (or a feature store)")

    def _near_training(self, project, serve_path):
        """Training entrypoints in the serving module's project: under its grandparent directory."""
        base = os.path.dirname(os.path.dirname(serve_path))
        return [ep for ep in project.training_entrypoints
                if not project.is_test_path(ep.path) and (not base or ep.path.startswith(base + "/"))]

    def _computes(self, project, sids) -> bool:
        n = 0
        for sid in sids:
            if project.is_test_path(split_scope(sid)[0]):
                continue
            for c, _ in project.calls(sid):
                if c.attr in _FEATURE_ATTRS or (c.qualname or "").rsplit(".", 1)[-1] in _FEATURE_ATTRS:
                    n += 1
            fn = project.function(sid)
            if fn is not None and _FEATURE_FN.search(fn.name) and len(fn.fields) >= 2:
                return True
            if n >= 2:
                return True
        return False

    def _has_feature_store(self, project) -> bool:
        if project.has_file(DK.FEATURE_STORE_FILES):
            return True
        if any(project.uses_module(m) for m in DK.FEATURE_STORE_MODULES):
            return True
        for s in project.summaries.values():
            for imp in s.imports:
                if imp.name in DK.FEATURE_STORE_NAMES and (imp.module or "").split(".")[0] in (
                        "feast", "tecton", "hsfs", "hopsworks", "sagemaker", "databricks", "google", "vertexai"):
                    return True
        return False
