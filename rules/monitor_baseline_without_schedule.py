"""A SageMaker Model Monitor baseline is computed but no monitoring schedule uses it.

## What it does
Flags `monitor.suggest_baseline(...)` on a SageMaker Model Monitor (`DefaultModelMonitor`,
`ModelQualityMonitor`, `ModelBiasMonitor`, `ModelExplainabilityMonitor`) when the repository never
creates a monitoring schedule (`create_monitoring_schedule`, `MonitoringSchedule` in
sagemaker-core or a CloudFormation `AWS::SageMaker::MonitoringSchedule`).

## Why is this bad?
Checkpoint 14 (data drift detection): a baseline alone checks nothing. Only a schedule compares
the captured endpoint traffic with it and emits the violations and CloudWatch metrics that drift
alerts are built on.

## Example
```python
from sagemaker.model_monitor import DefaultModelMonitor
from sagemaker.model_monitor.dataset_format import DatasetFormat

monitor = DefaultModelMonitor(role="arn:aws:iam::1:role/sm", instance_count=1, instance_type="ml.m5.xlarge")
monitor.suggest_baseline(baseline_dataset="s3://bucket/train.csv",
                         dataset_format=DatasetFormat.csv(header=True),
                         output_s3_uri="s3://bucket/baseline")
```

## Use instead
```python
from sagemaker.model_monitor import CronExpressionGenerator, DefaultModelMonitor
from sagemaker.model_monitor.dataset_format import DatasetFormat

monitor = DefaultModelMonitor(role="arn:aws:iam::1:role/sm", instance_count=1, instance_type="ml.m5.xlarge")
monitor.suggest_baseline(baseline_dataset="s3://bucket/train.csv",
                         dataset_format=DatasetFormat.csv(header=True),
                         output_s3_uri="s3://bucket/baseline")
monitor.create_monitoring_schedule(endpoint_input="churn-endpoint",
                                   statistics=monitor.baseline_statistics(),
                                   constraints=monitor.suggested_constraints(),
                                   schedule_cron_expression=CronExpressionGenerator.hourly())
```

## Known limits
A schedule created from another repository or the console is invisible. A file that creates
both a baseline and a schedule is taken as self-contained; a schedule in a file without its own
baseline counts for every baseline in the repository.
"""
from mllint.knowledge import monitoring as MK
from mllint.rule import ProjectRule, RuleMeta

from mllint.rules import _serving_common as C


class MonitorBaselineWithoutSchedule(ProjectRule):
    meta = RuleMeta(code="ML1403", level="warning", precision="high", tags=("monitoring", "drift"))

    def check_project(self, project):
        baselines, schedules = [], set()
        for path, c in project.all_calls():
            if c.attr in MK.MONITOR_SCHEDULE_METHODS or "MonitoringSchedule" in (c.qualname or ""):
                schedules.add(path)
            if c.attr == "suggest_baseline" and (C.qual_in(c.receiver_type, MK.MONITOR_TYPES) or
                                                 "monitor" in (c.receiver or "").lower()):
                baselines.append((path, c))
        if not baselines or C.config_mentions(project, r"AWS::SageMaker::MonitoringSchedule|MonitoringScheduleConfig"):
            return
        baseline_files = {p for p, _ in baselines}
        # a file with only a schedule may serve baselines computed elsewhere; a file with both is
        # self-contained
        if schedules - baseline_files:
            return
        for path, c in baselines:
            if path in schedules:
                continue
            yield self.finding(path, c.span(),
                               "a Model Monitor baseline is suggested but no monitoring schedule is created; call "
                               "`create_monitoring_schedule(...)` with its statistics and constraints")
