"""A model server runs a fixed number of replicas with no autoscaler.

## What it does
Flags a model-server `Deployment`/`StatefulSet`/`Rollout` (image, command or `MODEL_*` environment
of a model server) that no `HorizontalPodAutoscaler` or KEDA `ScaledObject` in the repository
targets, at its `replicas:` key (or its `spec:` when the count is left at the default of 1); a KServe
`InferenceService` whose component sets `minReplicas` equal to `maxReplicas`; and a SeldonDeployment
predictor with `replicas` and no `hpaSpec`.

## Why is this bad?
Checkpoint 9 (serving infrastructure scalability): inference load follows users. A fixed replica
count is either over-provisioned (paying for idle GPUs) or falls over at peak, and a traffic spike
turns into timeouts instead of new pods.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ranker
spec:
  replicas: 3
  selector:
    matchLabels: {app: ranker}
  template:
    metadata:
      labels: {app: ranker}
    spec:
      containers:
        - name: ranker
          image: pytorch/torchserve:0.11.0-cpu
```

## Use instead
```yaml
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: ranker
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ranker}
  minReplicas: 2
  maxReplicas: 20
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
```

## Known limits
Canary, shadow and preview tracks (by name or label) are fixed and small by design and are skipped.
Only autoscalers in the same repository are seen: HPA and KEDA manifests, and `kubectl autoscale
deployment NAME` in a script, a CI job or a README; when any autoscaler's target name is templated
the rule stays silent. KServe serverless components without `minReplicas`/`maxReplicas` autoscale
by default and are not flagged.
"""
import re

from mllint.knowledge import deploy as DK
from mllint.rule import ConfigRule, RuleMeta


class NoHorizontalAutoscaling(ConfigRule):
    meta = RuleMeta(code="ML0904", level="warning", precision="high", tags=("serving", "scalability"),
                    config_kinds=("k8s",))

    def check_config(self, doc, project):
        if DK.is_test(project, doc.path) or not DK.is_model_server(doc, project):
            return
        data = DK.as_map(doc.data)
        spec = DK.as_map(data.get("spec"))
        name = DK.k8s_name(data)
        if doc.subkind == "InferenceService":
            for comp in DK.KSERVE_COMPONENTS:
                c = spec.get(comp)
                if not isinstance(c, dict):
                    continue
                lo, hi = c.get("minReplicas"), c.get("maxReplicas")
                if isinstance(lo, int) and isinstance(hi, int) and lo == hi and lo > 0:
                    yield self.finding(doc, c.line_of("maxReplicas"),
                                       f"InferenceService `{name}` {comp} has minReplicas == maxReplicas ({lo}): it "
                                       f"cannot scale with load; raise `maxReplicas`")
            return
        if doc.subkind == "SeldonDeployment":
            for p in DK.as_list(spec.get("predictors")):
                p = DK.as_map(p)
                if isinstance(p.get("replicas"), int) and not any(
                        DK.as_map(cs).get("hpaSpec") or DK.as_map(cs).get("kedaSpec")
                        for cs in DK.as_list(p.get("componentSpecs"))):
                    targets, unresolved = DK.scaled_targets(project)
                    if unresolved or any(n.startswith(name) for _, n in targets):
                        continue
                    yield self.finding(doc, p.line_of("replicas"),
                                       f"SeldonDeployment `{name}` predictor runs a fixed {p['replicas']} replica(s) "
                                       f"with no `hpaSpec`/`kedaSpec`; add an autoscaler")
            return
        if doc.subkind not in ("Deployment", "StatefulSet", "Rollout"):
            return
        replicas = spec.get("replicas", 1)
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            return  # templated
        if replicas == 0:
            return  # scaled to zero on purpose
        labels = DK.as_map(DK.as_map(data.get("metadata")).get("labels"))
        if re.search(r"canary|shadow|preview|baseline", name + " " + " ".join(str(v) for v in labels.values()), re.I):
            return  # a canary/shadow track is small and fixed by design
        targets, unresolved = DK.scaled_targets(project)
        if unresolved or any(n == name for _, n in targets):
            return
        line = spec.line_of("replicas") if "replicas" in spec else data.line_of("spec")
        yield self.finding(doc, line, f"model server `{name}` runs a fixed {replicas} replica(s) and no "
                                      f"HorizontalPodAutoscaler or KEDA ScaledObject targets it; add an autoscaler "
                                      f"with min/max replicas")
