"""A model is promoted to production (registry stage, alias or approval) with no metric gate before it.

## What it does
Flags MLflow `transition_model_version_stage(..., stage="Production"|"Staging")`,
`set_registered_model_alias(..., alias="champion"|"production"|...)` and SageMaker
`update_model_package(ModelApprovalStatus="Approved")` when the enclosing function has no gate:
the call is not under an `if`, the function has no `assert`, no `if` comparing a metric
(accuracy, AUC, F1, loss, RMSE, score, threshold...) and no call to a validation helper
(`validate*`, `*gate*`, `compare*`, `is_better*`). Stays silent when the project has a
pipeline-level gate: `mlflow.evaluate(..., validation_thresholds=...)`, a SageMaker Pipelines
`ConditionStep`, a Kubeflow/Vertex `dsl.Condition`, or `dvc metrics diff`/CML in CI.

## Why is this bad?
Checkpoint 17 (staging and promotion): promoting whatever the last run produced means a model that
is worse than the current one, or broken by a data problem, goes live automatically. Promotion
should be conditional on metrics compared with a threshold or with the current champion.

## Example
```python
from mlflow import MlflowClient

client = MlflowClient()
run_version = client.get_latest_versions("fraud", stages=["None"])[0].version
client.transition_model_version_stage("fraud", run_version, stage="Production")
```

## Use instead
```python
from mlflow import MlflowClient

client = MlflowClient()
candidate = client.get_latest_versions("fraud", stages=["None"])[0]
auc = client.get_run(candidate.run_id).data.metrics["val_auc"]
if auc >= 0.91:
    client.transition_model_version_stage("fraud", candidate.version, stage="Production")
```

## Known limits
Notebooks are skipped: promotion there is interactive, after a person has read the metrics. A gate in a caller (the promotion helper is called only after a check elsewhere) is not followed
across functions. Promotions in a function or file named for a rollback (`rollback`, `revert`,
`restore`) re-point to a version production already ran and are not reported.
"""
import ast
import re

from mllint.rule import FileRule, ProjectRule, RuleMeta

_ALIAS = re.compile(r"champion|prod|production|live|best|current|serving", re.I)
_METRIC = re.compile(r"acc|auc|f1|score|loss|rmse|mae|mse|metric|threshold|precision|recall|r2|better|improv|"
                     r"baseline|champion|drift|psi|ks_|gate", re.I)
_GATE_CALL = re.compile(r"validat|gate|compare|is_better|better_than|check_threshold|passes|meets", re.I)
_CI_GATE = re.compile(r"dvc\s+metrics\s+diff|\bcml\b|mlflow\s+.*evaluate", re.I)


_ROLLBACK = re.compile(r"roll[-_ ]?back|revert|restore|undo", re.I)


class ModelPromotionWithoutValidationGate(FileRule, ProjectRule):
    meta = RuleMeta(code="ML1702", level="warning", precision="medium", tags=("deployment", "validation"))

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        attr = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        if attr not in ("transition_model_version_stage", "set_registered_model_alias", "update_model_package"):
            return
        what = self._promotion(node, attr)
        if not what or self._gated(node):
            return
        if _ROLLBACK.search(self.ctx.scope) or _ROLLBACK.search(self.ctx.path.rsplit("/", 1)[-1]):
            return  # a rollback re-points to a version production already ran
        self.record((*self.ctx.span_of(node), what))

    def _promotion(self, node, attr):
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if any(k.arg is None for k in node.keywords):
            return None
        if attr == "transition_model_version_stage":
            v = kw.get("stage", node.args[2] if len(node.args) > 2 else None)
            lit = self.ctx.literal(v) if v is not None else None
            if isinstance(lit, str) and lit.lower() in ("production", "staging"):
                return f"promotes the model to `{lit}`"
        elif attr == "set_registered_model_alias":
            v = kw.get("alias", node.args[1] if len(node.args) > 1 else None)
            lit = self.ctx.literal(v) if v is not None else None
            if isinstance(lit, str) and _ALIAS.search(lit):
                return f"points alias `{lit}` at the new version"
        elif attr == "update_model_package":
            lit = self.ctx.literal(kw["ModelApprovalStatus"]) if "ModelApprovalStatus" in kw else None
            if lit == "Approved":
                return "approves the model package for deployment"
        return None

    def _gated(self, node) -> bool:
        if self.ctx.guard_stack:
            return True
        scope = None
        for p in reversed(self.ctx.parents):
            if isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                scope = p
                break
        if scope is None:
            return False
        for n in ast.walk(scope):
            if isinstance(n, ast.Assert):
                return True
            if isinstance(n, (ast.If, ast.While, ast.IfExp)) and _METRIC.search(ast.unparse(n.test)):
                return True
            if isinstance(n, ast.Call) and getattr(n, "lineno", 0) <= node.lineno and n is not node:
                name = n.func.attr if isinstance(n.func, ast.Attribute) else n.func.id if isinstance(n.func, ast.Name) else ""
                if _GATE_CALL.search(name or ""):
                    return True
        return False

    def check_project(self, project):
        candidates = [(path, fact) for path, s in project.summaries.items()
                      if not (project.is_test_path(path) or s.kind == "notebook")  # a notebook: a person promotes
                      for fact in s.facts.get(self.meta.code, [])]
        if not candidates or self._project_gate(project):  # the project-wide gate search only when needed
            return
        for path, (line, col, end_line, end_col, what) in candidates:
            yield self.finding(path, (line, col, end_line, end_col),
                               f"this {what} with no metric check before it; gate promotion on evaluation "
                               f"metrics compared with a threshold or with the current model")

    @staticmethod
    def _project_gate(project) -> bool:
        for path, c in project.all_calls():
            q = c.qualname or ""
            if q.endswith("evaluate") and "validation_thresholds" in c.kwargs:
                return True
            if q.endswith(("ConditionStep", "dsl.Condition", "dsl.If")) or c.attr in ("ConditionStep",):
                return True
        for d in project.configs:
            if d.kind in ("github-workflow", "gitlab-ci", "shell", "dvc") and d.evidence(_CI_GATE):
                return True
        return False
