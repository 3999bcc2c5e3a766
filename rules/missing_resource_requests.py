"""A model-server container declares no CPU/memory (or GPU) requests.

## What it does
For Kubernetes resources that serve a model (KServe `InferenceService`, `SeldonDeployment`, and
Deployments/StatefulSets/Rollouts whose image, command, arguments or `MODEL_*` environment mark a
model server), flags each container with neither `resources.requests` nor `resources.limits` for
`cpu` and `memory` (a GPU request or limit also counts).

## Why is this bad?
Checkpoint 9 (serving infrastructure scalability): without requests the scheduler packs model
servers onto nodes that cannot hold the model in memory, pods get OOM-killed or throttled under
load, and the autoscaler has no utilisation baseline to scale on.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ranker
spec:
  selector:
    matchLabels: {app: ranker}
  template:
    metadata:
      labels: {app: ranker}
    spec:
      containers:
        - name: ranker
          image: nvcr.io/nvidia/tritonserver:24.05-py3
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ranker
spec:
  selector:
    matchLabels: {app: ranker}
  template:
    metadata:
      labels: {app: ranker}
    spec:
      containers:
        - name: ranker
          image: nvcr.io/nvidia/tritonserver:24.05-py3
          resources:
            requests: {cpu: "2", memory: 8Gi}
            limits: {memory: 8Gi, nvidia.com/gpu: 1}
```

## Known limits
A `LimitRange` default in the namespace, a KServe cluster default or a Helm/Kustomize patch that
adds resources later is not visible. Sidecar-only containers of non-serving pods are skipped.
"""
from mllint.knowledge import deploy as DK
from mllint.rule import ConfigRule, RuleMeta


class MissingResourceRequests(ConfigRule):
    meta = RuleMeta(code="ML0905", level="warning", precision="high", tags=("serving", "scalability"),
                    config_kinds=("k8s",))

    def check_config(self, doc, project):
        if DK.is_test(project, doc.path) or doc.subkind == "Server" or not DK.is_model_server(doc, project):
            return  # a Seldon v2 Server's podSpec overrides its ServerConfig, which holds the resources
        serving = getattr(project, "serving_modules", ()) or ()
        workload = doc.subkind in DK.WORKLOAD_KINDS
        for c in DK.containers_of(doc):
            if workload and not DK.container_serves_model(c, serving) and len(DK.containers_of(doc)) > 1:
                continue  # a sidecar of a model-server pod
            if DK.PLATFORM_COMPONENT_RE.search(str(c.get("name") or "")) or \
                    DK.PLATFORM_COMPONENT_RE.search(str(c.get("image") or "")):
                continue  # a platform sidecar (agent, storage initializer, proxy...)
            res = c.get("resources")
            if isinstance(res, dict) and _has_sizes(res):
                continue
            if res is not None and not isinstance(res, dict):
                continue  # templated
            line = c.line_of("resources") if "resources" in c else c.line_of("name") if "name" in c else c.line
            what = c.get("name") or c.get("image") or "container"
            if doc.subkind in ("InferenceService", "SeldonDeployment"):
                msg = (f"model-server container `{what}` sets no cpu/memory requests and gets the operator's "
                       f"cluster-wide defaults, whatever the model's size; set `resources.requests` for this model")
            else:
                msg = (f"model-server container `{what}` has no cpu/memory requests; set `resources.requests` sized "
                       f"for the model (and a GPU limit if it needs one)")
            yield self.finding(doc, line, msg)


def _has_sizes(res: dict) -> bool:
    for key in ("requests", "limits"):
        m = res.get(key)
        if m is not None and not isinstance(m, dict):
            return True  # templated / anchored value we cannot read
        m = DK.as_map(m)
        if ("cpu" in m or "memory" in m) or any(g in m for g in DK.GPU_RESOURCES):
            return True
    return False
