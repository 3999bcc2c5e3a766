"""A model is deployed but the repository has no alerting configuration at all.

## What it does
When the repository deploys a model server (a KServe/Seldon resource, a Deployment running a model
server, a SageMaker endpoint in CloudFormation, or a Dockerfile that starts a serving module) and
no alerting configuration exists anywhere: no Prometheus rule file or `PrometheusRule`, no
Alertmanager config, no Grafana alert provisioning, no CloudWatch alarm (CloudFormation or
`put_metric_alarm`), no Datadog/PagerDuty/Opsgenie resources or files named like alerts/monitors.
Reports once, at the first model-serving config.

## Why is this bad?
Checkpoint 16 (alerting and escalation): without alerts nobody learns that the model server is
down or that its predictions went wrong until a user complains.

## Example
```yaml
# k8s/model.yaml, and no alert rules anywhere in the repository
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: fraud-model
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: gs://models/fraud/v7
```

## Use instead
```yaml
# monitoring/alerts.yaml next to the InferenceService
groups:
  - name: fraud-model
    rules:
      - alert: FraudModelErrors
        expr: sum(rate(revision_request_count{response_code_class="5xx"}[5m])) > 0.1
        labels: {severity: page}
        annotations: {runbook_url: https://runbooks.acme.dev/fraud-model}
```

## Known limits
Alerting managed in another repository is invisible: disable the rule in `[tool.mllint]` then.
Alert definitions in a Helm template (`kind: PrometheusRule`, `- alert:`), Terraform
(`aws_cloudwatch_metric_alarm`, `google_monitoring_alert_policy`, `datadog_monitor`...) or Jsonnet
count, found by their text.
"""
from mllint.knowledge import deploy as DK
from mllint.rule import ProjectRule, RuleMeta


class NoAlertRules(ProjectRule):
    meta = RuleMeta(code="ML1604", level="note", precision="medium", profile="production",
                    tags=("alerting", "monitoring"))

    def check_project(self, project):
        serving = DK.model_serving_configs(project)
        if not serving or DK.has_alerting(project):
            return
        d = serving[0]
        line = DK.doc_anchor(d)
        yield self.finding(d.path, (line, 1, line, 2),
                           "this repository deploys a model but defines no alerting (Prometheus rules, "
                           "Alertmanager, Grafana, CloudWatch alarms...); add alerts for availability and for "
                           "model behaviour")
