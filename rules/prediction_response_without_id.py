"""A prediction response carries no identifier that later labels could be joined on.

## What it does
Flags the `return` of a model-serving request handler that builds its response as a dict literal
(directly, through `jsonify`/`JSONResponse`/`json.dumps`, or a dict variable filled in the
handler) with no identifier key (`id`, `request_id`, `prediction_id`, `trace_id`, `*_id`...), when
the handler and its helpers create no id either (`uuid`, `ulid`, a request-id header).

## Why is this bad?
Checkpoint 15 (ground truth collection): the true outcome (a click, a chargeback, a delivery
time) arrives later, from another system. Without an id that travels with the prediction into the
response and the prediction log, the outcome cannot be joined to the prediction that caused it, so
live accuracy can never be computed.

## Example
```python
import joblib
from fastapi import FastAPI

app = FastAPI()
model = joblib.load("model.joblib")


@app.post("/predict")
def predict(x: list[float]):
    return {"prediction": model.predict([x]).tolist()}
```

## Use instead
```python
import uuid

import joblib
from fastapi import FastAPI

app = FastAPI()
model = joblib.load("model.joblib")


@app.post("/predict")
def predict(x: list[float]):
    return {"prediction_id": str(uuid.uuid4()), "prediction": model.predict([x]).tolist()}
```

## Known limits
Responses built by a pydantic model or a helper are not inspected (an `id` field may be there).
Ids added by a gateway or middleware are invisible. A handler whose prediction log carries an id
(`logger.info(..., extra={"transaction_id": ...})`, structlog keywords) is not reported: ground truth
can be joined on the log.
"""
import ast

from mllint.knowledge import canonical
from mllint.knowledge import monitoring as MK
from mllint.rule import FileRule, ProjectRule, RuleMeta

from mllint.rules import _serving_common as C

WRAPPERS = ("flask.jsonify", "fastapi.responses.JSONResponse", "starlette.responses.JSONResponse", "json.dumps",
            "fastapi.responses.ORJSONResponse", "flask.make_response", "dict", "quart.jsonify", "sanic.response.json",
            "aiohttp.web.json_response", "jsonify", "JSONResponse")
ID_CALLS = ("uuid.", "ulid.", "shortuuid.", "nanoid.", "secrets.token_hex", "secrets.token_urlsafe", "ksuid.")


def _keys(node):
    """-> (keys, has_spread) of a dict literal / dict(...) call, else None."""
    if isinstance(node, ast.Dict):
        keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        spread = any(k is None for k in node.keys) or len(keys) != len(node.keys)
        for v in node.values:  # nested objects: {"prediction": {"value": y, "ride_id": rid}}
            if isinstance(v, (ast.ListComp, ast.List)):  # {"predictions": [{"customer_id": ..., ...} for ...]}
                v = v.elt if isinstance(v, ast.ListComp) else (v.elts[0] if v.elts else None)
            sub = _keys(v) if isinstance(v, ast.Dict) else None
            if sub is not None:
                keys += sub[0]
        return keys, spread
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        return [k.arg for k in node.keywords if k.arg], any(k.arg is None for k in node.keywords)
    return None


class PredictionResponseWithoutId(FileRule, ProjectRule):
    meta = RuleMeta(code="ML1501", level="note", precision="medium", tags=("monitoring", "ground-truth"))

    def begin(self):
        # request-path code can only live in modules that a serving module imports (pre-scan)
        return self.ctx.maybe_serving

    def visit_Assign(self, node) -> None:
        if not self.ctx.function or len(node.targets) != 1:
            return
        t = node.targets[0]
        if isinstance(t, ast.Name):
            k = _keys(node.value)
            if k is not None:
                self.record(("dict", self.ctx.scope, t.id, tuple(k[0]), k[1]))
        elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and isinstance(t.slice, ast.Constant) \
                and isinstance(t.slice.value, str):
            self.record(("key", self.ctx.scope, t.value.id, t.slice.value))

    def visit_Return(self, node) -> None:
        if not self.ctx.function or node.value is None:
            return
        v = node.value
        if isinstance(v, ast.Call) and (v.args or v.keywords):
            q = self.ctx.call_qualname(v) or (v.func.id if isinstance(v.func, ast.Name) else "")
            if canonical(q) in WRAPPERS or (q or "").rsplit(".", 1)[-1] in ("jsonify", "JSONResponse", "json_response"):
                if v.args:
                    v = v.args[0]
                else:
                    content = [k.value for k in v.keywords if k.arg == "content"]
                    v = content[0] if content else v
        span = self.ctx.span_of(node)
        k = _keys(v)
        if k is not None:
            self.record(("ret", self.ctx.scope, None, tuple(k[0]), k[1], span))
        elif isinstance(v, ast.Name):
            self.record(("ret", self.ctx.scope, v.id, (), False, span))

    def check_project(self, project):
        dicts, added, rets = {}, {}, {}
        for path, s in project.summaries.items():
            for item in s.facts.get(self.meta.code, []):
                if item[0] == "dict":
                    dicts[(path, item[1], item[2])] = (set(item[3]), item[4])
                elif item[0] == "key":
                    added.setdefault((path, item[1], item[2]), set()).add(item[3])
                elif item[0] == "ret":
                    rets.setdefault(f"{path}::{item[1]}", []).append(item[2:])
        for sid in C.inference_handlers(project):
            path, _, scope = sid.partition("::")
            fn = project.function(sid)
            if fn is None or C.is_get_route(fn) or any(MK.ID_KEY_RE.search(p) for p, _ in fn.params):
                continue
            local = project.summaries[path].scope_assigns.get(scope, {})
            if any(MK.ID_KEY_RE.search(n) for n in local):
                continue  # the handler holds an id (``ride_id = event["ride_id"]``)
            if any(any(MK.ID_KEY_RE.search(k) for k in keys) for (p, sc, _n), (keys, _s) in dicts.items()
                   if p == path and sc == scope):
                continue  # an id travels in another object the handler builds
            if self._creates_id(project, sid) or _logs_id(project, sid):
                continue
            for name, keys, spread, span in rets.get(sid, []):
                if name is not None:
                    if (path, scope, name) not in dicts:
                        continue
                    keys, spread = dicts[(path, scope, name)]
                    keys = set(keys) | added.get((path, scope, name), set())
                if spread or not keys or any(MK.ID_KEY_RE.search(k) for k in keys):
                    continue
                yield self.finding(path, span,
                                   f"the response of `{fn.name}` carries no id (`prediction_id`, `request_id`...); "
                                   f"return and log one so delayed ground truth can be joined to this prediction")
                break

    def _creates_id(self, project, sid) -> bool:
        for s in project.reachable([sid], through_imports=False):
            for c, _ in project.calls(s):
                q = canonical(c.qualname)
                if q.startswith(ID_CALLS) or q in ("uuid", "ulid"):
                    return True
                if c.attr == "get" and c.args and c.args[0].kind == "const" and isinstance(c.args[0].value, str) and \
                        "id" in c.args[0].value.lower() and "request" in (c.receiver or "") + c.args[0].value.lower():
                    return True
        return False


_LOG_METHODS = frozenset({"info", "debug", "warning", "warn", "error", "log", "exception", "critical", "msg"})


def _logs_id(project, sid: str) -> bool:
    """A log record of the prediction carries an id: ``logger.info("prediction", extra={"transaction_id":
    ...})`` or ``log.info("prediction", transaction_id=...)`` (structlog): ground truth joins on the log."""
    for c, _ in project.calls(sid):
        if c.attr not in _LOG_METHODS:
            continue
        for k, v in c.kwargs.items():
            if MK.ID_KEY_RE.search(k):
                return True
            if k == "extra" and v.kind == "dict" and any(
                    kv.kind == "const" and isinstance(kv.value, str) and MK.ID_KEY_RE.search(kv.value)
                    for kv, _ in v.value):
                return True
    return False
