"""Version markers and mutable pointers in model and data references."""
from __future__ import annotations

import re

MLFLOW_STAGE_URI = re.compile(r"^models:/[^/@]+/(latest|production|staging|archived|none)/?$", re.I)
MLFLOW_LATEST_ANY = re.compile(r"^models:/.*/(latest|production|staging|archived)\b", re.I)
MUTABLE_SEGMENT = re.compile(r"(^|[/_.=-])(latest|current|live|prod|production|head|today|new|newest|master|main)($|[/_.-])", re.I)
REMOTE_PREFIXES = ("s3://", "s3a://", "s3n://", "gs://", "gcs://", "abfs://", "abfss://", "az://", "wasbs://", "wasb://",
                   "hdfs://", "https://", "http://", "dbfs:/", "oci://", "hf://")
HF_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
HEX_REV = re.compile(r"^[0-9a-f]{7,40}$")
VERSION_MARKER = re.compile(
    r"(versionId=|[?&]version=|/v\d+(\.\d+)*(/|$)|[_-]v\d+(\.\d+)*(/|\.|$|_)|\d{4}-\d{2}(-\d{2})?|\d{8}(/|$|_)|"
    r"dt=|date=|ds=|year=\d{4}|/\d{4}/\d{2}/\d{2}(/|$)|"  # date partitions: Hive-style or slashed
    r"snapshot|/[0-9a-f]{7,40}(/|$)|@[\w.-]+|[?&]rev=|/version[_-]?\d+|/run[_-]?id|/runs/[\w-]+|"
    r"/commit/|/blob/[0-9a-f]{7,40}/|/raw/[0-9a-f]{7,40}/|/releases/download/|/tags?/)", re.I)
LOCAL_MOUNTS = ("/mnt/models", "/opt/ml/model", "/models", "/mnt/", "/opt/", "/app/", "/workspace/")
BRANCH_REVISIONS = {"main", "master", "dev", "develop", "latest", "head"}
# raw.githubusercontent.com/<owner>/<repo>/<ref>/<path>: a branch ref is mutable, a commit sha is not
GITHUB_RAW = re.compile(r"^https?://raw\.githubusercontent\.com/[^/]+/[^/]+/(?:refs/heads/)?([^/]+)/", re.I)


def literal_text(val) -> tuple:
    """(text with placeholders as '{}', fully_literal) for a const str or an f-string Val, else (None, False)."""
    if val is None:
        return None, False
    if val.kind == "const" and isinstance(val.value, str):
        return val.value, True
    if val.kind == "fstr":
        out = []
        for p in val.value:
            out.append(p if isinstance(p, str) else "{}")
        return "".join(out), False
    return None, False


def placeholders(val) -> list:
    if val is None or val.kind != "fstr":
        return []
    return [p[1] for p in val.value if not isinstance(p, str)]


def path_candidates(path: str, text: str, tops=("",)) -> list:
    """A relative path is relative to the working directory: try the repository root, the scanned
    directories and the directory of the loading module."""
    import posixpath

    t = text[2:] if text.startswith("./") else text
    out = [posixpath.normpath(posixpath.join(top, t)) if top else posixpath.normpath(t) for top in tops or ("",)]
    if "/" in path:
        out.append(posixpath.normpath(posixpath.join(path.rsplit("/", 1)[0], t)))
    return [c for c in out if not c.startswith("..")]


class VersionTracking:
    """What versions local files: git (present in the scanned tree), DVC, Git LFS."""

    def __init__(self, project):
        import fnmatch
        import os

        from mllint.knowledge import canonical
        from mllint.knowledge import training as TK

        self._canonical, self._TK = canonical, TK

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
        self._writers = None

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
        """Where training saves a model to this literal path ("path:line"), if anywhere."""
        if self._writers is None:
            self._writers = {}
            for path, s in self.project.summaries.items():
                for c in s.calls:
                    if self._canonical(c.qualname) in self._TK.MODEL_SAVE_FUNCTIONS or c.attr in self._TK.MODEL_SAVE_METHODS:
                        for v in list(c.args[:2]) + list(c.kwargs.values()):
                            vv = self.project.const_value(path, c.scope, v)
                            if vv.kind == "const" and isinstance(vv.value, str):
                                self._writers.setdefault(vv.value, f"{path}:{c.line}")
        return self._writers.get(text)
