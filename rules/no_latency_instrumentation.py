"""A hand-written model server measures no request latency and has no load test.

## What it does
When the repository serves a model from a hand-written web app (FastAPI, Flask, Starlette...),
looks for request-latency instrumentation (prometheus_client `Histogram`/`Summary`,
prometheus-fastapi-instrumentator, starlette-exporter, prometheus-flask-exporter, OpenTelemetry
instrumentation, statsd/Datadog timers) and for load-test assets (`locustfile.py`, k6 scripts,
vegeta/hey/wrk/ab invocations, Triton perf_analyzer, ghz, pytest-benchmark). Reports once, at the
serving entrypoint, when there is neither. Model servers that export latency metrics themselves
(KServe, TorchServe, BentoML, Ray Serve, MLServer, Seldon, SageMaker endpoints, Azure
Functions, Cloud Functions) are not checked.

## Why is this bad?
Checkpoint 11 (serving latency): without a latency histogram nobody knows the p50/p95/p99 the
service delivers, and without a load test nobody knows where it breaks; latency SLOs, autoscaling
thresholds and capacity plans are then guesses.

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
from prometheus_fastapi_instrumentator import Instrumentator

app = FastAPI()
Instrumentator().instrument(app).expose(app)
model = joblib.load("model.joblib")


@app.post("/predict")
def predict(x: list[float]):
    return {"y": model.predict([x]).tolist()}
```

## Known limits
Latency measured by a service mesh, gateway or APM agent that the repository does not configure
is invisible; suppress the finding in that case.
"""
import re

from mllint.knowledge import canonical
from mllint.knowledge import monitoring as MK
from mllint.rule import ProjectRule, RuleMeta

from mllint.rules import _serving_common as C

_LOAD_TEST_RUN = re.compile(r"(^|\s)(k6 run|locust |vegeta attack|hey -|wrk -|ab -n|perf_analyzer|ghz )")


class NoLatencyInstrumentation(ProjectRule):
    meta = RuleMeta(code="ML1103", level="note", precision="medium", profile="production",
                    tags=("serving", "performance"))

    def check_project(self, project):
        anchor = C.web_anchor(project)
        if anchor is None or self._instrumented(project) or self._load_tested(project):
            return
        path, span = anchor
        yield self.finding(path, span,
                           "the model server records no request-latency metric and the repository has no load test; "
                           "add a latency histogram (prometheus-fastapi-instrumentator, prometheus_client Histogram, "
                           "OpenTelemetry) and a locust/k6 script")

    def _instrumented(self, project) -> bool:
        if C.imports_any(project, MK.LATENCY_MODULES):
            return True
        for path, c in project.all_calls():
            q = canonical(c.qualname)
            if C.qual_in(q, MK.LATENCY_METRIC_TYPES):
                return True
            if c.attr in MK.STATSD_TIMER_METHODS and (C.qual_in(c.receiver_type, ("statsd", "datadog", "aiodogstatsd"))
                                                      or (c.receiver or "").lower().endswith(("statsd", "stats"))):
                return True
        return bool(C.config_mentions(project, r"prometheus[-_]fastapi[-_]instrumentator|starlette[-_]exporter|"
                                               r"prometheus[-_]flask[-_]exporter|opentelemetry-instrument|ddtrace-run"))

    def _load_tested(self, project) -> bool:
        for pat in MK.LOAD_TEST_FILES:
            if project.has_file(pat):
                for p in project.inventory:
                    if re.search(pat, p, re.I) and not p.endswith(".js"):
                        return True
                    if re.search(pat, p, re.I) and p.endswith(".js") and "k6" in C.read_text(project, p, 20000):
                        return True
        for p in project.inventory:
            if p.endswith(".js") and re.search(r"(^|/)(load|perf|stress|k6|bench)", p, re.I) and \
                    "k6" in C.read_text(project, p, 20000):
                return True
        if C.imports_any(project, MK.LOAD_TEST_MODULES):
            return True
        for d in project.configs:
            if d.kind == "shell":
                for cmd in getattr(d.data, "commands", []):
                    if cmd.argv and cmd.argv[0].rsplit("/", 1)[-1] in MK.LOAD_TEST_COMMANDS:
                        return True
            elif d.kind in ("github-workflow", "gitlab-ci", "dockerfile") and d.evidence(_LOAD_TEST_RUN):
                return True
        return False
