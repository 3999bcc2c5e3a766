"""A model is served and nothing in the repository detects input drift.

## What it does
When the repository serves a model (a request handler that runs inference), looks for a drift
detector anywhere in the code, notebooks and manifests: evidently drift presets and metrics,
alibi-detect detectors (`KSDrift`, `MMDDrift`, `TabularDrift`...), NannyML drift calculators,
whylogs, TFDV `validate_statistics`, deepchecks drift checks, SageMaker `DefaultModelMonitor`,
Vertex model monitoring, river/frouros/torchdrift, statistical tests (`ks_2samp`, `chisquare`,
`wasserstein_distance`, `jensenshannon`) and PSI-style functions, or drift detectors deployed by a
manifest. Reports once, at the serving entrypoint, when there is none.

## Why is this bad?
Checkpoint 14 (data drift detection): the world the model was trained on moves (new products,
seasonality, an upstream schema change). Without a drift check the first signal is a business KPI
weeks later; with one, an alert fires when the live feature distribution departs from the
training reference.

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
# monitoring/drift.py, run on a schedule against logged predictions
import pandas as pd
from evidently.metric_preset import DataDriftPreset
from evidently.report import Report


def drift_report(reference: pd.DataFrame, current: pd.DataFrame) -> dict:
    report = Report(metrics=[DataDriftPreset()])
    report.run(reference_data=reference, current_data=current)
    return report.as_dict()
```

## Known limits
Drift monitored by an external platform that the repository does not configure is invisible;
suppress the finding or list the platform's package with `extend-drift-modules` when that is the
case.

## Configuration
`extend-drift-modules`: extra import prefixes that count as drift detection.
"""
from mllint.knowledge import canonical
from mllint.knowledge import monitoring as MK
from mllint.rule import ProjectRule, RuleMeta

from mllint.rules import _serving_common as C


class NoDriftDetection(ProjectRule):
    meta = RuleMeta(code="ML1401", level="note", precision="medium", profile="production",
                    tags=("monitoring", "drift"), options={"extend-drift-modules": []})

    def check_project(self, project):
        anchor = C.serving_anchor(project)
        if anchor is None or self._evidence(project):
            return
        path, span = anchor
        yield self.finding(path, span,
                           "a model is served but no drift detection exists in the repository (evidently, "
                           "alibi-detect, NannyML, whylogs, TFDV, SageMaker Model Monitor, KS/PSI tests); compare live "
                           "inputs with the training reference on a schedule")

    def _evidence(self, project) -> bool:
        modules = MK.DRIFT_MODULES + tuple(self.options.get("extend-drift-modules") or ())
        if C.imports_any(project, modules + ("whylogs", "nannyml", "tensorflow_data_validation", "torchdrift")):
            return True
        for path, c in project.all_calls():
            q = canonical(c.qualname)
            if q and (q in MK.DRIFT_DETECTORS or any(q.startswith(d + ".") for d in MK.DRIFT_DETECTORS)):
                return True
            if q.startswith(("evidently.", "deepchecks.")) and "Drift" in q:
                return True
            if c.attr in ("ModelDeploymentMonitoringJob",) or (q and "ModelDeploymentMonitoringJob" in q):
                return True
        for s in project.summaries.values():
            for imp in s.imports:
                name = imp.name or ""
                if "Drift" in name and (imp.module or "").startswith(("evidently", "deepchecks", "alibi_detect")):
                    return True
            for q in s.functions:
                if MK.PSI_FUNCTION_RE.search(q.rsplit(".", 1)[-1]):
                    return True
        if C.config_mentions(project, r"alibi[-_]detect|\bdrift[-_]?detect|DataDriftPreset|model[-_]monitor|(\b|_)psi(\b|_)"):
            return True
        return False
