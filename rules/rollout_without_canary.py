"""A model-serving deployment switches all traffic to a new model at once.

## What it does
Flags model-serving deploy configs with no progressive rollout:
- a KServe `InferenceService` (serverless mode) whose `predictor` has no `canaryTrafficPercent`,
  when no Argo Rollout, Flagger Canary, SMI TrafficSplit or weighted Istio route covers it and no
  other manifest of the same InferenceService sets a canary (the first rollout of a service needs none);
- a model-server `Deployment` with `strategy.type: Recreate`;
- a CloudFormation `AWS::SageMaker::Endpoint` without `DeploymentConfig.BlueGreenUpdatePolicy`
  with `TrafficRoutingConfiguration.Type` `CANARY` or `LINEAR` (or with `ALL_AT_ONCE`);
- a SageMaker `update_endpoint(...)` call without `DeploymentConfig=` (or `RetainDeploymentConfig=`)
  in a module that does not shift variant weights itself, or `deploy(update_endpoint=True)`;
- a Vertex AI `deploy(..., traffic_percentage=100)` or `traffic_split` that gives a model 100 %.

## Why is this bad?
Checkpoint 18 (rollout strategy): a bad model (wrong features, a skewed artefact, a regression only
visible on live traffic) reaches every user at once, and there is no window in which metrics of the
new version can be compared with the old one before it takes all traffic.

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
spec:
  predictor:
    canaryTrafficPercent: 10
    model:
      modelFormat: {name: sklearn}
      storageUri: gs://models/fraud/v8
```

## Known limits
Files whose path names a non-production environment (`dev`, `staging`, `test`, `qa`, `local`...)
are skipped. A CloudFormation template that shifts traffic in front of the endpoint (a SAM function with a
canary/linear `DeploymentPreference`, a CodeDeploy deployment config) counts as a canary. KServe `RawDeployment`/`Standard` mode (no canary support) is skipped. A rollout controller that
lives outside the repository is invisible: suppress with `# noqa: ML1801`. Vertex `Model.deploy()`
without an `endpoint` creates a new endpoint, whose only model takes all traffic, and is not
reported; nor is the first deployment to an endpoint the same code has just created
(`endpoint = aiplatform.Endpoint.create(...)`): the next model deployed to it is.
"""
import re

from mllint.knowledge import deploy as DK
from mllint.rule import ProjectRule, RuleMeta
from mllint.summary import MODULE_SCOPE


class RolloutWithoutCanary(ProjectRule):
    meta = RuleMeta(code="ML1801", level="warning", precision="high", profile="poc", tags=("deployment", "rollout"))

    def check_project(self, project):
        progressive = dict(DK.progressive_delivery(project))
        for d in project.configs:  # a service that is rolled out with a canary in another manifest
            if d.kind == "k8s" and d.subkind == "InferenceService":
                spec = DK.as_map(DK.as_map(d.data).get("spec"))
                if any("canaryTrafficPercent" in DK.as_map(spec.get(c)) for c in DK.KSERVE_COMPONENTS):
                    progressive.setdefault(DK.k8s_name(d.data), "KServe canary")
        for d in project.configs:
            if DK.is_test(project, d.path) or _NON_PROD.search(d.path):
                continue  # canaries protect production traffic; dev/staging stacks are out of scope
            if d.kind == "k8s" and d.subkind == "InferenceService":
                yield from self._isvc(d, progressive)
            elif d.kind == "k8s" and d.subkind in ("Deployment", "StatefulSet") and DK.is_model_server(d, project):
                spec = DK.as_map(DK.as_map(d.data).get("spec"))
                strat = DK.as_map(spec.get("strategy") or spec.get("updateStrategy"))
                if str(strat.get("type") or "") == "Recreate" and DK.k8s_name(d.data) not in progressive:
                    # (an Argo Rollout ``workloadRef`` or a Flagger Canary rolls it out: its strategy is theirs)
                    yield self._f(d.path, strat.line_of("type"),
                                  f"model server `{DK.k8s_name(d.data)}` uses `strategy: Recreate`: every pod is "
                                  f"replaced at once, with downtime; use a RollingUpdate behind a canary (Argo "
                                  f"Rollouts, Flagger) so the new model takes traffic gradually")
            elif d.kind == "cloudformation":
                yield from self._cfn(d)
        yield from self._python(project)

    def _f(self, path, line, msg):
        return self.finding(path, (line, 1, line, 2), msg)

    def _isvc(self, d, progressive):
        data = DK.as_map(d.data)
        meta = DK.as_map(data.get("metadata"))
        ann = DK.as_map(meta.get("annotations"))
        mode = str(ann.get("serving.kserve.io/deploymentMode") or "")
        if mode in ("RawDeployment", "Standard", "ModelMesh"):
            return
        name = DK.k8s_name(data)
        if name in progressive:
            return
        spec = DK.as_map(data.get("spec"))
        pred = spec.get("predictor")
        if not isinstance(pred, dict) or "canaryTrafficPercent" in pred:
            return
        if any(isinstance(spec.get(c), dict) and "canaryTrafficPercent" in spec[c] for c in DK.KSERVE_COMPONENTS):
            return
        yield self._f(d.path, spec.line_of("predictor"),
                      f"InferenceService `{name}` rolls a new predictor out to 100% of traffic at once; set "
                      f"`canaryTrafficPercent` (e.g. 10) and promote after checking the canary")

    def _cfn(self, d):
        if _template_shifts_traffic(d):
            return
        for lid, res, line in DK.cfn_resources(d, "AWS::SageMaker::Endpoint"):
            props = DK.as_map(res.get("Properties"))
            dc = DK.as_map(props.get("DeploymentConfig"))
            bg = DK.as_map(dc.get("BlueGreenUpdatePolicy"))
            trc = DK.as_map(bg.get("TrafficRoutingConfiguration"))
            typ = trc.get("Type")
            if isinstance(typ, str) and typ in ("CANARY", "LINEAR"):
                continue
            if typ is not None and not isinstance(typ, str):
                continue  # a Ref / !If: unresolved
            if dc.get("RollingUpdatePolicy"):
                continue  # rolling batches with a rollback policy
            if typ == "ALL_AT_ONCE":
                yield self._f(d.path, trc.line_of("Type"),
                              f"SageMaker endpoint `{lid}` shifts traffic ALL_AT_ONCE; use `CANARY` or `LINEAR` "
                              f"traffic routing so the new variant is checked on a slice of traffic first")
            else:
                yield self._f(d.path, line,
                              f"SageMaker endpoint `{lid}` has no blue/green `DeploymentConfig` with CANARY or "
                              f"LINEAR traffic routing: an update switches all traffic at once")

    def _python(self, project):
        sm = project.uses_module("sagemaker") or project.uses_module("boto3")
        vertex = project.uses_module("google.cloud.aiplatform") or project.uses_module("vertexai")
        if not sm and not vertex:
            return
        # a module that shifts variant weights itself runs an A/B or canary by hand
        shifting = {path for path, c in project.all_calls() if c.attr == "update_endpoint_weights_and_capacities"
                    or (c.attr == "create_endpoint_config" and _variants(c) >= 2)}
        fresh, lookups, single_rollout = _vertex_endpoints(project) if vertex else ({}, {}, set())
        first_deploys: set = set()  # (path, scope, endpoint name) already deployed to
        for path, c in project.all_calls():
            if project.is_test_path(path) or (c.attr == "update_endpoint" and path in shifting):
                continue
            span = (c.line, c.col, c.end_line, c.end_col)
            if sm and c.attr == "update_endpoint":
                if c.star_kwargs or "DeploymentConfig" in c.kwargs or "deployment_config" in c.kwargs or \
                        "RetainDeploymentConfig" in c.kwargs:
                    continue
                if "EndpointName" in c.kwargs or "EndpointConfigName" in c.kwargs or "endpoint_name" in c.kwargs or \
                        "model_name" in c.kwargs or "initial_instance_count" in c.kwargs:
                    yield self.finding(path, span, "`update_endpoint` switches all traffic to the new endpoint "
                                                   "config at once; pass a blue/green `DeploymentConfig` with "
                                                   "CANARY or LINEAR traffic routing")
            elif sm and c.attr == "deploy" and _is_const(c.kwargs.get("update_endpoint"), True):
                yield self.finding(path, span, "`deploy(update_endpoint=True)` replaces the live model at once; "
                                               "use a blue/green deployment with canary or linear traffic shifting")
            elif vertex and c.attr == "deploy":
                if not c.args and not c.star_args and not c.star_kwargs and "endpoint" not in c.kwargs and \
                        "model" not in c.kwargs:
                    continue  # ``Model.deploy()`` with no endpoint makes a new one: no live traffic to shift
                if path in single_rollout:
                    continue  # the file creates its endpoints and deploys one model to each
                target = next((t for t in _deploy_targets(c) if (path, t) in fresh), "")
                created = fresh.get((path, target)) if target else None
                if created is not None and (path, c.scope, target) not in first_deploys and \
                        (created[0] == c.scope or created[0] == MODULE_SCOPE) and created[1] <= c.line and \
                        lookups.get((path, created[0]), c.line) >= c.line:
                    # the first model on an endpoint this code just created: nothing live to shift
                    # (unless endpoints are looked up before the deploy: ``Endpoint.list()[0] if
                    # found else Endpoint.create()`` may hand it a live one; a later lookup is clean-up)
                    first_deploys.add((path, c.scope, target))
                    continue
                tp = c.kwargs.get("traffic_percentage")
                split = c.kwargs.get("traffic_split")
                if _is_const(tp, 100):
                    yield self.finding(path, span, "Vertex AI `deploy(traffic_percentage=100)` sends all traffic to "
                                                   "the new model at once; start with a small percentage and raise it "
                                                   "after checking the new model")
                elif split is not None and split.kind == "dict" and _split_all(split):
                    yield self.finding(path, span, "Vertex AI `traffic_split` gives the new model 100% of traffic; "
                                                   "shift traffic gradually")


def _is_vertex_endpoint_api(c, method: str) -> bool:
    q = c.qualname or ""
    if not q.startswith(("google.cloud.aiplatform.", "vertexai.")):
        return False
    parts = q.rsplit(".", 2)
    if method:
        return c.attr == method and len(parts) == 3 and parts[1] in ("Endpoint", "PrivateEndpoint")
    return parts[-1] in ("Endpoint", "PrivateEndpoint")


def _vertex_endpoints(project) -> tuple:
    """One pass over the calls -> (fresh, lookups, single-rollout files):
    - fresh: (path, name) -> (scope, line) of ``name = aiplatform.Endpoint.create(...)`` (or
      ``PrivateEndpoint.create``), an endpoint with no model yet;
    - lookups: (path, scope) -> first line that looks up existing endpoints
      (``aiplatform.Endpoint(name)``, ``Endpoint.list()``);
    - files that create their endpoints, look none up, and deploy at most one model per endpoint
      created, even when helpers pass the endpoint around: every deploy there is a first one."""
    fresh, lookups, creates, deploys = {}, {}, {}, {}
    for path, c in project.all_calls():
        if _is_vertex_endpoint_api(c, "create"):
            creates[path] = creates.get(path, 0) + 1
            if c.assigned_to:
                fresh.setdefault((path, c.assigned_to), (c.scope, c.line))
        elif _is_vertex_endpoint_api(c, "") or _is_vertex_endpoint_api(c, "list"):
            key = (path, c.scope)
            lookups[key] = min(lookups.get(key, c.line), c.line)
        elif c.attr == "deploy" and (c.args or "endpoint" in c.kwargs or "model" in c.kwargs):
            deploys[path] = deploys.get(path, 0) + 1
    looked_up = {path for path, _ in lookups}
    single = {path for path, n in creates.items() if path not in looked_up and deploys.get(path, 0) <= n}
    return fresh, lookups, single


def _deploy_targets(call) -> list:
    """The names a Vertex deploy's endpoint may be held in: ``model.deploy(endpoint=ep)``,
    ``ep.deploy(model=m)``, and for positional forms (``model.deploy(ep)``, ``ep.deploy(m)``) both."""
    v = call.kwargs.get("endpoint")
    if v is not None:
        return [v.value] if v.kind == "name" and isinstance(v.value, str) else []
    out = [call.receiver] if call.receiver else []
    if "model" not in call.kwargs and call.args and call.args[0].kind == "name":
        out.append(call.args[0].value)
    return out


def _variants(call) -> int:
    """How many production variants an endpoint config lists (two weighted variants: a canary)."""
    v = call.kwargs.get("ProductionVariants")
    return len(v.value) if v is not None and v.kind == "list" and isinstance(v.value, list) else 0


_NON_PROD = re.compile(r"(^|[/_.-])(dev|development|staging|stage|stg|test|qa|sandbox|local|minikube|kind)([/_.-]|$)",
                       re.I)


def _template_shifts_traffic(d) -> bool:
    """The template fronts the endpoint with gradual traffic shifting: a SAM function whose
    `DeploymentPreference` is canary/linear (CodeDeploy), or a CodeDeploy deployment config."""
    for _, res, _ in DK.cfn_resources(d, "AWS::Serverless::Function"):
        pref = DK.as_map(DK.as_map(res.get("Properties")).get("DeploymentPreference"))
        if str(pref.get("Type") or "").startswith(("Canary", "Linear")):
            return True
    if DK.cfn_resources(d, "AWS::CodeDeploy::DeploymentConfig"):
        return True
    return False


def _is_const(val, want) -> bool:
    return val is not None and val.kind == "const" and val.value == want and type(val.value) is type(want)


def _split_all(val) -> bool:
    """``traffic_split={"0": 100}``: the model being deployed (key "0") takes all traffic.  Another
    key at 100 keeps the traffic on a deployed model and gives the new one none."""
    try:
        items = list(val.value.items() if isinstance(val.value, dict) else val.value)
    except Exception:
        return False
    if len(items) != 1:
        return False
    key, v = items[0]
    return getattr(v, "kind", None) == "const" and v.value == 100 and \
        getattr(key, "kind", None) == "const" and str(key.value) == "0"
