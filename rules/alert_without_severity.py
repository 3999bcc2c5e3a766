"""A Prometheus alert has no severity label, so it cannot be routed or escalated.

## What it does
Flags each alerting rule (`alert:`) in a Prometheus rule file or a `PrometheusRule` resource
without a `severity` (or `priority`/`urgency`) label.

## Why is this bad?
Checkpoint 16 (alerting and escalation): Alertmanager routes on labels. Without a severity a model
outage and a slow batch job land in the same channel with the same urgency, or in no route at all.

## Example
```yaml
groups:
  - name: model
    rules:
      - alert: ModelServerDown
        expr: up{job="model-server"} == 0
        for: 5m
```

## Use instead
```yaml
groups:
  - name: model
    rules:
      - alert: ModelServerDown
        expr: up{job="model-server"} == 0
        for: 5m
        labels:
          severity: critical
```

## Known limits
A severity added by Alertmanager relabelling or by a shared label on every rule at deploy time is
not visible here.
"""
from mllint.knowledge import deploy as DK
from mllint.rule import ConfigRule, RuleMeta


class AlertWithoutSeverity(ConfigRule):
    meta = RuleMeta(code="ML1602", level="note", precision="very-high", tags=("alerting", "operations"),
                    config_kinds=("prometheus-rules", "k8s"))

    def check_config(self, doc, project):
        if DK.is_test(project, doc.path):
            return
        for a in DK.alerts_of(doc):
            if not DK.alert_has_severity(a.rule, a.group_labels):
                yield self.finding(doc, a.line, f"alert `{a.name}` has no `severity` label; add one so "
                                                f"Alertmanager can route and escalate it")
