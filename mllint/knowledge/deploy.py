"""Deployment knowledge: Kubernetes/KServe/Seldon/Argo manifests, model-server detection, alert rules,
CI/CD jobs, CloudFormation SageMaker resources.

Every helper reads ``ConfigDocument`` data (``YMap``/``YList`` with lines) and returns plain values;
rules decide what to report.  Helpers that scan the whole project are memoised per project object.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from mllint.knowledge import canonical

# ----------------------------------------------------------------------------- CI environments
def ci_env_constants(m: Any) -> dict:
    """The constant values of a CI ``env:``/``variables:`` mapping (a GitHub workflow's, job's or
    step's, a GitLab job's): strings and numbers as strings, GitLab's ``{value: ...}`` form too."""
    out = {}
    if isinstance(m, dict):
        for k, v in m.items():
            if isinstance(k, str) and isinstance(v, (str, int, float)) and not isinstance(v, bool):
                out[k] = str(v)
            elif isinstance(k, str) and isinstance(v, dict) and isinstance(v.get("value"), str):
                out[k] = v["value"]  # GitLab: VAR: {value: ..., description: ...}
    return out


# CloudFormation resources of a developer workspace (a notebook instance, a Studio domain, Cloud9)
# and what such a template also creates for it (a role, a bucket, a network)
_WORKSPACE_RESOURCES = ("AWS::SageMaker::NotebookInstance", "AWS::SageMaker::NotebookInstanceLifecycleConfig",
                        "AWS::SageMaker::Domain", "AWS::SageMaker::UserProfile", "AWS::SageMaker::Space",
                        "AWS::SageMaker::App", "AWS::SageMaker::CodeRepository", "AWS::Cloud9::")
_SUPPORT_RESOURCES = ("AWS::IAM::", "AWS::S3::", "AWS::KMS::", "AWS::Logs::", "AWS::EC2::VPC", "AWS::EC2::Subnet",
                      "AWS::EC2::SecurityGroup", "AWS::EC2::InternetGateway", "AWS::EC2::Route", "AWS::EC2::NatGateway",
                      "AWS::EC2::EIP", "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::SubnetRouteTableAssociation")


def workspace_template(data) -> bool:
    """A CloudFormation template that only provisions a developer workspace (a SageMaker notebook
    instance or Studio domain, with its role and network): a place to run notebooks, no deployment."""
    res = data.get("Resources") if isinstance(data, dict) else None
    types = [r.get("Type") for r in res.values() if isinstance(r, dict)] if isinstance(res, dict) else []
    if not types or not all(isinstance(t, str) for t in types):
        return False
    return any(t.startswith(_WORKSPACE_RESOURCES) for t in types) and \
        all(t.startswith(_WORKSPACE_RESOURCES + _SUPPORT_RESOURCES) for t in types)


# ----------------------------------------------------------------------------- model servers
# Container images of model servers (matched case-insensitively against the image reference).
MODEL_SERVER_IMAGE_RE = re.compile(
    r"kserve|kfserving|seldon|torchserve|tritonserver|triton-?inference|tensorflow/serving|tensorflow-serving|"
    r"tfserving|mlserver|bentoml|vllm|text-generation-inference|\btgi\b|huggingface-pytorch-inference|"
    r"sagemaker-inference|ray-ml|rayproject/ray|onnxruntime-server|openvino/model_server|model[-_]?server|"
    r"llama\.cpp|ollama|lmdeploy|sglang|nvcr\.io/nvidia/tritonserver|nim/", re.I)
# Commands (argv[0] or module) that start a model server.
MODEL_SERVER_COMMANDS = frozenset({
    "tritonserver", "torchserve", "tensorflow_model_server", "mlserver", "bentoml", "vllm",
    "text-generation-launcher", "seldon-core-microservice", "ray", "serve", "lmdeploy", "ollama",
})
MODEL_SERVER_MODULES = frozenset({"vllm.entrypoints.openai.api_server", "vllm.entrypoints.api_server",
                                  "sglang.launch_server", "kserve", "mlserver", "ray.serve"})
# Environment variables that mark a container serving a model.
MODEL_ENV_RE = re.compile(r"^(MODEL_(NAME|PATH|URI|DIR|ID|STORE|REPOSITORY|BASE_PATH|FILE|VERSION)|HF_MODEL_ID|"
                          r"STORAGE_URI|MLFLOW_MODEL_URI|TRANSFORMERS_MODEL|SERVING_MODEL)$")
# Resource kinds that always serve a model.
MODEL_SERVING_KINDS = frozenset({"InferenceService", "SeldonDeployment", "InferenceGraph", "Model", "RayService"})
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "Rollout", "DaemonSet"})
# Component keys of a KServe predictor/transformer/explainer that carry a container spec.
KSERVE_COMPONENTS = ("predictor", "transformer", "explainer")
KSERVE_FRAMEWORKS = ("model", "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "lightgbm", "pmml",
                     "paddle", "huggingface", "mlflow")

GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu", "gpu.intel.com/i915", "habana.ai/gaudi", "aws.amazon.com/neuron")

# Kubernetes labels that allocate cost (configurable in the rule).
COST_LABELS = ("team", "owner", "cost-center", "cost_center", "costcenter", "cost-centre", "billing", "project",
               "business-unit", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by-team", "department",
               "tenant")

PROD_RE = re.compile(r"(^|[^a-z])(prod|production|live)([^a-z]|$)", re.I)
STAGING_RE = re.compile(r"(^|[^a-z])(staging|stage|stg|preprod|pre-prod|pre-production|qa|uat|canary|test|testing|"
                        r"integration)([^a-z]|$)", re.I)

# Metric-name pattern that counts as "model" monitoring in alert expressions.
MODEL_METRIC_PATTERN = (r"prediction|predict|drift|psi|accuracy|auc|f1|score|feature_|null_rate|data_quality|model_|"
                        r"inference_|confidence|precision|recall|rmse|mae|skew|outlier|label_")


def as_map(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def as_list(v: Any) -> list:
    return v if isinstance(v, list) else []


def line_of(m: Any, key: str, default: int = 1) -> int:
    if hasattr(m, "line_of"):
        return m.line_of(key, getattr(m, "line", default))
    return default


def k8s_name(data: Any) -> str:
    return str(as_map(as_map(data).get("metadata")).get("name") or "")


def pod_spec(doc) -> Optional[dict]:
    """Pod spec of a Deployment/StatefulSet/Rollout/DaemonSet (``spec.template.spec``)."""
    if doc.kind != "k8s" or doc.subkind not in WORKLOAD_KINDS:
        return None
    spec = as_map(as_map(as_map(doc.data).get("spec")).get("template")).get("spec")
    return spec if isinstance(spec, dict) else None


def containers_of(doc) -> list:
    """Container maps of a workload, an InferenceService or a SeldonDeployment."""
    out = []
    data = as_map(doc.data)
    spec = as_map(data.get("spec"))
    if doc.kind != "k8s":
        return out
    if doc.subkind in WORKLOAD_KINDS:
        ps = pod_spec(doc) or {}
        out += [c for c in as_list(ps.get("containers")) if isinstance(c, dict)]
    elif doc.subkind == "InferenceService":
        for comp in KSERVE_COMPONENTS:
            c = spec.get(comp)
            if not isinstance(c, dict):
                continue
            out += [x for x in as_list(c.get("containers")) if isinstance(x, dict)]
            for fw in KSERVE_FRAMEWORKS:
                if isinstance(c.get(fw), dict):
                    out.append(c[fw])
    elif doc.subkind == "Server":
        out += [x for x in as_list(as_map(spec.get("podSpec")).get("containers")) if isinstance(x, dict)]
    elif doc.subkind == "SeldonDeployment":
        for p in as_list(spec.get("predictors")):
            for cs in as_list(as_map(p).get("componentSpecs")):
                out += [x for x in as_list(as_map(as_map(cs).get("spec")).get("containers")) if isinstance(x, dict)]
    return out


def _argv_of(c: dict) -> list:
    out = []
    for key in ("command", "args"):
        v = c.get(key)
        if isinstance(v, str):
            out += v.split()
        else:
            out += [str(a) for a in as_list(v) if isinstance(a, (str, int, float))]
    # `sh -c "..."` bodies
    joined = []
    for a in out:
        joined += a.split() if " " in a else [a]
    return joined


# Components of the serving platforms themselves (controllers, routers, UIs): not model servers.
PLATFORM_COMPONENT_RE = re.compile(
    r"controller|operator|manager|webhook|agent|router|initializer|scheduler|dashboard|web-?app|gateway|envoy|"
    r"proxy|hodometer|dataflow|rclone|autoscaler|(^|[/-])ui([:-]|$)|frontend|kube-rbac|localmodel|migration|"
    r"installer|cert|exporter|logger|broker|storage", re.I)


def container_serves_model(c: dict, serving_modules: Iterable[str] = ()) -> bool:
    image = str(c.get("image") or "")
    name = str(c.get("name") or "")
    if PLATFORM_COMPONENT_RE.search(image) or (name and PLATFORM_COMPONENT_RE.search(name)):
        return False
    if image and MODEL_SERVER_IMAGE_RE.search(image):
        return True
    argv = _argv_of(c)
    for i, a in enumerate(argv):
        exe = a.rsplit("/", 1)[-1]
        if exe in MODEL_SERVER_COMMANDS and exe not in ("ray", "serve"):
            return True
        if exe == "serve" and i > 0 and argv[i - 1].rsplit("/", 1)[-1] == "ray":
            return True
        if a == "-m" and i + 1 < len(argv) and argv[i + 1] in MODEL_SERVER_MODULES:
            return True
        if exe in ("uvicorn", "gunicorn", "hypercorn") and serving_modules:
            for b in argv[i + 1:]:
                if ":" in b and not b.startswith("-"):
                    mod = b.split(":", 1)[0].replace(".", "/")
                    if any(p.endswith(mod + ".py") for p in serving_modules):
                        return True
                    break
    for e in as_list(c.get("env")):
        if isinstance(e, dict) and isinstance(e.get("name"), str) and MODEL_ENV_RE.match(e["name"]):
            return True
    return False


def is_model_server(doc, project: Any = None) -> bool:
    """Does this Kubernetes document serve a model?"""
    if doc.kind != "k8s":
        return False
    if doc.subkind in ("InferenceService", "SeldonDeployment"):
        return True
    if doc.subkind in ("Model", "Server") and str(as_map(doc.data).get("apiVersion", "")).startswith("mlops.seldon.io"):
        return True
    if doc.subkind not in WORKLOAD_KINDS or not is_complete_workload(doc):
        return False
    serving = getattr(project, "serving_modules", ()) or ()
    return any(container_serves_model(c, serving) for c in containers_of(doc))


def is_complete_workload(doc) -> bool:
    """A full workload manifest, not a Kustomize strategic-merge patch (which has no selector)."""
    spec = as_map(as_map(doc.data).get("spec"))
    return "selector" in spec or doc.subkind == "DaemonSet" or "workloadRef" in spec


_TEST_DIR_RE = re.compile(r"(^|/)([^/]*(testdata|test-data|test_data)[^/]*|e2e"
                          r"|docs?|examples?|samples?|demos?|tutorials?)(/|$)", re.I)


# a file named as a sample: ``iris-example.yaml``, ``sample_isvc.yaml``, ``example.deployment.yaml``
_SAMPLE_FILE_RE = re.compile(r"(^|[-_.])(examples?|samples?)([-_.]|$)", re.I)


def is_test(project: Any, path: str) -> bool:
    """Test code and test data (Go-style ``testdata``, e2e suites, fixtures), and the sample
    manifests of documentation and examples (``docs/``, ``examples/``, ``samples/``, ``demos/``,
    ``tutorials/``, a file named ``*-example.yaml``): none of them deploys anything, so
    deploy-config rules leave them alone."""
    return bool(project.is_test_path(path) or _TEST_DIR_RE.search(path) or
                (_SAMPLE_FILE_RE.search(path.rsplit("/", 1)[-1]) and not _RUNS_RE.search(path)))


_RUNS_RE = re.compile(r"(^|/)\.github/workflows/|(^|/)\.gitlab-ci")  # CI files run whatever they are named


def _memo(project: Any, key: str, fn):
    cache = project.__dict__.setdefault("_deploy_knowledge", {}) if project is not None else {}
    if key not in cache:
        cache[key] = fn()
    return cache[key]


def k8s_docs(project: Any, *subkinds: str) -> list:
    return [d for d in project.configs if d.kind == "k8s" and (not subkinds or d.subkind in subkinds)]


def scaled_targets(project: Any) -> tuple:
    """-> (set of (kind, name) targeted by an HPA/KEDA ScaledObject, any target unresolved)."""
    def compute():
        targets, unresolved = set(), False
        for d in k8s_docs(project, "HorizontalPodAutoscaler", "ScaledObject", "VerticalPodAutoscaler"):
            if d.subkind == "VerticalPodAutoscaler":
                continue
            ref = as_map(as_map(as_map(d.data).get("spec")).get("scaleTargetRef"))
            name = ref.get("name")
            if not isinstance(name, str) or not name or "{" in name or "$" in name:
                unresolved = True
                continue
            targets.add((str(ref.get("kind") or "Deployment"), name))
        # ``kubectl autoscale deployment NAME ...`` in a script, a CI job or a README's instructions
        commands_of = getattr(project, "_commands_of", None)
        for d in project.configs:
            if d.kind in ("shell", "github-workflow", "gitlab-ci") and commands_of is not None:
                for argv, _line in commands_of(d):
                    if "autoscale" in argv:
                        targets.update(_autoscale_targets(" ".join(argv)))
            elif d.kind == "markdown" and d.path.rsplit("/", 1)[-1].lower().startswith("readme") and \
                    hasattr(project, "doc_text"):
                text = project.doc_text(d) or ""
                if "autoscale" in text:
                    targets.update(_autoscale_targets(text))
        return targets, unresolved
    return _memo(project, "scaled", compute)


_KUBECTL_AUTOSCALE_RE = re.compile(r"\bkubectl\s+(?:-n\s+\S+\s+)?autoscale\s+(deployments?|deploy|statefulsets?)(?:/|\s+)"
                                   r"([a-z0-9][a-z0-9.-]*)")


def _autoscale_targets(text: str) -> list:
    """(kind, name) of the targets of the ``kubectl autoscale`` commands in a text."""
    return [("StatefulSet" if k.startswith("statefulset") else "Deployment", n)
            for k, n in _KUBECTL_AUTOSCALE_RE.findall(text)]


def progressive_delivery(project: Any) -> dict:
    """Names (and hosts) covered by a progressive-delivery controller -> the kind of controller."""
    def compute():
        out = {}
        for d in project.configs:
            if d.kind != "k8s":
                continue
            spec = as_map(as_map(d.data).get("spec"))
            if d.subkind == "Rollout":
                out.setdefault(k8s_name(d.data), "Argo Rollout")
                ref = as_map(spec.get("workloadRef"))
                if isinstance(ref.get("name"), str):
                    out.setdefault(ref["name"], "Argo Rollout")
            elif d.subkind == "Canary":
                ref = as_map(spec.get("targetRef"))
                if isinstance(ref.get("name"), str):
                    out.setdefault(ref["name"], "Flagger Canary")
            elif d.subkind in ("TrafficSplit",):
                out.setdefault(str(spec.get("service") or "*"), "SMI TrafficSplit")
            elif d.subkind == "VirtualService":
                for http in as_list(spec.get("http")):
                    routes = as_list(as_map(http).get("route"))
                    if len(routes) > 1 and any("weight" in as_map(r) for r in routes):
                        for r in routes:
                            host = str(as_map(as_map(r).get("destination")).get("host") or "")
                            out.setdefault(host.split(".")[0], "Istio VirtualService weights")
        return out
    return _memo(project, "progressive", compute)


# ----------------------------------------------------------------------------- alerts
class Alert:
    __slots__ = ("doc", "rule", "name", "line", "expr", "group_labels")

    def __init__(self, doc, rule: dict, name: str, line: int, expr: str, group_labels=None):
        self.doc, self.rule, self.name, self.line, self.expr = doc, rule, name, line, expr
        self.group_labels = group_labels or {}  # labels set on the whole rule group (Prometheus 3)


def alert_rule_groups(doc) -> list:
    """Prometheus rule groups of a rule file or a PrometheusRule CRD."""
    if doc.kind == "prometheus-rules":
        return as_list(as_map(doc.data).get("groups"))
    if doc.kind == "k8s" and doc.subkind == "PrometheusRule":
        return as_list(as_map(as_map(doc.data).get("spec")).get("groups"))
    return []


def _embedded_rule_groups(doc) -> list:
    """(groups, line offset) of Prometheus rule files embedded in a ConfigMap's `data`."""
    if doc.kind != "k8s" or doc.subkind != "ConfigMap":
        return []
    data = as_map(as_map(doc.data).get("data"))
    out = []
    for key, text in data.items():
        if not isinstance(text, str) or "alert:" not in text or "groups:" not in text:
            continue
        try:
            from mllint.sources.config import load_yaml_documents

            parsed = load_yaml_documents(doc.path, text)
        except Exception:
            continue
        offset = data.value_line(key, 0) + (1 if text.endswith("\n") or "\n" in text else 0) - 1
        for value, _ in parsed:
            groups = as_list(as_map(value).get("groups"))
            if groups:
                out.append((groups, offset))
    return out


def alerts_of(doc) -> list:
    out = []
    sources = [(alert_rule_groups(doc), 0)] + _embedded_rule_groups(doc)
    for groups, offset in sources:
        for g in groups:
            group_labels = as_map(as_map(g).get("labels"))
            for r in as_list(as_map(g).get("rules")):
                if isinstance(r, dict) and isinstance(r.get("alert"), str):
                    expr = r.get("expr")
                    out.append(Alert(doc, r, r["alert"], line_of(r, "alert") + offset,
                                     expr if isinstance(expr, str) else str(expr or ""), group_labels))
    return out


def all_alerts(project: Any) -> list:
    return _memo(project, "alerts", lambda: [a for d in project.configs for a in alerts_of(d)])


RUNBOOK_KEY_RE = re.compile(r"runbook|playbook|run_book|wiki|doc_url|documentation", re.I)


def alert_has_runbook(rule: dict) -> bool:
    ann = as_map(rule.get("annotations"))
    labels = as_map(rule.get("labels"))
    for k, v in list(ann.items()) + list(labels.items()):
        if RUNBOOK_KEY_RE.search(str(k)):
            return True
        if isinstance(v, str) and re.search(r"runbook|playbook", v, re.I):
            return True
    return False


def alert_has_severity(rule: dict, group_labels=None) -> bool:
    """A severity label on the rule, or on its whole group (``groups[].labels``, Prometheus 3)."""
    labels = list(as_map(rule.get("labels"))) + list(as_map(group_labels))
    return any(str(k).lower() in ("severity", "priority", "level", "urgency") for k in labels)


def has_alerting(project: Any) -> Optional[str]:
    """A short description of the first alerting configuration found, or None."""
    def compute():
        for d in project.configs:
            if d.kind in ("prometheus-rules", "alertmanager"):
                return f"{d.kind} {d.path}"
            if d.kind == "k8s" and d.subkind in ("PrometheusRule", "AlertmanagerConfig", "Alertmanager"):
                return f"{d.subkind} {d.path}"
            if d.kind == "k8s" and d.subkind == "ConfigMap" and alerts_of(d):
                return f"Prometheus rules in ConfigMap {d.path}"
            if d.kind == "cloudformation":
                for res in as_map(as_map(d.data).get("Resources")).values():
                    if str(as_map(res).get("Type", "")) in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
                        return f"CloudWatch alarm {d.path}"
            if d.kind in ("yaml", "params") and isinstance(d.data, dict):
                if "apiVersion" in d.data and isinstance(d.data.get("groups"), list):
                    return f"Grafana alerting {d.path}"  # Grafana alert provisioning
                if "contactPoints" in d.data or "policies" in d.data and "apiVersion" in d.data:
                    return f"Grafana alerting {d.path}"
                mon = d.data.get("create_monitor")
                if isinstance(mon, dict) and mon.get("alert_notification"):
                    return f"Azure ML monitor alerts {d.path}"
        for path, s in project.summaries.items():
            for c in s.calls:
                if c.attr in ("put_metric_alarm", "put_composite_alarm", "create_alert_policy",
                              "create_monitor") or (c.qualname or "").startswith(("datadog_api_client", "pagerduty",
                                                                                     "opsgenie")) or \
                        canonical(c.qualname) in ("azure.ai.ml.entities.AlertNotification",):
                    return f"alarm API call {path}:{c.line}"
        rx = re.compile(r"(^|/)[^/]*(alert|alarm|alertmanager|pagerduty|opsgenie)[^/]*\.(tf|json|ya?ml|jsonnet|libsonnet|"
                        r"rules)$|(^|/)[^/]*(monitor|datadog)[^/]*\.tf$", re.I)
        for p in project.inventory:
            if rx.search(p) and not project.is_test_path(p):
                return f"alerting file {p}"
        return unparsed_alerting(project)
    return _memo(project, "alerting", compute)


# Alert definitions in files the config loaders do not parse: Helm templates (``{{ }}``), Terraform,
# Jsonnet (kube-prometheus mixins).
_UNPARSED_ALERTING = re.compile(r"kind:\s*PrometheusRule\b|aws_cloudwatch_metric_alarm|aws_cloudwatch_composite_alarm|"
                                r"google_monitoring_alert_policy|datadog_monitor|azurerm_monitor_metric_alert|"
                                r"grafana_rule_group|newrelic_alert_policy|prometheusAlerts")
_ALERT_KEY = re.compile(r"alert:[ \t]*\S")  # a literal first: the regex engine skips ahead (a MB in 3 ms)
_UNPARSED_HINT = re.compile(rb"alert|alarm|monitor|PrometheusRule|grafana_rule", re.I)
_UNPARSED_FILES = re.compile(r"(^|/)templates/[^/]+\.ya?ml$|\.(tf|jsonnet|libsonnet)$", re.I)


def _alert_text(text: str) -> bool:
    """Alert definitions in a text: a PrometheusRule, a Terraform/Jsonnet alert resource, or a
    ``- alert: Name`` rule entry (the key first on its line)."""
    if _UNPARSED_ALERTING.search(text):
        return True
    for m in _ALERT_KEY.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        if not text[start:m.start()].strip(" \t-"):
            return True
    return False


def unparsed_alerting(project: Any) -> Optional[str]:
    """Where alert definitions sit in a file no loader parses (a Helm template, Terraform, Jsonnet),
    or None.  Read at most 500 such files, 1 MB each; memoised."""
    def compute():
        import os

        from mllint.sources import regular_small

        root = getattr(project, "root", None)
        n = 0
        for p in project.inventory if root else ():
            if not _UNPARSED_FILES.search(p) or is_test(project, p):
                continue
            n += 1
            if n > 500:
                break
            full = os.path.join(root, p)
            if not regular_small(full):
                continue
            try:
                with open(full, "rb") as fh:
                    data = fh.read(1 << 20)
            except OSError:
                continue
            # a byte search first: most templates mention no alert at all (kserve: 500 files, 0.5 s -> 0.05 s)
            if _UNPARSED_HINT.search(data) and _alert_text(data.decode("utf-8", "replace")):
                return f"alerting definitions in {p}"
        return None
    return _memo(project, "unparsed-alerting", compute)


# ----------------------------------------------------------------------------- CloudFormation
def cfn_resources(doc, rtype: str) -> list:
    """-> [(logical id, resource map, line of its Type key)]"""
    if doc.kind != "cloudformation":
        return []
    res = as_map(as_map(doc.data).get("Resources"))
    out = []
    for lid, r in res.items():
        if isinstance(r, dict) and r.get("Type") == rtype:
            out.append((lid, r, line_of(r, "Type", line_of(res, lid))))
    return out


# ----------------------------------------------------------------------------- model-serving evidence
def model_serving_configs(project: Any) -> list:
    """Documents that deploy a model server: k8s model servers, SageMaker endpoints in CloudFormation,
    Dockerfiles whose CMD/ENTRYPOINT start a serving module or a model server."""
    def compute():
        out = []
        for d in project.configs:
            if d.kind == "k8s" and is_model_server(d, project):
                out.append(d)
            elif d.kind == "cloudformation" and cfn_resources(d, "AWS::SageMaker::Endpoint"):
                out.append(d)
            elif d.kind == "dockerfile" and dockerfile_serves_model(d, project):
                out.append(d)
        return [d for d in out if not is_test(project, d.path)]
    return _memo(project, "serving_configs", compute)


def dockerfile_serves_model(doc, project: Any) -> bool:
    df = doc.data
    instrs = df.of("CMD") + df.of("ENTRYPOINT")
    if not instrs:
        return False
    last_stage = max(i.stage for i in df.instructions) if df.instructions else 0
    serving = getattr(project, "serving_modules", set()) or set()
    for ins in instrs:
        if ins.stage != last_stage:
            continue
        args = ins.args
        if args.strip().startswith("["):
            try:
                import json

                argv = [str(a) for a in json.loads(args)]
            except ValueError:
                argv = args.split()
        else:
            argv = args.split()
        if container_serves_model({"command": argv}, serving):
            return True
    froms = df.of("FROM")
    return bool(froms) and bool(MODEL_SERVER_IMAGE_RE.search(froms[-1].args)) and bool(instrs)


# ----------------------------------------------------------------------------- CI/CD
class CIJob:
    __slots__ = ("doc", "id", "job", "line", "environment", "env_line", "needs", "stage", "commands", "uses")

    def __init__(self, doc, jid: str, job: dict, line: int):
        self.doc, self.id, self.job, self.line = doc, jid, job, line
        env = job.get("environment")
        name = env.get("name") if isinstance(env, dict) else env
        self.environment = str(name) if isinstance(name, (str, int)) else ""
        self.env_line = line_of(job, "environment", line) if env is not None else line
        needs = job.get("needs")
        if isinstance(needs, str):
            needs = [needs]
        self.needs = [n if isinstance(n, str) else str(as_map(n).get("job") or "") for n in as_list(needs)]
        self.stage = str(job.get("stage") or "test") if doc.kind == "gitlab-ci" else ""
        self.commands = []  # (text, line)
        self.uses = []  # (action, line)
        if doc.kind == "github-workflow":
            if isinstance(job.get("uses"), str):  # a reusable workflow
                self.uses.append((job["uses"], line_of(job, "uses", line)))
            for st in as_list(job.get("steps")):
                if not isinstance(st, dict):
                    continue
                if isinstance(st.get("run"), str):
                    self.commands.append((st["run"], st.value_line("run", st.line)))
                if isinstance(st.get("uses"), str):
                    self.uses.append((st["uses"], line_of(st, "uses", st.line)))
                if isinstance(st.get("name"), str):
                    self.uses.append(("name:" + st["name"], line_of(st, "name", st.line)))
        else:
            for key in ("before_script", "script", "after_script"):
                v = job.get(key)
                if isinstance(v, str):
                    self.commands.append((v, line_of(job, key, line)))
                for i, l in enumerate(as_list(v)):
                    if isinstance(l, str):
                        self.commands.append((l, v.line_of(i)))

    @property
    def label(self) -> str:
        return " ".join([self.id, str(self.job.get("name") or ""), self.environment])


GITLAB_RESERVED = {"stages", "variables", "default", "include", "workflow", "image", "services", "cache",
                   "before_script", "after_script", "pages"}


def ci_jobs(doc) -> list:
    data = as_map(doc.data)
    out = []
    if doc.kind == "github-workflow":
        jobs = as_map(data.get("jobs"))
        for jid, job in jobs.items():
            if isinstance(job, dict):
                out.append(CIJob(doc, str(jid), job, line_of(jobs, jid)))
    elif doc.kind == "gitlab-ci":
        for jid, job in data.items():
            if isinstance(job, dict) and not str(jid).startswith(".") and str(jid) not in GITLAB_RESERVED:
                out.append(CIJob(doc, str(jid), job, line_of(data, jid)))
    return out


DEPLOY_CMD_RE = re.compile(
    r"\bkubectl\s+(apply|create|replace|set\s+image|rollout\s+restart)\b|\bhelm\s+(upgrade|install)\b|"
    r"\bkustomize\s+build\b.*\|\s*kubectl|\bgcloud\s+(run\s+deploy|ai\s+endpoints\s+deploy-model|app\s+deploy|"
    r"functions\s+deploy)\b|\baws\s+(ecs\s+update-service|sagemaker\s+(update|create)-endpoint|lambda\s+update-function-code|"
    r"cloudformation\s+deploy)\b|\bsam\s+deploy\b|\bserverless\s+deploy\b|\bsls\s+deploy\b|\bcdk\s+deploy\b|"
    r"\bterraform\s+apply\b|\baz\s+(ml\s+online-deployment\s+(create|update)|ml\s+online-endpoint\s+update\b.*--traffic|"
    r"webapp\s+deploy|containerapp\s+update)\b|"
    r"\bbentoml\s+deploy\b|\bmlflow\s+deployments\s+(create|update)\b|\bfly\s+deploy\b|\bheroku\s+container:release\b|"
    r"\bargocd\s+app\s+sync\b|\banyscale\s+service\s+(rollout|deploy)\b|\bmodal\s+deploy\b|\bseldon\s+model\s+load\b|\bkn\s+service\s+(create|update)\b")
DEPLOY_ACTION_RE = re.compile(
    r"deploy-cloudrun|amazon-ecs-deploy|k8s-deploy|webapps-deploy|aws-sam|deploy-appengine|helm-deploy|"
    r"aws-cloudformation-github-deploy|serverless|kubectl-action|create-deployment|allocate-traffic|"
    r"deploy-online-endpoint|sagemaker-deploy", re.I)
DRY_RUN_RE = re.compile(r"--dry-run|--server-dry-run|--validate-only|\bkubeval\b|\bkubeconform\b", re.I)
NON_SERVICE_DEPLOY_RE = re.compile(r"pages|gh-deploy|mkdocs|docs|storybook|pypi|publish", re.I)
SMOKE_RE = re.compile(
    r"\bcurl\b|\bwget\b|\bhttpie\b|\bhttp\s+(GET|POST)\b|smoke|health|readiness|liveness|\bk6\b|\bnewman\b|"
    r"rollout\s+status|\bkubectl\s+wait\b|integration[-_ ]?test|e2e|end-to-end|locust|\bpytest\b.*\b-m\b|"
    r"invoke-endpoint|invoke_endpoint|predict|wait\s+endpoint-in-service|endpoint-in-service|sanity|verify|validate|"
    r"\bhelm\s+test\b",
    re.I)


# Commands that take a deployment down again: a job that runs one after its deploy tests the
# deployment and removes it (an example's CI check), it does not release a service
TEARDOWN_RE = re.compile(
    r"\bkubectl\s+delete\b|\bhelm\s+(uninstall|delete)\b|\baz\s+(ml\s+online-(endpoint|deployment)\s+delete|"
    r"group\s+delete)\b|\bgcloud\s+(run\s+services\s+delete|ai\s+endpoints\s+(undeploy-model|delete))\b|"
    r"\baws\s+(sagemaker\s+delete-endpoint|cloudformation\s+delete-stack)\b|\b(serverless|sls|cdk|sam)\s+(remove|destroy|delete)\b|"
    r"\bterraform\s+destroy\b|\bkind\s+delete\s+cluster\b")


def deploy_steps(job: CIJob) -> list:
    """-> [(line, description)] of steps that deploy a service; none in a job that takes what it
    deployed down again (an ephemeral test deployment)."""
    out = []
    for text, line in job.commands:
        for off, l in enumerate(str(text).splitlines()):
            if l.strip().startswith("#"):
                continue
            m = DEPLOY_CMD_RE.search(l)
            if m and not NON_SERVICE_DEPLOY_RE.search(l) and not DRY_RUN_RE.search(l):
                out.append((line + off + block_offset(text), m.group(0).strip()))
    for action, line in job.uses:
        if action.startswith("name:"):
            continue
        if DEPLOY_ACTION_RE.search(action) and not NON_SERVICE_DEPLOY_RE.search(action):
            out.append((line, action))
    if out:
        first = min(line for line, _ in out)
        for text, line in job.commands:
            for off, l in enumerate(str(text).splitlines()):
                if line + off + block_offset(text) > first and TEARDOWN_RE.search(l) and not l.strip().startswith("#"):
                    return []
    return out


def block_offset(text: Any) -> int:
    """A YAML block scalar (``run: |``) starts on the line after its key: 1, else 0."""
    return 1 if isinstance(text, str) and text.endswith("\n") else 0


def job_text(job: CIJob) -> str:
    return "\n".join([t for t, _ in job.commands] + [u for u, _ in job.uses])


def doc_anchor(d) -> int:
    """The most telling line of a serving config: k8s `kind:`, a SageMaker endpoint's `Type:`,
    a Dockerfile's CMD/ENTRYPOINT."""
    if d.kind == "k8s" and hasattr(d.data, "line_of"):
        return d.data.line_of("kind")
    if d.kind == "cloudformation":
        res = cfn_resources(d, "AWS::SageMaker::Endpoint")
        if res:
            return res[0][2]
    if d.kind == "dockerfile":
        ins = d.data.of("CMD") + d.data.of("ENTRYPOINT")
        if ins:
            return ins[-1].line
    return getattr(d, "line", 1) or 1
