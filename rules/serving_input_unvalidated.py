"""A request handler feeds raw, unvalidated request data to the model.

## What it does
Flags the call where data from a raw request body reaches a model (an inference call, or a
project function that runs inference) inside a web request handler, when the handler never passes
that data through a schema. Raw bodies are: a parameter annotated `dict`/`Dict`/`Any`/`Request`
on a route-decorated handler, Flask/Quart `request.get_json()`, `request.json`, `request.form`,
`request.data`, and `await request.json()`/`await request.body()`. Schemas are pydantic models
(`Model(**data)`, `Model.model_validate(data)`), marshmallow `Schema().load`, pandera, attrs,
`jsonschema.validate`, `TypeAdapter`...; one validation of the data anywhere in the handler (or a
helper it calls) silences the handler.

## Why is this bad?
Checkpoint 7 (data quality monitoring): without a schema, a missing field, a string where a
number belongs, a new category or an out-of-range value flows straight into the features; the
model answers with a confident but meaningless prediction instead of a 422, and nobody learns that
the input distribution changed.

## Example
```python
import joblib
import pandas as pd
from fastapi import FastAPI

app = FastAPI()
model = joblib.load("model.joblib")


@app.post("/predict")
def predict(payload: dict):
    df = pd.DataFrame([payload])
    return {"y": model.predict(df).tolist()}
```

## Use instead
```python
import joblib
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel, Field

app = FastAPI()
model = joblib.load("model.joblib")


class Features(BaseModel):
    age: int = Field(ge=0, le=120)
    income: float = Field(ge=0)


@app.post("/predict")
def predict(payload: Features):
    df = pd.DataFrame([payload.model_dump()])
    return {"y": model.predict(df).tolist()}
```

## Known limits
Framework protocol payloads (KServe `predict(payload: Dict)`, Seldon, SageMaker `input_fn`) are
not flagged: their shape is fixed by the serving protocol. Casting fields one by one
(`float(data["x"])`) is not counted as a schema; a hand-rolled check that rejects the request
(`if ...: abort(400)` / `raise HTTPException(...)`) is, also in a helper the handler passes the
request data to (`check_payload(data)`).
"""
from mllint.knowledge import canonical, last
from mllint.knowledge import monitoring as MK
from mllint.rule import ProjectRule, RuleMeta

from mllint.rules import _serving_common as C


REJECTS = ("flask.abort", "werkzeug.exceptions.abort", "fastapi.HTTPException", "starlette.exceptions.HTTPException",
           "abort", "HTTPException", "ValidationError", "RequestValidationError", "BadRequest", "InvalidInput",
           "HTTPBadRequest", "UnprocessableEntity")


class ServingInputUnvalidated(ProjectRule):
    meta = RuleMeta(code="ML0701", level="warning", precision="high", tags=("serving", "data-quality"))

    def check_project(self, project):
        flows = C.flows(project)
        for sid in C.handler_sids(project):
            path, _, scope = sid.partition("::")
            fn = project.function(sid)
            flow = flows.get(sid)
            s = project.summaries[path]
            if fn is None or not flow:
                continue
            seeds = self._seeds(project, s, fn, flow, sid)
            if not seeds:
                continue
            if self._validated(project, path, sid, flow, seeds):
                continue
            for c, tgt in project.calls(sid):
                origins = flow["calls"].get((c.line, c.col), frozenset())
                if not (origins & seeds):
                    continue
                ref = C.inference_ref(project, path, c, tgt)
                via = None
                if ref is None and tgt:
                    tf = project.function(tgt)
                    if tf is None or tf.name == "__init__" or not C.performs_inference(project, tgt):
                        continue
                    via = tf.name
                elif ref is None:
                    continue
                what = f"`{via}(...)`" if via else "the model"
                yield self.finding(path, c.span(),
                                   f"raw request data reaches {what} in handler `{fn.name}` without a schema; "
                                   f"declare a pydantic model (or marshmallow/pandera schema) for the body")
                break

    def _seeds(self, project, s, fn, flow, sid) -> set:
        seeds = set()
        request_params = set()
        decorated = bool(fn.decorators) or fn.name == "__call__"
        for name, ann in fn.params:
            if name in ("self", "cls") or not ann:
                continue
            a = canonical(ann)
            if a in MK.RAW_REQUEST_TYPES or last(a) == "Request":
                request_params.add(name)
            elif decorated and (a in MK.RAW_ANNOTATIONS or ann in ("dict", "Dict")):
                seeds.add(("p", name))
        flask_request = {k for k, v in s.aliases.items() if v in ("flask.request", "quart.request")}
        for c, _ in project.calls(sid):
            if c.attr not in MK.RAW_BODY_METHODS:
                continue
            q = canonical(c.qualname)
            if q.startswith(("flask.request.", "quart.request.")) or (c.receiver in request_params):
                seeds.add(("c", c.line, c.col))
        for (line, col), d in flow.get("attrs", {}).items():
            head, _, rest = d.partition(".")
            if head in flask_request and rest in ("json", "form", "data", "values"):
                seeds.add(("a", line, col))
        return seeds

    def _validated(self, project, path, sid, flow, seeds) -> bool:
        for c, tgt in project.calls(sid):
            if _rejects(c):
                return True  # hand-rolled check: ``if len(x[0]) != 3: abort(400)``
            origins = flow["calls"].get((c.line, c.col), frozenset())
            if not (origins & seeds):
                continue
            if self._is_schema_call(project, path, c, tgt):
                return True
            if tgt and any(self._is_schema_call(project, C.path_of(t), cc, tt) or _rejects(cc)
                           for t in project.reachable([tgt], through_imports=False)
                           for cc, tt in project.calls(t)):
                return True  # a helper handed the request data validates it (a schema, or checks that reject)
        return False

    def _is_schema_call(self, project, path, c, tgt) -> bool:
        q = canonical(c.qualname)
        if q in ("json.loads", "json.load", "pickle.loads", "pickle.load", "yaml.load", "orjson.loads", "ujson.loads"):
            return False
        if q in MK.SCHEMA_FUNCTIONS or any(q.startswith(p + ".") for p in MK.SCHEMA_FUNCTIONS):
            return True
        if c.attr in MK.SCHEMA_METHODS and q.split(".")[0] not in ("json", "pickle", "joblib", "torch", "numpy", "yaml"):
            return True
        name = q or (c.receiver or "")
        if name:
            ref = project._class_ref(q, path) if q else None
            if ref and self._schema_class(project, ref[0], ref[1]):
                return True
            if (c.star_kwargs or c.kwargs) and last(name)[:1].isupper() and last(name).endswith(
                    ("Schema", "Request", "Input", "Payload", "Features", "Body", "Model")):
                return True
        return False

    def _schema_class(self, project, path, cls, depth=0) -> bool:
        s = project.summaries.get(path)
        ci = s.classes.get(cls) if s else None
        if ci is None or depth > 5:
            return False
        if any(canonical(d) in MK.SCHEMA_DECORATORS for d in ci.decorators):
            return True
        for b in ci.bases:
            if canonical(b) in MK.SCHEMA_BASES or last(b) in ("BaseModel", "Schema", "DataFrameModel", "Struct"):
                return True
            ref = project._class_ref(b, path)
            if ref and self._schema_class(project, ref[0], ref[1], depth + 1):
                return True
        return False


def _rejects(c) -> bool:
    """``if missing: raise HTTPException(422)`` / ``abort(400)``: a guarded rejection."""
    return bool(c.guards) and (canonical(c.qualname) in REJECTS or last(c.qualname or c.attr) in REJECTS)
