"""Serving code loads a model through a mutable pointer instead of a fixed version.

## What it does
In serving code (request handlers, start-up hooks and the modules that serve), reports model loads
whose reference can change under the service without a deploy: MLflow `models:/name/latest` and
stage URIs (`models:/name/Production`), `MlflowClient.get_latest_versions`, object-store keys with a
`latest`/`current`/`prod` segment, Hugging Face hub models loaded without a pinned `revision` (or
with a branch such as `main`), `torch.hub.load("owner/repo")` without a `:ref`, and (level note) a
relative model file that nothing versions (not committed, not tracked by DVC or Git LFS).

## Why is this bad?
Checkpoint 10 (model version management): when the model behind a pointer changes, a restart or a
new replica silently serves a different model. Nobody can say which model answered a request, run
two versions side by side, or roll back.

## Example
```python
import mlflow
from fastapi import FastAPI

app = FastAPI()
model = mlflow.pyfunc.load_model("models:/churn/Production")


@app.post("/predict")
def predict(rows: list):
    return model.predict(rows).tolist()
```

## Use instead
```python
import os

import mlflow
from fastapi import FastAPI

app = FastAPI()
model = mlflow.pyfunc.load_model(f"models:/churn/{os.environ['MODEL_VERSION']}")


@app.post("/predict")
def predict(rows: list):
    return model.predict(rows).tolist()
```

## Known limits
Registry aliases (`models:/churn@champion`) are managed pointers and are accepted. A reference the
analysis cannot resolve (a variable, an environment variable, a config value) is not reported.
Absolute paths under platform mounts (`/mnt/models`, `/opt/ml/model`) are versioned by the platform
(KServe `storageUri`, SageMaker model packages) and are not reported.
"""
from mllint.finding import Location
from mllint.knowledge import canonical
from mllint.knowledge import serving as SK
from mllint.knowledge import training as TK
from mllint.knowledge import versioning as V
from mllint.rule import ProjectRule, RuleMeta

_REF_KWARGS = ("model_uri", "pretrained_model_name_or_path", "model", "model_name_or_path", "repo_id", "path",
               "f", "filepath", "filename", "model_path", "model_file", "repo_or_dir", "name")
_HF_LOADERS = ("huggingface_hub.hf_hub_download", "huggingface_hub.snapshot_download", "transformers.pipeline",
               "sentence_transformers.SentenceTransformer")


class UnversionedModelLoad(ProjectRule):
    meta = RuleMeta(code="ML1001", level="warning", precision="high", tags=("versioning", "serving"))

    def check_project(self, project):
        serving = project.request_scopes | project.startup_scopes
        if not serving and not project.serving_modules:
            return
        tracked = _Tracking(project)
        for path, summary in project.summaries.items():
            if project.is_test_path(path):
                continue
            in_serving_module = path in project.serving_modules
            for call in summary.calls:
                sid = f"{path}::{call.scope}"
                if sid not in serving and not (in_serving_module and call.scope in ("<module>", "<main>")):
                    continue
                q = canonical(call.qualname)
                if call.attr == "get_latest_versions":
                    yield self.finding(path, call.span(), "serving picks the model with `get_latest_versions`, so "
                                       "whatever was registered last is served; pin a version or a registry alias")
                    continue
                if not (SK.is_model_loader(call) or q in _HF_LOADERS or q == "torch.hub.load"):
                    continue
                msg = self._check(project, path, call, q, tracked)
                if msg:
                    text, level = msg
                    yield self.finding(path, call.span(), text, level=level)

    def _ref(self, project, path, call):
        for k in _REF_KWARGS:
            if k in call.kwargs:
                return project.const_value(path, call.scope, call.kwargs[k])
        if call.args:
            return project.const_value(path, call.scope, call.args[0])
        return None

    def _check(self, project, path, call, q, tracked):
        ref = self._ref(project, path, call)
        text, literal = V.literal_text(ref)
        if text is None:
            return None
        loader = call.qualname or call.attr
        if text.startswith("models:/"):
            if V.MLFLOW_LATEST_ANY.match(text):
                pointer = text.rstrip("/").rsplit("/", 1)[-1]
                return (f"`{loader}` loads `{text}`: the `{pointer}` pointer moves whenever a model is registered or "
                        f"promoted (MLflow stages are deprecated); load a fixed version or a registry alias "
                        f"(`models:/name@champion`)", None)
            return None
        if text.startswith(V.REMOTE_PREFIXES) and not text.startswith(("https://huggingface.co",)):
            body = text.split("://", 1)[-1]
            if any(seg.lower() in ("latest", "current", "prod", "production", "live", "newest")
                   for seg in body.replace("{}", "").split("/")):
                return (f"`{loader}` loads `{text}`: a `latest`/`current`-style key is overwritten by the next "
                        f"upload; load a versioned key (run id, git SHA, version number)", None)
            return None
        if q == "torch.hub.load":
            src = call.kwargs.get("source")
            if src is not None and src.kind == "const" and src.value == "local":
                return None
            if literal and V.HF_REPO_ID.match(text) and ":" not in text:
                return (f"`torch.hub.load(\"{text}\")` fetches the repository's default branch; pin a tag or commit "
                        f"(`\"{text}:v1.0\"`)", None)
            return None
        hf = call.attr == "from_pretrained" or q in _HF_LOADERS
        if hf and literal and V.HF_REPO_ID.match(text) and not tracked.local_dir(text):
            rev = call.kwargs.get("revision")
            if rev is None:
                return (f"`{loader}(\"{text}\")` has no `revision`: the hub repository can change under the service; "
                        f"pin `revision=\"<commit sha>\"`", None)
            rv = project.const_value(path, call.scope, rev)
            if rv.kind == "const" and isinstance(rv.value, str) and rv.value.lower() in V.BRANCH_REVISIONS:
                return (f"`{loader}(\"{text}\", revision=\"{rv.value}\")` follows a branch; pin a commit sha", None)
            return None
        if literal and text.lower().endswith(TK.MODEL_EXTENSIONS) and not text.startswith(("/", "~")) \
                and "://" not in text and not hf:
            if any(tracked.versioned(c) for c in _candidates(path, text, project.tops)):
                return None
            writer = tracked.writer_of(text)
            extra = f", and training overwrites it ({writer})" if writer else ""
            return (f"`{loader}` loads `{text}`, a fixed local file that nothing versions (not committed, not "
                    f"tracked by DVC or Git LFS){extra}; load a versioned artifact", "note")
        return None


def _candidates(path: str, text: str, tops=("",)) -> list:
    """A relative path is relative to the working directory: try the repository root, the scanned
    directories and the directory of the loading module."""
    import posixpath

    t = text[2:] if text.startswith("./") else text
    out = [posixpath.normpath(posixpath.join(top, t)) if top else posixpath.normpath(t) for top in tops or ("",)]
    if "/" in path:
        out.append(posixpath.normpath(posixpath.join(path.rsplit("/", 1)[0], t)))
    return [c for c in out if not c.startswith("..")]


class _Tracking:
    """What versions local files: git (present in the scanned tree), DVC, Git LFS."""

    def __init__(self, project):
        import fnmatch
        import os

        self.project = project
        self.inv = project.inventory_set
        self.dvc_paths = set()
        for d in project.configs:
            if d.kind in ("dvc", "dvc-lock") and isinstance(d.data, dict):
                stages = d.data.get("stages") or {}
                base = d.path.rsplit("/", 1)[0] + "/" if "/" in d.path else ""
                for st in (stages.values() if isinstance(stages, dict) else []):
                    if not isinstance(st, dict):
                        continue
                    for key in ("outs", "deps", "metrics", "plots"):
                        for o in st.get(key) or []:
                            p = o if isinstance(o, str) else (next(iter(o), None) if isinstance(o, dict) else None)
                            if p is None and isinstance(o, dict):
                                p = o.get("path")
                            if isinstance(p, str):
                                self.dvc_paths.add((base + p).strip("/"))
        self.lfs = []
        for p in self.inv:
            if p == ".gitattributes" or p.endswith("/.gitattributes"):
                try:
                    with open(os.path.join(project.root, p), encoding="utf-8", errors="replace") as fh:
                        for line in fh:
                            parts = line.split()
                            if len(parts) >= 2 and any(a == "filter=lfs" for a in parts[1:]):
                                base = p.rsplit("/", 1)[0] + "/" if "/" in p else ""
                                self.lfs.append((base, parts[0]))
                except OSError:
                    pass
        self._fnmatch = fnmatch

    def local_dir(self, text: str) -> bool:
        t = text.strip("/")
        return any(p.startswith(t + "/") or ("/" + t + "/") in ("/" + p) for p in self.inv)

    def versioned(self, rel: str) -> bool:
        if rel in self.inv or f"{rel}.dvc" in self.inv:
            return True
        parts = rel.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if f"{prefix}.dvc" in self.inv or prefix in self.dvc_paths:
                return True
        if rel in self.dvc_paths or any(rel.endswith("/" + d) or d.endswith("/" + rel) for d in self.dvc_paths):
            return True
        name = parts[-1]
        for base, pat in self.lfs:
            if self._fnmatch.fnmatch(name, pat) or self._fnmatch.fnmatch(rel, base + pat.lstrip("/")):
                return True
        return False

    def writer_of(self, text: str):
        for path, s in self.project.summaries.items():
            for c in s.calls:
                if canonical(c.qualname) in TK.MODEL_SAVE_FUNCTIONS or c.attr in TK.MODEL_SAVE_METHODS:
                    for v in list(c.args[:2]) + list(c.kwargs.values()):
                        vv = self.project.const_value(path, c.scope, v)
                        if vv.kind == "const" and vv.value == text:
                            return f"{path}:{c.line}"
        return None
