"""TFDV validates statistics but no feature has a drift or skew comparator threshold.

## What it does
Flags `tfdv.validate_statistics(...)` calls that compare with other statistics
(`previous_statistics=` for drift, `serving_statistics=` for skew) when nothing in the repository sets a
`drift_comparator` or `skew_comparator` threshold (`infinity_norm`, `jensen_shannon_divergence`,
`normalized_abs_difference`) on a schema feature, neither in code nor in a schema `.pbtxt`.

## Why is this bad?
Checkpoint 14 (data drift detection): TFDV only compares the current statistics with the
previous span (drift) or with training (skew) for features that carry a comparator threshold.
Without one, passing `previous_statistics=` or `serving_statistics=` detects nothing and the
pipeline looks monitored while it is not.

## Example
```python
import tensorflow_data_validation as tfdv

train_stats = tfdv.generate_statistics_from_csv("train.csv")
schema = tfdv.infer_schema(train_stats)
serving_stats = tfdv.generate_statistics_from_csv("serving.csv")
anomalies = tfdv.validate_statistics(serving_stats, schema, previous_statistics=train_stats)
```

## Use instead
```python
import tensorflow_data_validation as tfdv

train_stats = tfdv.generate_statistics_from_csv("train.csv")
schema = tfdv.infer_schema(train_stats)
tfdv.get_feature(schema, "payment_type").drift_comparator.infinity_norm.threshold = 0.01
serving_stats = tfdv.generate_statistics_from_csv("serving.csv")
anomalies = tfdv.validate_statistics(serving_stats, schema, previous_statistics=train_stats)
```

## Known limits
A validation against the schema alone (no previous or serving statistics) asks for no drift or
skew check and is not reported here; a repository with no drift detection at all is reported by
`no-drift-detection`. Statistics passed through `**kwargs` are not seen. A threshold set in a schema file loaded from outside the repository is invisible. A module that
both sets thresholds and validates is taken as self-contained; thresholds set in a module without
its own validation count for every validation in the repository.
"""
from mllint.knowledge import canonical
from mllint.rule import FileRule, ProjectRule, RuleMeta

from mllint.rules import _serving_common as C


def _compares(call) -> bool:
    """Does the validation compare with other statistics (``previous_statistics=`` for drift,
    ``serving_statistics=`` for skew, or the same in 4th/5th position)?  A check against the schema
    alone asks for no drift or skew: thresholds would change nothing (the absence of drift
    detection is `no-drift-detection`'s)."""
    for pos, name in ((3, "previous_statistics"), (4, "serving_statistics")):
        v = call.arg(pos, name)
        if v is not None and not (v.kind == "const" and v.value is None):
            return True
    return False


class TfdvSchemaWithoutDriftThresholds(FileRule, ProjectRule):
    meta = RuleMeta(code="ML1402", level="warning", precision="high", tags=("monitoring", "drift"))

    def visit_Attribute(self, node) -> None:
        if node.attr in ("drift_comparator", "skew_comparator"):
            self.record(("threshold", node.lineno))

    def check_project(self, project):
        calls = [(p, c) for p, c in project.all_calls()
                 if canonical(c.qualname) == "tensorflow_data_validation.validate_statistics" and _compares(c)]
        if not calls:
            return
        with_thresholds = {p for p, s in project.summaries.items() if s.facts.get(self.meta.code)}
        call_files = {p for p, _ in calls}
        if with_thresholds - call_files:
            return  # thresholds set in a schema-curation module: they serve every validation
        for p in project.inventory:
            if p.endswith((".pbtxt", ".textproto", ".pb.txt")) and any(
                    a in C.read_text(project, p) for a in ("drift_comparator", "skew_comparator")):
                return
        for path, c in calls:
            if path in with_thresholds:
                continue
            yield self.finding(path, c.span(),
                               "`validate_statistics` runs but no schema feature has a `drift_comparator`/"
                               "`skew_comparator` threshold, so TFDV checks no drift or skew; set "
                               "`tfdv.get_feature(schema, name).drift_comparator.infinity_norm.threshold`")
