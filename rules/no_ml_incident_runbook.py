"""Alerts exist but no incident documentation covers ML failures (drift, degradation, data quality, skew).

## What it does
When the repository defines alerting (Prometheus rules, `PrometheusRule`, Alertmanager, CloudWatch
alarms...) and trains or serves models, looks for incident documentation: a Markdown document
whose name or headings mention incidents, postmortems, on-call, runbooks or playbooks, and whose
text mentions an ML failure class (drift, degradation, data quality, skew, stale features,
retraining, rollback of a model). Reports once, at the first alert, when there is none.

## Why is this bad?
Checkpoint 20 (incident response for ML failures): ML incidents look different from outages. The
service is up while predictions are wrong. Without a documented procedure (how to confirm drift,
when to roll back to the previous model, how to disable a feature, who decides), the first drift
page is handled by improvisation.

## Example
```yaml
# monitoring/alerts.yaml, and no docs mention how to handle drift or degradation
groups:
  - name: model
    rules:
      - alert: PredictionDrift
        expr: max(feature_psi) > 0.2
        labels: {severity: ticket}
        annotations: {runbook_url: https://runbooks.acme.dev/drift}
```

## Use instead
```yaml
# the same alerts, plus docs/runbooks/model-incidents.md with sections such as
#   ## Prediction drift: confirm, roll back to the previous model version, retrain
#   ## Data quality failure: disable the feature, backfill, postmortem
groups:
  - name: model
    rules:
      - alert: PredictionDrift
        expr: max(feature_psi) > 0.2
        labels: {severity: ticket}
        annotations: {runbook_url: https://runbooks.acme.dev/drift}
```

## Known limits
Runbooks kept in a wiki are invisible (the runbook URL in an alert is not followed).
"""
import re

from mllint.knowledge import deploy as DK
from mllint.rule import ProjectRule, RuleMeta

_INCIDENT = re.compile(r"incident|postmortem|post-mortem|on-?call|runbook|playbook|escalation|troubleshoot", re.I)
_ML_FAILURE = re.compile(r"drift|degrad|data quality|data-quality|skew|stale feature|retrain|roll ?back|"
                         r"model (rollback|regression|failure)|outlier", re.I)


class NoMlIncidentRunbook(ProjectRule):
    meta = RuleMeta(code="ML2001", level="note", precision="medium", profile="production",
                    tags=("documentation", "incident-response"))

    def check_project(self, project):
        alerting = DK.has_alerting(project)
        if not alerting:
            return
        if not (project.has_training or project.has_serving or DK.model_serving_configs(project)):
            return
        for d in project.configs:
            if d.kind != "markdown":
                continue
            about_incidents = _INCIDENT.search(d.path) or any(  # the name or a folder: docs/runbooks/...
                _INCIDENT.search(h.text) for h in d.data.headings)
            if about_incidents:
                text = project.doc_text(d)
                if text is None or _ML_FAILURE.search(text):
                    return  # a runbook (or one that changed since it was read: cannot tell, stay silent)
        alerts = [a for a in DK.all_alerts(project) if not DK.is_test(project, a.doc.path)]
        if alerts:
            path, line = alerts[0].doc.path, alerts[0].line
        else:
            docs = [d for d in project.configs if d.kind in ("prometheus-rules", "alertmanager", "cloudformation")
                    or (d.kind == "k8s" and d.subkind in ("PrometheusRule", "AlertmanagerConfig"))]
            if not docs:
                return
            d = docs[0]
            alarms = DK.cfn_resources(d, "AWS::CloudWatch::Alarm") if d.kind == "cloudformation" else []
            if d.kind == "cloudformation" and not alarms:
                return
            path, line = d.path, (alarms[0][2] if alarms else d.data.line_of("kind") if hasattr(d.data, "line_of")
                                  else d.line)
        yield self.finding(path, (line, 1, line, 2),
                           "alerts are defined but no incident runbook covers ML failures (drift, degraded "
                           "predictions, data quality, skew); document how to confirm, roll back the model and "
                           "escalate")
