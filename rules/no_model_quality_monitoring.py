"""A model is served and nothing in the repository measures its live quality.

## What it does
When the repository serves a model, looks for model-quality monitoring anywhere in the code,
notebooks and configs: evidently classification/regression presets, NannyML performance
estimation (CBPE/DLE), SageMaker `ModelQualityMonitor`/`create_monitoring_schedule`, Vertex
`ModelDeploymentMonitoringJob`, Arize/Fiddler/WhyLabs/Superwise clients, Prometheus metrics on the
prediction distribution, and alert rules on model metrics. Reports once, at the serving
entrypoint, when there is none.

## Why is this bad?
Checkpoint 13 (model quality monitoring): infrastructure dashboards stay green while the model's
accuracy decays. Only a measurement of the predictions (against delayed labels, or estimated
without them) tells when to retrain or roll back.

## Example
```python
import joblib
from fastapi import FastAPI

app = FastAPI()
model = joblib.load("model.joblib")


@app.post("/predict")
def predict(x: list[float]):
    return {"y": model.predict([x]).tolist()}
```

## Use instead
```python
import joblib
from fastapi import FastAPI
from prometheus_client import Histogram

app = FastAPI()
model = joblib.load("model.joblib")
PREDICTION_SCORE = Histogram("prediction_score", "Distribution of predicted scores", ["model_version"])


@app.post("/predict")
def predict(x: list[float]):
    y = model.predict_proba([x])[0, 1]
    PREDICTION_SCORE.labels(model_version="v3").observe(y)
    return {"y": float(y)}
```

## Known limits
Monitoring run by an external platform that the repository does not configure is invisible;
suppress the finding in that case.
"""
import re

from mllint.knowledge import canonical
from mllint.knowledge import monitoring as MK
from mllint.rule import ProjectRule, RuleMeta

from mllint.rules import _serving_common as C

PRED_METRIC = re.compile(r"(predict|prediction|score|confidence|probab|output|class|label|drift|accuracy)", re.I)

_MODEL_ALERT = re.compile(r"predict|accuracy|drift|model", re.I)


class NoModelQualityMonitoring(ProjectRule):
    meta = RuleMeta(code="ML1302", level="note", precision="medium", profile="production",
                    tags=("monitoring",))

    def check_project(self, project):
        anchor = C.serving_anchor(project)
        if anchor is None or self._evidence(project):
            return
        path, span = anchor
        yield self.finding(path, span,
                           "a model is served but nothing measures its live quality (evidently/NannyML reports, "
                           "SageMaker ModelQualityMonitor, Arize/WhyLabs, metrics on the predictions); track "
                           "prediction distributions and accuracy against delayed labels")

    def _evidence(self, project) -> bool:
        if C.imports_any(project, MK.QUALITY_MODULES):
            return True
        for path, c in project.all_calls():
            q = canonical(c.qualname)
            if q and (q in MK.QUALITY_MONITORING or any(q.startswith(d + ".") for d in MK.QUALITY_MONITORING)):
                return True
            if c.attr in MK.QUALITY_METHODS:
                return True
            if C.qual_in(q, MK.METRIC_TYPES) or C.qual_in(c.receiver_type, MK.METRIC_TYPES):
                name = c.args[0].value if c.args and c.args[0].kind == "const" else ""
                if isinstance(name, str) and PRED_METRIC.search(name):
                    return True
        for d in project.configs:
            if d.kind == "prometheus-rules" and d.evidence(_MODEL_ALERT):
                return True
        if C.config_mentions(project, r"ModelQualityMonitor|model[-_]quality|ModelDeploymentMonitoringJob|"
                                      r"(?s:create_monitor.*)\b(prediction_drift|model_performance|generation_safety_quality)\b"):
            return True
        return False
