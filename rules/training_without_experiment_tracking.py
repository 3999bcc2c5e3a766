"""A training entrypoint runs without any experiment tracker.

## What it does
For every training entrypoint (a `__main__` script, a notebook, a `[project.scripts]` target, a
`@hydra.main` function, a `dvc.yaml`/`MLproject`/Dockerfile/CI command that trains), looks at all the
code it reaches and reports the entrypoint when none of it uses an experiment tracker: MLflow
(including `autolog`), Weights & Biases, Neptune, Comet, ClearML, Aim, DVCLive, Sacred, Guild,
Polyaxon, TensorBoard (`SummaryWriter`, `tf.summary`, the Keras `TensorBoard` callback), Lightning
loggers, SageMaker Experiments, Vertex AI experiments, Accelerate trackers, MLRun, Azure ML, NNI,
Ray Tune/Train, ZenML, Metaflow and Flyte (which record each run's parameters and artifacts), Hugging Face
`TrainingArguments` whose `report_to` is not `"none"`, or a `dvc.yaml` stage that runs the script
with `params:` in a pipeline that declares `metrics:` (on a stage or at the top level).

## Why is this bad?
Checkpoint 2 (experiment tracking): without a tracker the parameters, code version, data and
metrics of each run live only in a terminal scroll-back. Results cannot be compared, a good model
cannot be traced back to how it was trained, and regressions go unnoticed.

## Example
```python
from sklearn.linear_model import LogisticRegression

if __name__ == "__main__":
    model = LogisticRegression(C=0.5).fit(X, y)
    print("accuracy", model.score(X_val, y_val))
```

## Use instead
```python
import mlflow
from sklearn.linear_model import LogisticRegression

if __name__ == "__main__":
    mlflow.autolog()
    with mlflow.start_run():
        model = LogisticRegression(C=0.5).fit(X, y)
        mlflow.log_metric("val_accuracy", model.score(X_val, y_val))
```

## Known limits
Tracking configured outside the code (a platform that wraps the job, Databricks autologging,
trackers enabled through a Hydra/Lightning config file) is not seen: add the internal wrapper's
module to the `trackers` option or suppress the finding. A tracker imported anywhere in the code an
entrypoint reaches counts, even behind an `if`.

## Configuration
`trackers` (list of qualified-name prefixes): extra modules or functions that count as trackers,
e.g. `["mycompany.tracking"]`.
"""
import shlex

from mllint.graph import split_scope
from mllint.knowledge import canonical, in_packages
from mllint.knowledge import tracking as TR
from mllint.rule import ProjectRule, RuleMeta


class TrainingWithoutExperimentTracking(ProjectRule):
    meta = RuleMeta(code="ML0201", level="note", precision="high", profile="production",
                    tags=("experiment-tracking",), fix="none", options={"trackers": []})

    def check_project(self, project):
        if not project.training_entrypoints:
            return
        extra = frozenset(p for p in self.options.get("trackers") or [] if isinstance(p, str))
        tracked_paths = set()
        for path, s in project.summaries.items():
            for imp in s.imports:
                if TR.imports_tracker(imp.module, imp.name) or (
                        extra and in_packages(canonical(imp.module) + (f".{imp.name}" if imp.name else ""), extra)):
                    tracked_paths.add(path)
                    break
        config_tracked = _config_tracked_scripts(project)
        seen = set()
        scope_memo: dict = {}  # sid -> does a call in it track? (entrypoints' reaches overlap)
        for ep in project.training_entrypoints:
            if ep.kind == "serving" or project.is_test_path(ep.path) or ep.path in config_tracked:
                continue
            reach = project.reachable(ep.scopes)
            paths = {split_scope(sid)[0] for sid in reach}
            if paths & tracked_paths:
                continue
            if any(_scope_tracks(project, sid, extra, scope_memo) for sid in reach):
                continue
            path, span = _anchor(project, ep)
            if path in seen:
                continue  # one finding per entrypoint file (a main block and a @hydra.main in it)
            seen.add(path)
            what = "notebook" if ep.kind == "notebook" else "training entrypoint"
            yield self.finding(path, span,
                               f"{what} `{ep.path}` trains but nothing it runs logs to an experiment tracker "
                               f"(MLflow, W&B, TensorBoard, DVCLive...); its params and metrics are not recorded")


def _anchor(project, ep) -> tuple:
    """Where to report: a main block, a ``@hydra.main`` function...; in a notebook or a script
    without a main block, the first top-level call that trains (or calls project code that does),
    rather than line 1 (a licence header, the imports) or a call to a helper that trains nothing."""
    from mllint.knowledge import training as TK
    from mllint.summary import MAIN_SCOPE, MODULE_SCOPE

    s = project.summaries.get(ep.path)
    if s is None or (s.main_line and ep.kind != "notebook") or ep.kind in ("hydra", "project-script"):
        return ep.anchor
    direct = project.direct_training_scopes

    def trains_through(target: str) -> bool:  # the function called makes a training call, or calls one that does
        return any(sid in direct for sid in project.reach_sorted((target,), False))

    first = None
    for c in s.calls:
        if c.scope in (MODULE_SCOPE, MAIN_SCOPE) and (first is None or (c.line, c.col) < (first.line, first.col)) and \
                (TK.is_training_call(c) or (c.target is not None and trains_through(c.target))):
            first = c
    return (ep.path, first.span()) if first is not None else ep.anchor


def _scope_tracks(project, sid: str, extra, memo: dict) -> bool:
    hit = memo.get(sid)
    if hit is None:
        hit = memo[sid] = any(_tracks(call, extra) for call, _ in project.calls(sid))
    return hit


def _tracks(call, extra) -> bool:
    t = TR.tracker_of_call(call)
    if t:
        return True
    if extra:
        for name in (canonical(call.qualname), canonical(call.receiver_type)):
            if name and in_packages(name, extra):
                return True
    return False


def _config_tracked_scripts(project) -> set:
    """Scripts run by a dvc.yaml stage declaring params and metrics, or by an MLproject entry
    point (``mlflow run`` records the entry point's parameters)."""
    out = set()
    for d in project.configs:
        data = d.data
        if not isinstance(data, dict):
            continue
        cmds = []
        if d.kind == "dvc":
            stages = data.get("stages")
            stage_list = [st for st in (stages.values() if isinstance(stages, dict) else []) if isinstance(st, dict)]
            # DVC experiments track a stage's params together with the pipeline's metrics: stage-level
            # ``metrics:`` or the top-level ``metrics:`` list (dvc.yaml 3.x)
            pipeline_metrics = bool(data.get("metrics")) or any(st.get("metrics") for st in stage_list)
            for st in stage_list:
                if st.get("params") and pipeline_metrics:
                    c = st.get("cmd")
                    cmds.extend(c if isinstance(c, list) else [c])
        elif d.kind == "mlproject":
            eps = data.get("entry_points")
            for ep in (eps.values() if isinstance(eps, dict) else []):
                if isinstance(ep, dict):
                    cmds.append(ep.get("command"))
        base = d.path.rsplit("/", 1)[0] if "/" in d.path else ""
        for cmd in cmds:
            if not isinstance(cmd, str):
                continue
            for piece in cmd.replace("&&", ";").split(";"):
                try:
                    argv = shlex.split(piece.replace("{", "X").replace("}", "X"), comments=True)
                except ValueError:
                    argv = piece.split()
                for ep in project.entries_from_command(argv, d.kind, d.path, base):
                    out.add(ep.path)
    return out
