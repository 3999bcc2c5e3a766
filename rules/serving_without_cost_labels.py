"""A model-serving resource carries no cost-allocation label, or requests GPUs without a limit.

## What it does
For Kubernetes resources that serve a model, reports (at `metadata:`) when neither the resource's
labels nor its pod template's labels include a cost-allocation key (`team`, `owner`, `cost-center`,
`project`, `app.kubernetes.io/part-of`... configurable), and reports a container whose
`resources.requests` asks for a GPU with no matching `limits` entry. For CloudFormation
`AWS::SageMaker::Endpoint` resources, reports endpoints without `Tags`.

## Why is this bad?
Checkpoint 12 (inference cost tracking): serving is usually the largest recurring ML cost. Without
an owner or cost-centre label the bill cannot be split per model or team, and nobody notices an
idle GPU endpoint.

## Example
```yaml
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
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: fraud-model
  labels:
    team: risk
    cost-center: cc-1234
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: gs://models/fraud/v7
```

## Configuration
`cost_labels`: the label keys that count as cost allocation.

A key behind an organisation's prefix counts as the key itself (`acme.com/team`).

## Known limits
Labels added by Helm or an admission controller are invisible. The rule stays silent for a
resource a `kustomization.yaml` with `commonLabels`/`labels` covers: one in the resource's
directory or above, or an overlay built on such a directory (`resources: [../../base]`).
Sample manifests under `docs/`, `examples/`, `samples/`, files named as samples (`iris-example.yaml`) and tests are not checked.
"""
import posixpath

from mllint.knowledge import deploy as DK
from mllint.rule import ConfigRule, RuleMeta


class ServingWithoutCostLabels(ConfigRule):
    meta = RuleMeta(code="ML1202", level="note", precision="medium", profile="production", tags=("cost",),
                    config_kinds=("k8s", "cloudformation"), options={"cost_labels": list(DK.COST_LABELS)})

    def check_config(self, doc, project):
        if DK.is_test(project, doc.path):
            return
        keys = {str(k).lower() for k in self.options.get("cost_labels") or ()}
        if doc.kind == "cloudformation":
            for lid, res, line in DK.cfn_resources(doc, "AWS::SageMaker::Endpoint"):
                props = DK.as_map(res.get("Properties"))
                if "Tags" not in props:
                    yield self.finding(doc, line, f"SageMaker endpoint `{lid}` has no `Tags`; tag it with a team or "
                                                  f"cost centre so its cost can be allocated")
            return
        if doc.kind != "k8s" or doc.subkind == "Model" or not DK.is_model_server(doc, project):
            return  # a Seldon v2 Model is loaded onto a shared Server: cost is attributed there
        data = DK.as_map(doc.data)
        labels = dict(DK.as_map(DK.as_map(data.get("metadata")).get("labels")))
        tmpl = DK.as_map(DK.as_map(DK.as_map(data.get("spec")).get("template")).get("metadata"))
        labels.update(DK.as_map(tmpl.get("labels")))
        if not any(_cost_key(k, keys) for k in labels) and not _kustomize_labels(project, doc.path) \
                and "metadata" in data:
            yield self.finding(doc, data.line_of("metadata"),
                               f"model-serving resource `{DK.k8s_name(data)}` has no cost-allocation label "
                               f"({', '.join(sorted(keys)[:4])}...); label it so serving cost can be attributed")
        for c in DK.containers_of(doc):
            res = DK.as_map(c.get("resources"))
            req, lim = DK.as_map(res.get("requests")), DK.as_map(res.get("limits"))
            for g in DK.GPU_RESOURCES:
                if g in req and g not in lim:
                    yield self.finding(doc, req.line_of(g), f"`{g}` is requested without a limit; set "
                                                            f"`limits.{g}` (GPUs are not overcommitted)")


def _cost_key(key, keys: set) -> bool:
    """A cost-allocation key, also behind an organisation's prefix (``acme.com/team``)."""
    k = str(key).lower()
    return k in keys or k.rsplit("/", 1)[-1] in keys


_KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml")


def _kustomize_labels(project, path: str) -> bool:
    """A kustomization that adds common labels covers this file: it sits in the file's directory
    or above, or it builds on one that does (an overlay's ``resources: [../../base]``)."""
    memo = project.__dict__.setdefault("_ml1202_kustomizations", {})
    if "dirs" not in memo:  # directory -> kustomization data, once per project
        memo["dirs"] = {d.path.rsplit("/", 1)[0] if "/" in d.path else "": d.data for d in project.configs
                        if d.path.rsplit("/", 1)[-1] in _KUSTOMIZATIONS and isinstance(d.data, dict)}
    kusts = memo["dirs"]
    for start, data in kusts.items():
        if not (data.get("commonLabels") or data.get("labels")):
            continue
        todo, seen = [start], set()
        while todo:  # the directories this kustomization builds from
            here = todo.pop()
            if here in seen:
                continue
            seen.add(here)
            if not here or path == here or path.startswith(here + "/"):
                return True
            for ref in _entries(kusts.get(here)):
                target = posixpath.normpath(posixpath.join(here, ref))
                if not target.startswith(".."):
                    todo.append("" if target == "." else target)
    return False


def _entries(data) -> list:
    """The local paths a kustomization builds from (``resources``, ``bases``, ``components``)."""
    if not isinstance(data, dict):
        return []
    out = []
    for key in ("resources", "bases", "components"):
        for ref in data.get(key) or ():
            if isinstance(ref, str) and "://" not in ref and not ref.startswith(("github.com/", "git@")):
                out.append(ref)
    return out
