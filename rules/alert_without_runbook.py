"""A Prometheus alert has no runbook link.

## What it does
Flags each alerting rule (`alert:`) in a Prometheus rule file or a `PrometheusRule` resource
whose annotations (or labels) carry no `runbook_url`, `runbook`, `playbook` or similar link, and
whose annotation texts mention no runbook.

## Why is this bad?
Checkpoint 16 (alerting and escalation), also 19 and 20: the person paged at 3 a.m. for
`PredictionDriftHigh` needs to know what the alert means, how to check it and how to roll back or
retrain. An alert without a runbook turns every page into an investigation from scratch.

## Example
```yaml
groups:
  - name: model
    rules:
      - alert: PredictionDriftHigh
        expr: max(feature_psi) > 0.2
        for: 30m
        labels:
          severity: page
```

## Use instead
```yaml
groups:
  - name: model
    rules:
      - alert: PredictionDriftHigh
        expr: max(feature_psi) > 0.2
        for: 30m
        labels:
          severity: page
        annotations:
          summary: Feature drift above 0.2 PSI for 30 minutes
          runbook_url: https://runbooks.acme.dev/ml/prediction-drift
```

## Known limits
Recording rules (`record:`) are not alerts. Helm-templated rule files are skipped until rendered.
"""
from mllint.knowledge import deploy as DK
from mllint.rule import ConfigRule, RuleMeta


class AlertWithoutRunbook(ConfigRule):
    meta = RuleMeta(code="ML1601", level="warning", precision="very-high", tags=("alerting", "operations"),
                    config_kinds=("prometheus-rules", "k8s"))

    def check_config(self, doc, project):
        if DK.is_test(project, doc.path):
            return
        for a in DK.alerts_of(doc):
            if not DK.alert_has_runbook(a.rule):
                yield self.finding(doc, a.line, f"alert `{a.name}` has no runbook link; add "
                                                f"`annotations.runbook_url` pointing at what to check and do")
