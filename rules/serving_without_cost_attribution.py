"""A hand-written model server counts no predictions per model and version.

## What it does
When the repository serves a model from a hand-written web app, looks for per-prediction metrics
that carry a model, version, variant or tenant label (a `prometheus_client` `Counter`/`Histogram`/
`Summary`/`Gauge` with such a `labelnames` entry, BentoML/Ray metrics with such tags, or
OpenTelemetry meters). Reports at the first metric defined without such a label, or at the
serving entrypoint when the service defines no metric at all. Model servers that label their
metrics by model themselves (KServe, TorchServe, BentoML, Ray Serve, MLServer, Seldon, SageMaker)
are not checked.

## Why is this bad?
Checkpoint 12 (inference cost tracking): compute is spent per prediction. Without a prediction
count per model and version, the cost of a model (or of a new, larger version) cannot be
attributed, compared with the value it brings, or charged back to the team that owns it.

## Example
```python
import joblib
from fastapi import FastAPI
from prometheus_client import Counter

app = FastAPI()
model = joblib.load("model.joblib")
PREDICTIONS = Counter("predictions_total", "Predictions served")


@app.post("/predict")
def predict(x: list[float]):
    PREDICTIONS.inc()
    return {"y": model.predict([x]).tolist()}
```

## Use instead
```python
import joblib
from fastapi import FastAPI
from prometheus_client import Counter

app = FastAPI()
model = joblib.load("model.joblib")
PREDICTIONS = Counter("predictions_total", "Predictions served", ["model_name", "model_version"])


@app.post("/predict")
def predict(x: list[float]):
    PREDICTIONS.labels(model_name="churn", model_version="7").inc()
    return {"y": model.predict([x]).tolist()}
```

## Known limits
Cost allocated by labels on the Kubernetes resources, or by a gateway, is invisible to this rule.
Label names given through a variable count as present, and so do constant or default labels
(`const_labels=`, prometheus_flask_exporter `labels=`/`default_labels=`) that name the model.
"""
from mllint.knowledge import canonical
from mllint.knowledge import monitoring as MK
from mllint.rule import ProjectRule, RuleMeta

from mllint.rules import _serving_common as C


class ServingWithoutCostAttribution(ProjectRule):
    meta = RuleMeta(code="ML1201", level="note", precision="low", profile="production",
                    tags=("serving", "cost"))

    def check_project(self, project):
        anchor = C.web_anchor(project)
        if anchor is None:
            return
        if C.imports_any(project, ("opentelemetry.metrics", "opentelemetry.sdk.metrics", "datadog", "statsd")):
            return
        unlabelled = None
        for path, c in project.all_calls():
            if project.is_test_path(path):
                continue
            for k in ("labels", "const_labels", "default_labels", "static_labels", "group_by"):
                v = c.kwargs.get(k)  # prometheus_flask_exporter ``labels={...}``, aioprometheus ``const_labels``
                if v is not None and v.kind == "dict" and any(
                        kv.kind == "const" and isinstance(kv.value, str) and MK.COST_LABELS.search(kv.value)
                        for kv, _ in v.value):
                    return
            q = canonical(c.qualname)
            if not C.qual_in(q, MK.METRIC_TYPES):
                continue
            labels = c.kwargs.get("labelnames") or c.kwargs.get("tag_keys") or (c.args[2] if len(c.args) > 2 else None)
            if labels is None:
                if c.star_args or c.star_kwargs:
                    return
                unlabelled = unlabelled or (path, c)
                continue
            labels = project.const_value(path, c.scope, labels)
            if labels.kind != "list":
                return  # labels from a variable: trust them
            names = [v.value for v in labels.value if v.kind == "const" and isinstance(v.value, str)]
            if len(names) != len(labels.value) or any(MK.COST_LABELS.search(n) for n in names):
                return
            unlabelled = unlabelled or (path, c)
        if unlabelled:
            path, c = unlabelled
            yield self.finding(path, c.span(),
                               "serving metrics carry no model/version label, so inference cost cannot be attributed "
                               "per model; add `model_name`/`model_version` labels to the prediction counter")
            return
        path, span = anchor
        yield self.finding(path, span,
                           "the model server counts no predictions per model and version; add a prediction counter "
                           "labelled with `model_name`/`model_version` so inference cost can be attributed")
