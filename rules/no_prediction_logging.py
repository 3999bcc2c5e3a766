"""A request handler's prediction reaches only the HTTP response: it is never logged or stored.

## What it does
For each request handler that runs a model (directly or through the helpers it calls), checks
that the prediction reaches a sink other than the response: a logger call (`logging`, `structlog`,
`loguru`, `print`), a queue/DB/object-store write (Kafka, Kinesis, Pub/Sub, BigQuery, SQL, S3...),
a monitoring client (Arize, WhyLabs, Evidently...), a background task, or a project helper that
logs (resolved through callees). Payload capture configured outside the code also counts: KServe
`spec.predictor.logger`, Seldon request logging, SageMaker `DataCaptureConfig`, for the handlers
under the directory the manifest or deploy script speaks for (its folder, or the parent of a
`k8s/`/`deploy/` folder). Anchored at the handler's `def` line.

## Why is this bad?
Checkpoint 13 (model quality monitoring): without a record of what the model predicted, for which
input, there is nothing to join with ground truth later, no way to compute live accuracy, and no
way to investigate a complaint or a silent degradation.

## Example
```python
import joblib
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()
model = joblib.load("model.joblib")


class Features(BaseModel):
    values: list[float]


@app.post("/predict")
def predict(item: Features):
    y = model.predict([item.values])
    return {"prediction": y.tolist()}
```

## Use instead
```python
import logging

import joblib
from fastapi import FastAPI
from pydantic import BaseModel

logger = logging.getLogger("predictions")
app = FastAPI()
model = joblib.load("model.joblib")


class Features(BaseModel):
    values: list[float]


@app.post("/predict")
def predict(item: Features):
    y = model.predict([item.values])
    logger.info("prediction", extra={"input": item.values, "prediction": y.tolist()})
    return {"prediction": y.tolist()}
```

## Known limits
Logging done by a gateway or sidecar that the repository does not configure is invisible. Any
logger/sink call that receives the prediction (or a helper that logs and receives it) counts; the
rule does not check what is logged.
"""
from mllint.rule import ProjectRule, RuleMeta

from mllint.rules import _serving_common as C

OUTPUT_METHODS = ("postprocess", "post_process", "output_fn", "transform_output", "_postprocess")


class NoPredictionLogging(ProjectRule):
    meta = RuleMeta(code="ML1301", level="warning", precision="medium", profile="production",
                    tags=("serving", "monitoring"))

    def check_project(self, project):
        capture = C.payload_capture_scopes(project)
        flows = C.flows(project)
        roots = C.handler_sids(project)
        root_set = set(roots)
        # a handler called from another handler is checked with its caller
        reached_by_other = set()
        for r in roots:
            for x in project.reachable([r], through_imports=False):
                if x != r and x in root_set:
                    reached_by_other.add(x)
        groups = {}
        for r in roots:
            if r in reached_by_other or C.is_get_route(project.function(r)):
                continue
            path, _, scope = r.partition("::")
            cls = C.class_of(project, path, scope)
            key = (path, cls) if cls else (path, scope)
            if not cls and project.function(r) and project.function(r).name in C.SK.SCRIPT_HANDLER_FUNCTIONS:
                key = (path, "<script>")  # SageMaker input_fn/predict_fn/output_fn work together
            groups.setdefault(key, []).append(r)
        for key, members in sorted(groups.items()):
            reach = project.reachable(members, through_imports=False)
            infer_scopes = [s for s in reach if C.inference_calls(project, s)]
            if not infer_scopes:
                continue
            if any(C.in_scope(sc, key[0]) for sc in capture):
                continue
            if self._logged(project, flows, reach, members):
                continue
            anchor = next((m for m in members if m in infer_scopes), None) or next(
                (m for m in members if C.performs_inference(project, m)), members[0])
            fn = project.function(anchor)
            path, span = project.handler_anchor(anchor)
            yield self.finding(path, span,
                               f"the prediction of `{fn.name if fn else anchor}` only goes back in the response: "
                               f"log it (with its input and an id) or send it to a monitoring sink, or enable payload "
                               f"capture")

    def _logs_own_prediction(self, project, flows, sid) -> bool:
        reach = project.reachable([sid], through_imports=False)
        return self._logged(project, flows, reach, [], depth=1)

    def _logged(self, project, flows, reach, members, depth=0) -> bool:
        if depth > 2:
            return False
        predicting = {s for s in reach if C.performs_inference(project, s)}
        extra = set()
        for sid in reach:
            flow = flows.get(sid)
            for c, tgt in project.calls(sid):
                t = C.annotated_target(project, C.path_of(sid), flow, c) if not tgt else None
                if t:
                    extra |= project.reachable([t], through_imports=False)
        reach = set(reach) | extra
        predicting |= {s for s in extra if C.performs_inference(project, s)}
        for sid in reach:
            flow = flows.get(sid)
            if not flow:
                continue
            path = C.path_of(sid)
            preds = set()
            for c, tgt in project.calls(sid):
                tgt = tgt or C.annotated_target(project, path, flow, c)
                if C.inference_ref(project, path, c, tgt, flow) or (tgt and C.performs_inference(project, tgt)):
                    preds.add(("c", c.line, c.col))
            fn = project.function(sid)
            if fn is not None and sid in members and fn.name in OUTPUT_METHODS:
                preds |= {("p", p) for p, _ in fn.params if p not in ("self", "cls", "context", "accept", "headers")}
            if not preds:
                continue
            for pos in flow.get("prints", ()):
                if flow["calls"].get(pos, frozenset()) & preds:
                    return True
            for c, tgt in project.calls(sid):
                tgt = tgt or C.annotated_target(project, path, flow, c)
                if tgt and tgt in predicting and (("c", c.line, c.col) in preds) and C.logs_somewhere(project, tgt) \
                        and self._logs_own_prediction(project, flows, tgt):
                    return True
                if not (flow["calls"].get((c.line, c.col), frozenset()) & preds):
                    continue
                if C.is_log_or_sink(c):
                    return True
                if tgt and tgt not in predicting and C.logs_somewhere(project, tgt):
                    return True
        return False
