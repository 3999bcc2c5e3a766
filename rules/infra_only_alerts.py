"""Every alert watches infrastructure (CPU, memory, up, 5xx, latency) and none watches the model.

## What it does
In a project that trains or serves models, collects the alerting rules of Prometheus rule files
and `PrometheusRule` resources. When there are alerts and no alert expression (nor alert name)
matches the model-metric pattern (predictions, drift, PSI, accuracy, AUC, F1, scores, feature
statistics, data quality, `model_*`...), reports once, at the first alert.

## Why is this bad?
Checkpoint 16 (alerting and escalation): models fail silently. The server stays up, latency is
fine and 5xx is zero while predictions drift or a feature arrives null. Infrastructure alerts alone
never page anyone for that.

## Example
```yaml
groups:
  - name: model-server
    rules:
      - alert: HighErrorRate
        expr: sum(rate(http_requests_total{status=~"5.."}[5m])) > 1
        labels: {severity: page}
```

## Use instead
```yaml
groups:
  - name: model-server
    rules:
      - alert: HighErrorRate
        expr: sum(rate(http_requests_total{status=~"5.."}[5m])) > 1
        labels: {severity: page}
      - alert: PredictionDrift
        expr: max(model_feature_psi) > 0.2
        labels: {severity: ticket}
```

## Configuration
`model_metric_pattern`: the regular expression (case-insensitive) that marks a model metric.

## Known limits
Alerts in files no loader parses (Helm templates, Terraform, Jsonnet) are not read; when a
repository has any, the rule stays silent, as the model's alerts may be among them.
"""
import re

from mllint.knowledge import deploy as DK
from mllint.rule import ProjectRule, RuleMeta


class InfraOnlyAlerts(ProjectRule):
    meta = RuleMeta(code="ML1603", level="warning", precision="medium", profile="production",
                    tags=("alerting", "monitoring"), options={"model_metric_pattern": DK.MODEL_METRIC_PATTERN})

    def check_project(self, project):
        alerts = [a for a in DK.all_alerts(project) if not DK.is_test(project, a.doc.path)]
        if not alerts:
            return
        if not (project.has_training or project.has_serving or DK.model_serving_configs(project)):
            return
        try:
            rx = re.compile(self.options.get("model_metric_pattern") or DK.MODEL_METRIC_PATTERN, re.I)
        except re.error:
            return
        if any(rx.search(a.expr) or rx.search(a.name) for a in alerts):
            return
        if DK.unparsed_alerting(project):
            return  # more alerts in a Helm template or Terraform: the model's may be among them
        first = alerts[0]
        yield self.finding(first.doc.path, (first.line, 1, first.line, 2),
                           f"all {len(alerts)} alert(s) watch infrastructure only; none watches model behaviour "
                           f"(prediction distribution, drift, data quality, quality metrics); add at least one "
                           f"model-metric alert")
