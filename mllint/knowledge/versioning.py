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
    r"(versionId=|[?&]version=|/v\d+(\.\d+)*(/|$)|[_-]v\d+(\.\d+)*(/|\.|$|_)|\d{4}-\d{2}-\d{2}|\d{8}(/|$|_)|"
    r"dt=|date=|snapshot|/[0-9a-f]{7,40}(/|$)|@[\w.-]+|[?&]rev=|/version[_-]?\d+|/run[_-]?id|/runs/[\w-]+|"
    r"/commit/|/blob/[0-9a-f]{7,40}/|/raw/[0-9a-f]{7,40}/|/releases/download/|/tags?/)", re.I)
LOCAL_MOUNTS = ("/mnt/models", "/opt/ml/model", "/models", "/mnt/", "/opt/", "/app/", "/workspace/")
BRANCH_REVISIONS = {"main", "master", "dev", "develop", "latest", "head"}


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
