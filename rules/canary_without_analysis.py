"""A canary or blue/green rollout promotes on a timer, with no metric analysis or automatic rollback.

## What it does
Flags an Argo Rollouts `Rollout` whose `strategy.canary` has `steps` but no `analysis` step, no
background `analysis` and no `experiment` with analyses; a Flagger `Canary` whose `analysis` (or
`canaryAnalysis`) defines no `metrics` and no `webhooks`; and a CloudFormation
`AWS::SageMaker::Endpoint` blue/green update (`BlueGreenUpdatePolicy`) without
`AutoRollbackConfiguration.Alarms`.

## Why is this bad?
Checkpoint 18 (rollout strategy): a canary without defined success criteria is a slow full
rollout. A model that degrades predictions keeps taking more traffic because nothing checks its
metrics or rolls it back.

## Example
```yaml
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: ranker
spec:
  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: {duration: 10m}
        - setWeight: 100
```

## Use instead
```yaml
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: ranker
spec:
  strategy:
    canary:
      steps:
        - setWeight: 20
        - analysis:
            templates:
              - templateName: prediction-quality
        - setWeight: 100
```

## Known limits
Manual promotion (`pause: {}` without a duration) counts as a human gate and is not flagged.
An `AnalysisTemplate` without metrics is not inspected.
"""
from mllint.knowledge import deploy as DK
from mllint.rule import ConfigRule, RuleMeta


class CanaryWithoutAnalysis(ConfigRule):
    meta = RuleMeta(code="ML1802", level="warning", precision="high", tags=("deployment", "rollout"),
                    config_kinds=("k8s", "cloudformation"))

    def check_config(self, doc, project):
        if DK.is_test(project, doc.path):
            return
        if doc.kind == "cloudformation":
            yield from self._cfn(doc)
            return
        spec = DK.as_map(DK.as_map(doc.data).get("spec"))
        name = DK.k8s_name(doc.data)
        if doc.subkind == "Rollout":
            strategy = DK.as_map(spec.get("strategy"))
            canary = strategy.get("canary")
            if not isinstance(canary, dict) or canary.get("analysis"):
                return
            steps = DK.as_list(canary.get("steps"))
            if not steps:
                return
            for st in steps:
                st = DK.as_map(st)
                if st.get("analysis") or "plugin" in st:
                    return  # an analysis step, or a step plugin that may gate
                exp = st.get("experiment")
                if isinstance(exp, dict) and (exp.get("analyses") or "duration" not in exp):
                    return  # an experiment with analyses, or one that runs until a human ends it
                pause = st.get("pause")
                if "pause" in st and (pause is None or (isinstance(pause, dict) and "duration" not in pause)):
                    return  # an indefinite pause: a human promotes
            yield self.finding(doc, canary.line_of("steps"),
                               f"Rollout `{name}` shifts canary traffic on a schedule with no `analysis`: nothing "
                               f"checks the new version's metrics before promotion; add an analysis step or "
                               f"background analysis with an AnalysisTemplate")
        elif doc.subkind == "Canary":
            key = "analysis" if "analysis" in spec else "canaryAnalysis" if "canaryAnalysis" in spec else None
            if key is None:
                if "targetRef" in spec:
                    yield self.finding(doc, spec.line_of("targetRef"),
                                       f"Flagger Canary `{name}` has no `analysis` section: no metrics gate "
                                       f"promotion")
                return
            an = DK.as_map(spec.get(key))
            if DK.as_list(an.get("metrics")) or DK.as_list(an.get("webhooks")):
                return
            yield self.finding(doc, spec.line_of(key),
                               f"Flagger Canary `{name}` defines no `metrics` (or webhooks) in `{key}`: promotion "
                               f"is not gated on the new version's behaviour; add request-success, latency and "
                               f"model-quality metrics")

    def _cfn(self, doc):
        for lid, res, line in DK.cfn_resources(doc, "AWS::SageMaker::Endpoint"):
            dc = DK.as_map(DK.as_map(res.get("Properties")).get("DeploymentConfig"))
            if "BlueGreenUpdatePolicy" not in dc:
                continue
            arc = dc.get("AutoRollbackConfiguration")
            if isinstance(arc, dict) and DK.as_list(arc.get("Alarms")):
                continue
            if arc is not None and not isinstance(arc, dict):
                continue  # unresolved
            yield self.finding(doc, dc.line_of("BlueGreenUpdatePolicy"),
                               f"SageMaker endpoint `{lid}` uses a blue/green update without "
                               f"`AutoRollbackConfiguration.Alarms`: a failing new variant is never rolled back "
                               f"automatically")
