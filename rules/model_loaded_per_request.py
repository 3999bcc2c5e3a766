"""A model is loaded on every request instead of once at start-up.

## What it does
Finds model loaders (`joblib.load`, `pickle.load`, `torch.load`, `keras.models.load_model`,
`onnxruntime.InferenceSession`, `mlflow.*.load_model`, `*.from_pretrained`, `transformers.pipeline`,
`SentenceTransformer(...)`, `xgb.Booster(...)`, ...) on the serving request path: in a request
handler (FastAPI/Starlette/Flask routes, BentoML APIs, KServe/MLServer/TorchServe/Seldon/MLflow
`predict`, Ray Serve `__call__`, SageMaker `input_fn`/`predict_fn`/`output_fn`, AWS Lambda
handlers) or in a function it calls, when that code is not start-up code and not cached.

## Why is this bad?
Checkpoint 9 (serving scalability): deserialising a model takes from tens of milliseconds to
minutes and a lot of memory. Doing it per request multiplies latency, caps throughput, and makes
the service fall over under load.

## Example
```python
import joblib
from fastapi import FastAPI

app = FastAPI()


@app.post("/predict")
def predict(features: dict):
    model = joblib.load("model.joblib")
    return {"score": float(model.predict([list(features.values())])[0])}
```

## Use instead
```python
import joblib
from fastapi import FastAPI

app = FastAPI()
model = joblib.load("model.joblib")


@app.post("/predict")
def predict(features: dict):
    return {"score": float(model.predict([list(features.values())])[0])}
```

## Known limits
Loads in start-up hooks (module top level, FastAPI `lifespan`/`on_event("startup")`, KServe
`load`, TorchServe `initialize`, SageMaker `model_fn`, `__init__` of served classes), in
`functools.lru_cache`/`cache` functions and behind a `global`/`is None` singleton guard are fine,
also when the guard returns early (`if _model is not None: return _model` before the load).
Per-tenant model selection should use an LRU cache; suppress the finding where loading per request
is intended. Handlers whose name starts with load, reload, activate, deploy, train, update, swap...
(`activate_model`, `update_model`) are admin actions and are not reported. `pickle.loads` of bytes
whose name does not mention a model (a cached response) is not a model load. Code behind a lazy guard (`if x is None:`, `if key not in
cache:`) or reached only through a cached function runs once and is not on the per-request path.
"""
from mllint.finding import Location
from mllint.graph import split_scope
from mllint.knowledge import serving as SK
from mllint.rule import ProjectRule, RuleMeta

from mllint.rules import _serving_common as C


from mllint.graph import is_lazy_call

# Handlers whose purpose is to (re)load a model: an admin action, not a prediction request.
_LOADING_ENDPOINT = ("load", "reload", "activate", "refresh", "deploy", "switch", "promote", "register", "warm",
                     "train", "upload", "rollback", "update", "swap", "replace", "set")


def is_lazy_guarded(call) -> bool:
    return is_lazy_call(call) or any(g.startswith("Not ") or g == "Not" for g in call.guards)


def _after_early_return(project, path: str, scope: str, line: int) -> bool:
    """Does the function return early, before this line, when its model is already there?
    ``if _model is not None: return _model`` / ``if name in self._cache: return ...`` ahead of the
    load is the same lazy singleton as ``if _model is None: _model = load()``."""
    sid = f"{path}::{scope}"
    held = C.assigned_at(project, sid, line)  # `_model`, `self._model`, `cache[k]`
    if not held:
        return False
    for toks in C.early_exit_tests(project, sid, line):
        if ("None" in toks or " In" in f" {toks}" or "NotIn" in toks) and held & set(toks.split()):
            return True  # the early return tests the very name the load fills
    return False


class ModelLoadedPerRequest(ProjectRule):
    meta = RuleMeta(code="ML0901", level="warning", precision="high", tags=("performance", "serving"))

    def check_project(self, project):
        if not project.request_scopes:
            return
        reach_by_root = {}
        for path, summary in project.summaries.items():
            if project.is_test_path(path):
                continue
            for call in summary.calls:
                sid = f"{path}::{call.scope}"
                if sid not in project.request_scopes or sid in project.cached_scopes:
                    continue
                if not SK.is_model_loader(call) or is_lazy_guarded(call) or \
                        _after_early_return(project, path, call.scope, call.line):
                    continue
                if call.target is not None:
                    continue  # the project's own ``load_model``: a loader in its body is reported there
                root = self._root_for(project, sid, reach_by_root)
                root_fn = project.function(root) if root else None
                if root_fn is not None and root_fn.name.lower().lstrip("_").split("_")[0] in _LOADING_ENDPOINT:
                    continue  # e.g. POST /models/{id}/activate: loading is the point of the request
                related = []
                where = ""
                if root is not None:
                    rpath, span = project.handler_anchor(root)
                    fn = project.function(root)
                    name = fn.qualname if fn else split_scope(root)[1]
                    related.append(Location(rpath, span[0], span[1], span[2], span[3], message=f"request handler `{name}`"))
                    where = f" (reached from request handler `{name}`)" if root != sid else f" in request handler `{name}`"
                loader = call.qualname or call.attr
                yield self.finding(path, call.span(),
                                   f"`{loader}` loads a model on every request{where}; load it once at start-up "
                                   f"(module level, a lifespan/startup hook, or an `lru_cache`d loader)",
                                   related=related)

    @staticmethod
    def _root_for(project, sid, cache):
        if sid in project.request_roots:
            return sid
        for root in project.request_roots:
            if root not in cache:
                cache[root] = project.reachable([root], through_imports=False)
            if sid in cache[root]:
                return root
        return None
