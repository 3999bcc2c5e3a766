"""A tracked run logs metrics but never the params or config that produced them.

## What it does
For every training entrypoint, follows the code it reaches (through project helpers) and reports
the first metric-logging call (`mlflow.log_metric(s)`, `MlflowClient.log_metric`, `wandb.log`,
`run.log`) when the same tracker never receives parameters or config anywhere on that path:
`mlflow.log_param(s)`, `mlflow.autolog()`/`mlflow.<flavor>.autolog()`, `log_dict`, `log_artifact`,
`wandb.init(config=...)`, `wandb.config.update(...)`, `run.config.update(...)`, `log_hyperparams`,
Accelerate `init_trackers(..., config=...)`, W&B sweeps.

## Why is this bad?
Checkpoint 2 (experiment tracking): a metric without the parameters behind it cannot be compared
with other runs or reproduced. The tracker shows that accuracy went up, not which learning rate,
data version or model config did it.

## Example
```python
import mlflow
from sklearn.linear_model import LogisticRegression

if __name__ == "__main__":
    with mlflow.start_run():
        model = LogisticRegression(C=0.5).fit(X, y)
        mlflow.log_metric("accuracy", model.score(X_val, y_val))
```

## Use instead
```python
import mlflow
from sklearn.linear_model import LogisticRegression

if __name__ == "__main__":
    with mlflow.start_run():
        mlflow.log_params({"C": 0.5})
        model = LogisticRegression(C=0.5).fit(X, y)
        mlflow.log_metric("accuracy", model.score(X_val, y_val))
```

## Known limits
Params recorded outside the code (an `MLproject` entry point's parameters under `mlflow run`,
Databricks autologging, `wandb.config.x = ...` attribute assignments) count as recorded when they
can be seen: any `MLproject` file silences MLflow findings, any `wandb.config` use silences W&B
findings. The W&B integrations that record the config themselves count: the XGBoost and LightGBM
callbacks, and a Hugging Face `Trainer` whose arguments say `report_to="wandb"` (or `"all"`). A
`wandb.log` of data only (`wandb.Table`, images, plots) is not a metric. Neptune and Comet are not
analysed (Comet logs command-line arguments automatically).
"""
from mllint.knowledge import canonical
from mllint.knowledge import tracking as TR
from mllint.rule import FileRule, ProjectRule, RuleMeta

from mllint.rules import _serving_common as C


class TrackingMetricsWithoutParams(FileRule, ProjectRule):
    meta = RuleMeta(code="ML0202", level="warning", precision="high", profile="poc",
                    tags=("experiment-tracking",), fix="none")

    # -------------------------------------- walk: any read/write of ``wandb.config`` (attribute sets)
    def visit_Attribute(self, node) -> None:
        if node.attr != "config":
            return
        q = self.ctx.qualname(node)
        if q and canonical(q).startswith(("wandb.config", "wandb.run.config")):
            if not self.ctx.summary.facts.get(self.meta.code):
                self.record("wandb-config")
            return
        base = node.value
        if hasattr(base, "id"):
            t = self.ctx.var_type(base.id)
            if t and canonical(t).startswith(TR.WANDB_RUN_TYPES) and not self.ctx.summary.facts.get(self.meta.code):
                self.record("wandb-config")

    # ------------------------------------------------------------------------------- project
    @staticmethod
    def _scope_info(project, sid: str, path: str) -> tuple:
        metrics, params = [], set()
        test = project.is_test_path(path)
        for call, _ in project.calls(sid):
            m = TR.metric_call(call)
            if m and not test and not (m == "wandb" and _media_only(project, path, sid, call)):
                metrics.append((m, call))
            p = TR.param_call(call)
            if p:
                params.add(p)
        return metrics, frozenset(params)

    def check_project(self, project):
        mlproject = any(d.kind == "mlproject" for d in project.configs)
        reported = set()
        per_scope: dict = {}  # sid -> ([(tracker, call)] metric calls, {tracker} params): entrypoints share scopes
        for ep in project.training_entrypoints:
            if project.is_test_path(ep.path):
                continue
            reach = project.reachable(ep.scopes)
            metrics = {}
            params = set()
            paths = set()
            for sid in reach:
                path = sid.partition("::")[0]
                paths.add(path)
                info = per_scope.get(sid)
                if info is None:
                    info = per_scope[sid] = self._scope_info(project, sid, path)
                for m, call in info[0]:
                    prev = metrics.get(m)
                    cand = (path != ep.path, path, call.line, call.col, call)
                    if prev is None or cand[:4] < prev[:4]:
                        metrics[m] = cand
                params |= info[1]
            if any(project.summaries[p].facts.get(self.meta.code) for p in paths if p in project.summaries):
                params.add("wandb")
            if mlproject:
                params.add("mlflow")
            if "any" in params:
                continue
            for tracker, (_, path, line, col, call) in sorted(metrics.items()):
                if tracker in params or (path, line, col) in reported:
                    continue
                reported.add((path, line, col))
                name = "MLflow" if tracker == "mlflow" else "W&B"
                fix = "`mlflow.log_params(...)` or `mlflow.autolog()`" if tracker == "mlflow" else \
                    "`wandb.init(config=...)`"
                yield self.finding(path, call.span(),
                                   f"this run logs metrics to {name} but never its params or config; record them with "
                                   f"{fix} so the metrics can be compared and reproduced")


def _media_only(project, path: str, sid: str, call) -> bool:
    """Does this ``wandb.log`` record only data (a ``wandb.Table``, images, plots), no metric?  A
    run that logs dataset rows or generated samples has no params to pair them with."""
    arg = call.arg(0, "data")
    if arg is None or arg.kind != "dict" or not arg.value:
        return False
    scope = sid.partition("::")[2]
    for _key, v in arg.value:
        if v.kind == "call":
            q = canonical(v.value)
        elif v.kind == "name":
            q = canonical(C.type_of(project, path, scope, v.value))
        else:
            return False
        if q not in TR.WANDB_MEDIA:
            return False
    return True
