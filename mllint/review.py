"""``mllint review``: the 20-checkpoint architecture review report for a repository.

One run of the same engine as ``mllint check`` (same configuration, selection and suppressions),
turned into what a reviewer fills in before a launch: a header (what was read), a scorecard (one
row per checkpoint, with a status and the rules that ran for it), what the repository *is*
(training entrypoints, serving request paths, pipelines, deploy configs and a diagram of them) and
the findings grouped by checkpoint, most severe first.

``build_review(result)`` makes one plain-data model (the JSON output); the Markdown and HTML
renderers in ``mllint.review_render`` only format it.

This module is imported when the CLI starts: keep its top-level imports to click and stdlib.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
import subprocess
import sys
from typing import Any, Optional

import click

from mllint.cli_options import scan_options

REVIEW_SCHEMA_VERSION = 1

# (key, title, checkpoints)
CATEGORIES = (
    ("training", "Training infrastructure", (1, 2, 3, 4)),
    ("data", "Data pipeline", (5, 6, 7, 8)),
    ("serving", "Model serving", (9, 10, 11, 12)),
    ("monitoring", "Monitoring", (13, 14, 15, 16)),
    ("deployment", "Deployment process", (17, 18, 19, 20)),
)

TITLES = {
    1: "Model registry", 2: "Experiment tracking", 3: "Reproducible training", 4: "Distributed training",
    5: "Training-serving consistency", 6: "Point-in-time correctness", 7: "Data quality monitoring",
    8: "Feature store", 9: "Serving scalability", 10: "Model version management", 11: "Serving latency profile",
    12: "Inference cost tracking", 13: "Model quality monitoring", 14: "Data drift detection",
    15: "Ground truth collection", 16: "Alerting and escalation", 17: "Staging environment",
    18: "Rollout strategy", 19: "Deployment documentation", 20: "Incident response",
}

ROLE_LABELS = {"training": "training code", "serving": "serving code", "deploy": "deploy configs"}

# What a checkpoint's rules need to exist before "nothing found" means anything:
# ("all", roles) - every role; ("any", roles) - at least one of them.
ROLE_NEEDS = {
    1: ("all", ("training",)),
    2: ("all", ("training",)),
    3: ("all", ("training",)),
    4: ("all", ("training",)),
    5: ("all", ("training", "serving")),
    6: ("all", ("training",)),
    7: ("any", ("training", "serving")),
    8: ("all", ("training", "serving")),
    9: ("all", ("serving",)),
    10: ("all", ("serving",)),
    11: ("all", ("serving",)),
    12: ("all", ("serving",)),
    13: ("all", ("serving",)),
    14: ("all", ("serving",)),
    15: ("all", ("serving",)),
    16: ("all", ("deploy",)),  # alert rules read alert configs / manifests of a deployed model
    17: ("all", ("deploy",)),
    18: ("all", ("deploy",)),  # rollout rules read model-server manifests
    19: ("any", ("deploy", "serving")),
    20: ("any", ("deploy", "serving")),
}

# Checkpoints whose evidence mostly lives outside the code: "nothing found" is not a pass.
NOT_CODE_DETECTABLE = frozenset({12, 15, 19, 20})

QUESTIONS = {
    1: "Where is each model version recorded, and how can you tell which version served a given request last week?",
    2: "Which tracking system records every training run's parameters, metrics, code commit and data version?",
    3: "Could you retrain the production model from a commit and a data snapshot and get the same metrics?",
    4: "Who owns the distributed-training setup, and how are worker failures and checkpoints handled?",
    5: "Is the feature code used in serving the same code as in training, and what enforces that?",
    6: "How do training joins keep data from after the prediction time out of the features?",
    7: "Which automated checks (schema, nulls, ranges) run on input data before training and at serving time?",
    8: "Are features shared between training and serving (and between teams), or recomputed by each model?",
    9: "How does serving scale under load: batching, replicas, autoscaling?",
    10: "Can two model versions serve side by side, and how long does a rollback take?",
    11: "What are p50/p99 latencies under realistic concurrent load, and how are they tested?",
    12: "What does one prediction cost, and who looks at that number?",
    13: "Which model-quality metrics (not only CPU and latency) are watched in production, and where are predictions logged?",
    14: "How is drift in input-feature distributions detected, with which thresholds, and who is told?",
    15: "How are ground-truth labels collected and joined back to predictions to measure production accuracy?",
    16: "Which alerts fire on model quality, not only on infrastructure, with which severities and runbooks?",
    17: "Is there a staging environment with production-like data, and which metric gate promotes a model?",
    18: "How is a new model rolled out (canary, shadow, blue/green), and what triggers an automatic rollback?",
    19: "Where are the deployment and rollback procedures written down, and could someone new follow them?",
    20: "What is the incident process for ML failures (bad predictions, drift), and who is on call for the model?",
}

STATUS_LABELS = {
    "findings": "findings",
    "ok": "no problems found",
    "n/a": "not applicable",
    "ask": "not code-detectable: ask the team",
}

REASON_LABELS = {"no-rules": "no rule yet: ask the team", "rules-disabled": "not checked: ask the team"}

LEVEL_ORDER = ("error", "warning", "note")
_LEVEL_RANK = {"error": 3, "warning": 2, "note": 1}

# Imported top-level package -> (display name, group)
FRAMEWORKS = {
    "torch": ("PyTorch", "ml"), "torchvision": ("PyTorch", "ml"), "lightning": ("PyTorch Lightning", "ml"),
    "pytorch_lightning": ("PyTorch Lightning", "ml"), "tensorflow": ("TensorFlow/Keras", "ml"),
    "keras": ("TensorFlow/Keras", "ml"), "tf_keras": ("TensorFlow/Keras", "ml"), "jax": ("JAX", "ml"),
    "flax": ("JAX", "ml"), "sklearn": ("scikit-learn", "ml"), "xgboost": ("XGBoost", "ml"),
    "lightgbm": ("LightGBM", "ml"), "catboost": ("CatBoost", "ml"), "transformers": ("Hugging Face Transformers", "ml"),
    "sentence_transformers": ("Sentence Transformers", "ml"), "statsmodels": ("statsmodels", "ml"),
    "prophet": ("Prophet", "ml"), "spacy": ("spaCy", "ml"), "ultralytics": ("Ultralytics YOLO", "ml"),
    "onnxruntime": ("ONNX Runtime", "ml"), "onnx": ("ONNX", "ml"), "peft": ("PEFT", "ml"),
    "accelerate": ("Accelerate", "ml"), "deepspeed": ("DeepSpeed", "ml"), "horovod": ("Horovod", "ml"),
    "optuna": ("Optuna", "ml"),
    "fastapi": ("FastAPI", "serving"), "flask": ("Flask", "serving"), "starlette": ("Starlette", "serving"),
    "django": ("Django", "serving"), "kserve": ("KServe", "serving"), "bentoml": ("BentoML", "serving"),
    "seldon_core": ("Seldon Core", "serving"), "mlserver": ("MLServer", "serving"), "ts": ("TorchServe", "serving"),
    "tritonclient": ("Triton", "serving"), "litserve": ("LitServe", "serving"), "gradio": ("Gradio", "serving"),
    "streamlit": ("Streamlit", "serving"), "sanic": ("Sanic", "serving"), "litestar": ("Litestar", "serving"),
    "sagemaker": ("SageMaker", "serving"),
    "mlflow": ("MLflow", "mlops"), "wandb": ("Weights & Biases", "mlops"), "comet_ml": ("Comet", "mlops"),
    "neptune": ("Neptune", "mlops"), "clearml": ("ClearML", "mlops"), "dvc": ("DVC", "mlops"),
    "hydra": ("Hydra", "mlops"), "ray": ("Ray", "mlops"), "airflow": ("Airflow", "mlops"),
    "kfp": ("Kubeflow Pipelines", "mlops"), "prefect": ("Prefect", "mlops"), "dagster": ("Dagster", "mlops"),
    "zenml": ("ZenML", "mlops"), "metaflow": ("Metaflow", "mlops"), "feast": ("Feast", "mlops"),
    "evidently": ("Evidently", "mlops"), "alibi_detect": ("Alibi Detect", "mlops"), "whylogs": ("whylogs", "mlops"),
    "nannyml": ("NannyML", "mlops"), "great_expectations": ("Great Expectations", "mlops"),
    "pandera": ("Pandera", "mlops"), "prometheus_client": ("Prometheus client", "mlops"),
    "pandas": ("pandas", "data"), "numpy": ("NumPy", "data"), "polars": ("Polars", "data"),
    "pyspark": ("PySpark", "data"), "dask": ("Dask", "data"), "pyarrow": ("PyArrow", "data"),
}
FRAMEWORK_GROUPS = (("ml", "ML frameworks"), ("serving", "Serving"), ("mlops", "MLOps and data quality"),
                    ("data", "Data"), ("deploy", "Build and deploy"))

# Config kinds / k8s kinds -> tool names (group "deploy")
CONFIG_TOOLS = {
    "dockerfile": "Docker", "github-workflow": "GitHub Actions", "gitlab-ci": "GitLab CI", "dvc": "DVC pipelines",
    "mlproject": "MLflow Projects", "cloudformation": "AWS CloudFormation", "prometheus-rules": "Prometheus alert rules",
    "alertmanager": "Alertmanager", "conda-env": "conda",
}
K8S_TOOLS = {
    "InferenceService": "KServe", "ServingRuntime": "KServe", "ClusterServingRuntime": "KServe",
    "SeldonDeployment": "Seldon Core", "Rollout": "Argo Rollouts", "RayService": "Ray Serve (KubeRay)",
    "Canary": "Flagger", "ScaledObject": "KEDA", "PrometheusRule": "Prometheus Operator",
    "VirtualService": "Istio",
}
LANGUAGES = {
    "python": "Python", "notebook": "Jupyter notebooks", "dockerfile": "Dockerfile", "shell": "Shell",
    "markdown": "Markdown", "pyproject": "TOML", "requirements": "pip requirements",
}
PIPELINE_KINDS = ("dvc", "mlproject", "github-workflow", "gitlab-ci", "shell", "dockerfile")
PIPELINE_KIND_LABELS = {"dvc": "DVC pipeline", "mlproject": "MLproject", "github-workflow": "GitHub Actions workflow",
                        "gitlab-ci": "GitLab CI", "shell": "shell script", "dockerfile": "Dockerfile"}
ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "route", "api_route", "websocket", "head", "options"}


# ------------------------------------------------------------------------------------- helpers
def first_sentence(md: str, min_chars: int = 60) -> str:
    """The first sentence of a Markdown paragraph, without the ``Checkpoint N (name):`` prefix
    (the next ones too while the text is shorter than ``min_chars``: "A model is an input." alone
    says little)."""
    text = re.sub(r"```.*?```", " ", md or "", flags=re.S)
    text = text.split("\n\n")[0]
    text = " ".join(text.split())
    text = re.sub(r"^Checkpoint\s+\d+\s*(\([^)]*\))?\s*:\s*", "", text)
    for m in re.finditer(r"[.!?](?=\s|$)", text):
        before = text[: m.start() + 1]
        if re.search(r"(\be\.g|\bi\.e|\betc|\bvs|\bcf|\bapprox)\.$", before, re.I):
            continue
        if len(before) < min_chars and m.end() < len(text):
            continue
        text = before
        break
    return text[:1].upper() + text[1:] if text else ""


def rule_why(rule_cls) -> str:
    doc = getattr(rule_cls, "doc", None)
    if doc is None:
        return ""
    why = first_sentence(doc.section("Why is this bad?"))
    return why or (doc.summary or "")


def _git(root: str, *args: str) -> Optional[str]:
    """Read-only git queries on a repository that may be untrusted: no fsmonitor or hooks from its
    config, no optional index lock (another git process may be working in the same tree)."""
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")
    cmd = ["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-C", root, *args]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=15, stdin=subprocess.DEVNULL, env=env,
                             check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip()


def _clean_remote(url: Optional[str]) -> Optional[str]:
    """A remote URL without credentials, as a browsable https address when it is a known host."""
    if not url:
        return None
    url = re.sub(r"^(https?://)[^/@]*@", r"\1", url)  # drop user:token@
    m = re.match(r"^git@([^:]+):(.+?)(\.git)?$", url)
    if m:
        return f"https://{m.group(1)}/{m.group(2)}"
    m = re.match(r"^ssh://git@([^/]+)/(.+?)(\.git)?$", url)
    if m:
        return f"https://{m.group(1)}/{m.group(2)}"
    return re.sub(r"\.git$", "", url)


def git_info(root: str) -> dict:
    info: dict = {"commit": None, "branch": None, "remote": None, "subdirectory": None, "dirty": None,
                  "commit_source": None}
    top = _git(root, "rev-parse", "--show-toplevel")
    if not top:
        return info
    info["commit"] = _git(root, "rev-parse", "HEAD")
    info["commit_source"] = "git" if info["commit"] else None
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    info["branch"] = branch if branch and branch != "HEAD" else None
    info["remote"] = _clean_remote(_git(root, "config", "--get", "remote.origin.url"))
    prefix = _git(root, "rev-parse", "--show-prefix")
    info["subdirectory"] = prefix.rstrip("/") if prefix else None
    status = _git(root, "status", "--porcelain", "--untracked-files=no", "--ignore-submodules", "--", ".")
    info["dirty"] = bool(status) if status is not None else None
    return info


def report_date() -> str:
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde and sde.isdigit():
        now = _dt.datetime.fromtimestamp(int(sde), tz=_dt.timezone.utc)
    else:
        now = _dt.datetime.now(tz=_dt.timezone.utc)
    return now.strftime("%Y-%m-%d %H:%M UTC")


class Linker:
    """Relative links to ``path#Lline`` from where the report will live (the repository root by
    default, the output file's directory when it is written inside the repository), or under
    ``base`` (e.g. ``https://github.com/o/r/blob/<sha>/``)."""

    def __init__(self, root: str, output_file: Optional[str] = None, base: Optional[str] = None):
        from urllib.parse import quote

        self._quote = quote
        self.base = base
        self.prefix = ""
        if base:
            self.prefix = base if base.endswith("/") else base + "/"
        elif output_file:
            out_dir = os.path.dirname(os.path.abspath(output_file))
            root_abs = os.path.abspath(root)
            if out_dir == root_abs or out_dir.startswith(root_abs + os.sep):
                rel = os.path.relpath(root_abs, out_dir).replace(os.sep, "/")
                self.prefix = "" if rel == "." else rel + "/"

    def __call__(self, path: str, line: Optional[int] = None, notebook: bool = False) -> str:
        href = self.prefix + self._quote(path, safe="/._-~")
        if line and not notebook and not path.endswith(".ipynb"):
            href += f"#L{line}"
        return href


# ---------------------------------------------------------------------------------- the model
def build_review(result: Any, *, output_file: Optional[str] = None, link_base: Optional[str] = None,
                 max_per_rule: int = 20) -> dict:
    """The whole report as plain data (what ``--output-format json`` prints)."""
    from mllint import __version__

    project = result.project
    link = Linker(result.root, output_file, link_base)
    roles = {"training": bool(project.has_training), "serving": bool(project.has_serving),
             "deploy": bool(project.has_deploy)}
    by_code = {r.meta.code: r for r in result.rules}
    try:
        from mllint import registry

        for r in registry.all_rules():
            by_code.setdefault(r.meta.code, r)
    except Exception:  # pragma: no cover - the registry already loaded for the scan
        pass

    header = _header(result, __version__)
    _header_from_link_base(header, link_base)
    scorecard, by_cp = _scorecard(result, roles, by_code)
    repo = _repository(result, link)
    findings = _findings(by_cp, by_code, link, max_per_rule)
    unreadable = [_finding_dict(f, by_code, link) for f in result.findings if f.checkpoint == 0]
    notes = [n.message for n in result.notifications if n.descriptor == "internal-error"]
    totals = {lvl: sum(c["counts"].get(lvl, 0) for c in _all_rows(scorecard)) for lvl in LEVEL_ORDER}
    status_totals: dict = {}
    for row in _all_rows(scorecard):
        status_totals[row["status"]] = status_totals.get(row["status"], 0) + 1
    return {
        "schema_version": REVIEW_SCHEMA_VERSION,
        "tool": {"name": "mllint", "version": __version__},
        "header": header,
        "roles": roles,
        "profile": getattr(project, "profile", None),
        "summary": {"findings": totals, "statuses": status_totals, "unreadable_files": len(unreadable)},
        "scorecard": scorecard,
        "repository": repo,
        "findings": findings,
        "unreadable": unreadable,
        "notes": notes,
    }


def _all_rows(scorecard: list) -> list:
    return [row for cat in scorecard for row in cat["checkpoints"]]


def _header(result: Any, version: str) -> dict:
    project = result.project
    root = os.path.abspath(result.root)
    g = git_info(root)
    name = os.path.basename(root.rstrip(os.sep)) or root
    if g.get("remote"):
        m = re.search(r"[/:]([^/:]+/[^/]+?)/?$", g["remote"])
        if m:
            name = m.group(1) + (f" ({g['subdirectory']})" if g.get("subdirectory") else "")
    langs: dict = {}
    for fr in result.files:
        if fr.kind in ("other",):
            continue
        lang = LANGUAGES.get(fr.kind, "YAML")  # every other kind is a YAML file (workflows, dvc, k8s, params)
        e = langs.setdefault(lang, {"language": lang, "files": 0, "lines": 0})
        e["files"] += 1
        e["lines"] += fr.n_lines or 0
    languages = sorted(langs.values(), key=lambda e: (-e["lines"], e["language"]))
    return {
        "repository": name,
        "root": root,
        "remote": g.get("remote"),
        "commit": g.get("commit"),
        "commit_source": g.get("commit_source"),
        "branch": g.get("branch"),
        "subdirectory": g.get("subdirectory"),
        "dirty": g.get("dirty"),
        "date": report_date(),
        "mllint_version": version,
        "files": len([f for f in result.files if f.kind != "other"]),
        "lines": sum(f.n_lines or 0 for f in result.files),
        "languages": languages,
        "frameworks": detect_frameworks(project),
    }


def _header_from_link_base(header: dict, link_base: Optional[str]) -> None:
    """A snapshot without git metadata (an archive, a CI cache) reviewed with
    ``--link-base https://github.com/OWNER/REPO/blob/SHA/``: take repository and commit from it."""
    if not link_base:
        return
    m = re.match(r"^(https://[^/]+)/([^/]+/[^/]+?)/(?:-/)?(?:blob|tree|src)/([^/]+)/?", link_base)
    if not m:
        return
    if not header.get("remote"):
        header["remote"] = f"{m.group(1)}/{m.group(2)}"
        header["repository"] = m.group(2)
    if not header.get("commit") and re.fullmatch(r"[0-9a-f]{7,40}", m.group(3)):
        header["commit"] = m.group(3)
        header["commit_source"] = "--link-base"


def detect_frameworks(project: Any) -> list:
    """[{"name", "group", "evidence"}] from imported packages and config kinds."""
    local = set()
    for s in getattr(project, "summaries", {}).values():
        if s.module:
            local.add(s.module.split(".")[0])
    found: dict = {}
    imported = set(getattr(project, "frameworks", ()) or ())
    for pkg in sorted(imported):
        if pkg in local or pkg not in FRAMEWORKS:
            continue
        name, group = FRAMEWORKS[pkg]
        found.setdefault(name, {"name": name, "group": group, "evidence": []})["evidence"].append(f"import {pkg}")
    if "ray" in imported:
        try:
            if project.uses_module("ray.serve"):
                found.setdefault("Ray Serve", {"name": "Ray Serve", "group": "serving", "evidence": []})[
                    "evidence"].append("import ray.serve")
        except Exception:  # pragma: no cover
            pass
    for d in getattr(project, "configs", ()):
        tool = CONFIG_TOOLS.get(d.kind)
        if d.kind == "k8s":
            tool = K8S_TOOLS.get(d.subkind, "Kubernetes")
        if tool:
            e = found.setdefault(tool, {"name": tool, "group": "deploy", "evidence": []})
            if len(e["evidence"]) < 3 and d.path not in e["evidence"]:
                e["evidence"].append(d.path)
    order = {g: i for i, (g, _) in enumerate(FRAMEWORK_GROUPS)}
    return sorted(found.values(), key=lambda e: (order.get(e["group"], 9), e["name"].lower()))


def _role_missing(cp: int, roles: dict) -> Optional[list]:
    mode, needed = ROLE_NEEDS[cp]
    have = [r for r in needed if roles.get(r)]
    if mode == "all":
        missing = [r for r in needed if not roles.get(r)]
        return missing or None
    return None if have else list(needed)


def _missing_text(cp: int, missing: list) -> str:
    mode, _ = ROLE_NEEDS[cp]
    labels = [ROLE_LABELS[r] for r in missing]
    if mode == "any" and len(labels) > 1:
        return "no " + " and no ".join(labels) + " found"
    return "no " + " and no ".join(labels) + " found"


def _scorecard(result: Any, roles: dict, by_code: dict) -> tuple:
    by_cp: dict = {cp: [] for cp in range(1, 21)}
    for f in result.findings:
        if 1 <= f.checkpoint <= 20:
            by_cp[f.checkpoint].append(f)
    suppressed: dict = {}
    for f in getattr(result, "suppressed", ()) or ():
        suppressed[f.checkpoint] = suppressed.get(f.checkpoint, 0) + 1
    cats = []
    for key, title, cps in CATEGORIES:
        rows = []
        for cp in cps:
            rules = [r for r in result.rules if r.meta.checkpoint == cp]
            counts = {lvl: 0 for lvl in LEVEL_ORDER}
            for f in by_cp[cp]:
                counts[f.level] = counts.get(f.level, 0) + 1
            missing = _role_missing(cp, roles)
            mode, needed = ROLE_NEEDS[cp]
            row = {
                "checkpoint": cp,
                "title": TITLES[cp],
                "category": key,
                "needs": {"mode": mode, "roles": list(needed)},
                "counts": counts,
                "suppressed": suppressed.get(cp, 0),
                "rules": [{"code": r.meta.code, "name": r.name, "level": r.meta.level, "profile": r.meta.profile,
                           "summary": r.doc.summary if getattr(r, "doc", None) else ""} for r in rules],
                "question": None,
                "reason": None,
                "missing_roles": [],
            }
            if by_cp[cp]:
                row["status"] = "findings"
                parts = [f"{counts[l]} {l}{'s' if counts[l] != 1 else ''}" for l in LEVEL_ORDER if counts[l]]
                row["detail"] = ", ".join(parts)
            elif missing:
                row["status"] = "n/a"
                row["missing_roles"] = missing
                row["detail"] = _missing_text(cp, missing)
            elif cp in NOT_CODE_DETECTABLE:
                row["status"] = "ask"
                row["reason"] = "not-code-detectable"
                row["question"] = QUESTIONS[cp]
                row["detail"] = ("little of this shows in code; nothing was found" if rules
                                 else "little of this shows in code")
            elif not rules:
                row["status"] = "ask"
                row["question"] = QUESTIONS[cp]
                known = [c for c, r in by_code.items() if r.meta.checkpoint == cp]
                if known:
                    row["reason"] = "rules-disabled"
                    row["detail"] = (f"{len(known)} rule{'s' if len(known) != 1 else ''} "
                                     f"({', '.join(sorted(known))}) not enabled by the selection or profile")
                else:
                    row["reason"] = "no-rules"
                    row["detail"] = "no mllint rule checks this checkpoint yet"
            else:
                row["status"] = "ok"
                n = len(rules)
                row["detail"] = f"{n} rule{'s' if n != 1 else ''} ran"
            row["label"] = REASON_LABELS.get(row["reason"]) or STATUS_LABELS[row["status"]]
            rows.append(row)
        cats.append({"key": key, "title": title, "checkpoints": rows})
    return cats, by_cp


def _finding_dict(f: Any, by_code: dict, link: Linker) -> dict:
    loc = f.location
    rule = by_code.get(f.code)
    where = f"{loc.path}:{loc.line}"
    if loc.cell is not None:
        where = f"{loc.path}:cell {loc.cell}:{loc.cell_line}"
    return {
        "code": f.code,
        "name": f.name,
        "level": f.level,
        "checkpoint": f.checkpoint,
        "message": f.message,
        "why": rule_why(rule) if rule is not None else "",
        "path": loc.path,
        "line": loc.line,
        "column": loc.col,
        "cell": loc.cell,
        "cell_line": loc.cell_line,
        "where": where,
        "link": link(loc.path, loc.line, notebook=loc.cell is not None),
    }


def _findings(by_cp: dict, by_code: dict, link: Linker, max_per_rule: int) -> list:
    out = []
    for cp in range(1, 21):
        fs = by_cp.get(cp) or []
        if not fs:
            continue
        groups: dict = {}
        for f in fs:
            groups.setdefault(f.code, []).append(f)
        rule_groups = []
        for code, items in groups.items():
            items.sort(key=lambda f: (-_LEVEL_RANK.get(f.level, 0), f.location.path, f.location.line, f.location.col))
            rule = by_code.get(code)
            top = items[0].level
            shown = items if max_per_rule <= 0 else items[:max_per_rule]
            rule_groups.append({
                "code": code,
                "name": items[0].name,
                "level": top,
                "summary": rule.doc.summary if rule is not None and getattr(rule, "doc", None) else "",
                "why": rule_why(rule) if rule is not None else "",
                "count": len(items),
                "omitted": len(items) - len(shown),
                "findings": [_finding_dict(f, by_code, link) for f in shown],
            })
        rule_groups.sort(key=lambda g: (-_LEVEL_RANK.get(g["level"], 0), -g["count"], g["code"]))
        out.append({"checkpoint": cp, "title": TITLES[cp], "count": len(fs), "rules": rule_groups})
    return out


# -------------------------------------------------------------------------- what the repo is
def _route_of(fn: Any) -> Optional[str]:
    for d in getattr(fn, "decorators", ()) or ():
        meth = (d.dotted or "").rpartition(".")[2]
        if meth not in ROUTE_METHODS:
            continue
        path = None
        if d.args and getattr(d.args[0], "kind", None) == "const" and isinstance(d.args[0].value, str):
            path = d.args[0].value
        elif "path" in (d.kwargs or {}) and d.kwargs["path"].kind == "const":
            path = d.kwargs["path"].value
        verb = meth.upper() if meth not in ("route", "api_route") else ""
        if meth in ("route", "api_route"):
            methods = (d.kwargs or {}).get("methods")
            if methods is not None and methods.kind == "list":
                vals = [v.value for v in methods.value if getattr(v, "kind", None) == "const"]
                verb = "/".join(str(v).upper() for v in vals)
        if path is not None:
            return f"{verb} {path}".strip()
    return None


def _repository(result: Any, link: Linker) -> dict:
    from mllint.graph import split_scope

    project = result.project
    is_test = getattr(project, "is_test_path", lambda p: False)

    training = []
    train_paths = set()
    for ep in project.training_entrypoints:
        train_paths.add(ep.path)
        training.append({"path": ep.path, "kind": ep.kind, "line": ep.line,
                         "source": ep.source or None, "link": link(ep.path, ep.line if ep.kind != "notebook" else None)})
    other_eps = []
    for ep in project.entrypoints:
        if ep.training or ep.kind == "serving" or ep.path in train_paths or is_test(ep.path):
            continue
        if any(o["path"] == ep.path for o in other_eps):
            continue
        other_eps.append({"path": ep.path, "kind": ep.kind, "line": ep.line, "source": ep.source or None,
                          "link": link(ep.path, ep.line if ep.kind != "notebook" else None)})

    handlers = []
    for sid in project.request_roots:
        path, scope = split_scope(sid)
        fn = project.functions.get(sid)
        line = fn.line if fn is not None else 1
        where = f"{path}:{line}"
        fr = project.file_results.get(path)
        if fr is not None and getattr(fr, "line_map", None) is not None:
            try:
                _, _, cell, cell_line, _ = fr.line_map.map(line, 1)
                if cell is not None:
                    where = f"{path}:cell {cell}:{cell_line}"
            except Exception:  # pragma: no cover - a line outside the map
                pass
        handlers.append({"path": path, "function": scope, "line": line, "where": where,
                         "route": _route_of(fn) if fn else None, "test": bool(is_test(path)),
                         "link": link(path, line)})
    serving_modules = sorted(project.serving_modules)
    serving_eps = [{"path": ep.path, "source": ep.source, "link": link(ep.path)}
                   for ep in project.entrypoints if ep.kind == "serving"]

    pipelines = []
    runs_by_cfg: dict = {}
    g = project.graph
    for u, v, kind in g.edges(data="kind"):
        if kind == "runs" and str(u).startswith("cfg:") and str(v).startswith("mod:"):
            runs_by_cfg.setdefault(str(u)[4:].rsplit("#", 1)[0], set()).add(str(v)[4:])
    ep_lines = {}
    for ep in project.entrypoints:
        if ep.source and ":" in ep.source:
            cfg_path, _, ln = ep.source.rpartition(":")
            ep_lines.setdefault((cfg_path, ep.path), int(ln) if ln.isdigit() else None)
    seen_cfg = set()
    for d in project.configs:
        if d.kind not in PIPELINE_KINDS or d.path in seen_cfg or is_test(d.path):
            continue
        runs: dict = {}
        try:  # the commands the config runs, with their lines
            base = d.path.rsplit("/", 1)[0] if "/" in d.path else ""
            for argv, line in project._commands_of(d):
                for ep in project.entries_from_command(argv, d.kind, f"{d.path}:{line}", base):
                    runs.setdefault(ep.path, line)
        except Exception:  # pragma: no cover - fall back on the graph's edges
            runs = {p: None for p in runs_by_cfg.get(d.path, ())}
        for p in runs_by_cfg.get(d.path, ()):
            runs.setdefault(p, ep_lines.get((d.path, p)))
        if d.kind in ("shell", "dockerfile") and not runs:
            continue  # only interesting when they run project code
        seen_cfg.add(d.path)
        pipelines.append({
            "path": d.path, "kind": d.kind, "label": PIPELINE_KIND_LABELS.get(d.kind, d.kind), "link": link(d.path),
            "runs": [{"path": p, "line": ln, "training": p in train_paths, "serving": p in project.serving_modules,
                      "link": link(d.path, ln)} for p, ln in runs.items()],
        })

    deploy = []
    for d in project.deploy_configs:
        name = None
        data = d.data
        if isinstance(data, dict) and isinstance(data.get("metadata"), dict):
            name = data["metadata"].get("name")
        deploy.append({"path": d.path, "line": d.line, "kind": d.subkind or d.kind,
                       "name": name if isinstance(name, str) else None, "link": link(d.path, d.line)})

    # project modules both training and serving reach (shared feature/preprocessing code)
    serve_reach = set(project.request_scopes) | set(project.startup_scopes)
    train_mods = {split_scope(s)[0] for s in project.training_scopes}
    serve_mods = {split_scope(s)[0] for s in serve_reach}
    shared = sorted(p for p in (train_mods & serve_mods)
                    if p not in train_paths and p not in project.serving_modules and not is_test(p)
                    and not p.endswith("__init__.py"))
    repo = {
        "training_entrypoints": training,
        "other_entrypoints": other_eps,
        "serving": {"modules": serving_modules, "handlers": handlers, "entrypoints": serving_eps},
        "pipelines": pipelines,
        "deploy_configs": deploy,
        "shared_modules": shared,
    }
    repo["diagram"] = _diagram(project, repo)
    return repo


def _diagram(project: Any, repo: dict, cap: int = 10) -> dict:
    """Nodes in five columns (pipelines, training, shared code, serving, deploy) and edges."""
    nodes: list = []
    edges: list = []
    ids: dict = {}
    overflow: dict = {}

    def add(group: str, key: str, label: str, sub: list) -> Optional[str]:
        if (group, key) in ids:
            return ids[(group, key)]
        if sum(1 for n in nodes if n["group"] == group) >= cap:
            overflow.setdefault(group, set()).add(key)
            return None
        nid = f"{group[0]}{len(nodes) + 1}"
        ids[(group, key)] = nid
        nodes.append({"id": nid, "group": group, "label": label, "detail": sub[:4] +
                      ([f"+{len(sub) - 4} more"] if len(sub) > 4 else [])})
        return nid

    def edge(a: Optional[str], b: Optional[str], label: str) -> None:
        if a and b and a != b and not any(e["from"] == a and e["to"] == b for e in edges):
            edges.append({"from": a, "to": b, "label": label})

    for ep in repo["training_entrypoints"]:
        add("training", ep["path"], ep["path"], [ep["kind"]])
    handlers_by_mod: dict = {}
    for h in repo["serving"]["handlers"]:
        if h["test"]:
            continue
        lst = handlers_by_mod.setdefault(h["path"], [])
        if (h["route"] or h["function"]) not in lst:
            lst.append(h["route"] or h["function"])
    for mod in repo["serving"]["modules"]:
        add("serving", mod, mod, handlers_by_mod.get(mod, []))
    for p in repo["shared_modules"]:
        nid = add("shared", p, p, [])
        if nid:
            for ep in repo["training_entrypoints"]:
                edge(ids.get(("training", ep["path"])), nid, "imports")
            for mod in repo["serving"]["modules"]:
                edge(ids.get(("serving", mod)), nid, "imports")
    def _weight(pl: dict) -> tuple:  # pipelines that run training/serving code first, then any that run code
        hits = sum(1 for r in pl["runs"] if ("training", r["path"]) in ids or ("serving", r["path"]) in ids)
        return (-hits, -len(pl["runs"]))

    for pl in sorted(repo["pipelines"], key=_weight):
        targets = [r for r in pl["runs"] if ("training", r["path"]) in ids or ("serving", r["path"]) in ids]
        nid = add("pipeline", pl["path"], pl["path"], [pl["label"]] + [f"runs {r['path']}" for r in pl["runs"]])
        for r in targets:
            tgt = ids.get(("training", r["path"])) or ids.get(("serving", r["path"]))
            edge(nid, tgt, "runs")
    for d in repo["deploy_configs"]:
        add("deploy", f"{d['path']}#{d['kind']}#{d['name']}", d["path"], [d["kind"] + (f" {d['name']}" if d["name"] else "")])
    # deploy config -> served module edges, when the graph has them
    g = project.graph
    for u, v, kind in g.edges(data="kind"):
        if kind != "serves":
            continue
        cfg = str(u)[4:].rsplit("#", 1)[0] if str(u).startswith("cfg:") else None
        mod = str(v)[4:] if str(v).startswith("mod:") else None
        if cfg and mod:
            src = next((i for (grp, k), i in ids.items() if grp == "deploy" and k.startswith(cfg + "#")), None)
            edge(src, ids.get(("serving", mod)), "serves")
    for group, keys in overflow.items():
        nodes.append({"id": f"{group[0]}more", "group": group, "label": f"+{len(keys)} more", "detail": []})
    return {"nodes": nodes, "edges": edges}


# ----------------------------------------------------------------------------------- command
_options = scan_options("Rule profile (default for a review: production, unless configured).")


FORMAT_BY_EXT = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}


def format_for(output_file: Optional[str], output_format: Optional[str]) -> str:
    if output_format:
        return output_format
    if output_file:
        ext = os.path.splitext(output_file)[1].lower()
        if ext not in FORMAT_BY_EXT:
            raise click.UsageError(f"-o {output_file}: cannot tell the format from {ext or 'no extension'!r}; "
                                   f"use .md, .html or .json, or pass --output-format")
        return FORMAT_BY_EXT[ext]
    return "md"


def render_review(model: dict, fmt: str) -> str:
    if fmt == "json":
        import json

        return json.dumps(model, indent=2, ensure_ascii=False) + "\n"
    from mllint import review_render

    if fmt == "html":
        return review_render.render_html(model)
    return review_render.render_markdown(model)


def run_review(path: Optional[str], *, output_file: Optional[str] = None, output_format: Optional[str] = None,
               max_per_rule: int = 20, link_base: Optional[str] = None, **opts) -> tuple:
    """-> (model, text).  Raises click exceptions for usage and configuration errors."""
    from mllint.cli import load
    from mllint.engine import scan

    fmt = format_for(output_file, output_format)
    defaults = {"select": (), "ignore": (), "extend_select": (), "per_file_ignores": (), "config": (),
                "isolated": False, "exclude": (), "extend_exclude": (), "force_exclude": False,
                "respect_gitignore": None, "profile": None}
    defaults.update(opts)
    paths, settings = load([path] if path else [], **defaults)
    if settings.profile is None:
        settings.profile = "production"  # a review wants the repository-level absence rules too
    result = scan(list(paths), settings)
    model = build_review(result, output_file=output_file, link_base=link_base, max_per_rule=max_per_rule)
    return model, render_review(model, fmt)


@click.command("review")
@click.argument("path", required=False, type=click.Path())
@click.option("-o", "--output-file", type=click.Path(), default=None,
              help="Write the report here; the format follows the extension (.md, .html, .json).")
@click.option("--output-format", type=click.Choice(["md", "html", "json"]), default=None,
              help="Report format (default: from -o's extension, else md).")
@click.option("--max-per-rule", type=int, default=20, show_default=True,
              help="Findings listed per rule in md/html (0: all; JSON always has all).")
@click.option("--link-base", default=None,
              help="Prefix for file links, e.g. https://github.com/OWNER/REPO/blob/SHA/ (default: relative links).")
@_options
def command(path, output_file, output_format, max_per_rule, link_base, **opts):
    """Write the 20-checkpoint architecture review report for PATH (default: the current directory)."""
    from mllint.cli import MllintError

    try:
        model, text = run_review(path, output_file=output_file, output_format=output_format,
                                 max_per_rule=max_per_rule, link_base=link_base, **opts)
    except click.ClickException:
        raise
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("MLLINT_DEBUG"):
            raise
        raise MllintError(f"internal error: {type(exc).__name__}: {exc} (set MLLINT_DEBUG=1 for a traceback)")
    if output_file:
        with open(output_file, "w", encoding="utf-8") as fh:
            fh.write(text)
        s = model["summary"]
        n = sum(s["findings"].values())
        st = s["statuses"]
        click.echo(f"mllint: review written to {output_file}: {n} finding{'s' if n != 1 else ''}; checkpoints: "
                   f"{st.get('findings', 0)} with findings, {st.get('ok', 0)} no problems found, "
                   f"{st.get('n/a', 0)} not applicable, {st.get('ask', 0)} ask the team", err=True)
    else:
        click.echo(text, nl=False)
    for note in model["notes"]:
        click.echo(f"mllint: warning: {note}", err=True)
