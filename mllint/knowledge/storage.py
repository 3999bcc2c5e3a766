"""Object stores: which calls and commands write an object, where the object key sits, and what
makes a key "versioned".  Used by ``s3-overwrite-deploy`` (and the deploy rules of checkpoint 1/10).

Python tables are keyed by method name plus the receiver types that make the method an
object-store write; the argument positions follow each SDK's documented signature.
"""
from __future__ import annotations

import re
from typing import Optional

from mllint.knowledge import VERSION_LIKE, canonical
from mllint.knowledge.training import MODEL_EXTENSIONS

# URI schemes of object stores (and the Hadoop-style aliases).
OBJECT_STORE_SCHEMES = ("s3://", "s3a://", "s3n://", "gs://", "gcs://", "abfs://", "abfss://", "az://",
                        "wasb://", "wasbs://", "oss://", "r2://")

# Receivers whose type marks an object-store client, by qualified-name prefix.
BOTO3_TYPES = ("boto3.", "botocore.", "aioboto3.", "aiobotocore.", "boto3.session.Session.")
GCS_TYPES = ("google.cloud.storage.",)
AZURE_TYPES = ("azure.storage.blob.",)
FSSPEC_TYPES = ("s3fs.", "gcsfs.", "adlfs.", "fsspec.")
# Modules whose import makes an untyped receiver (``self.s3``, a parameter) plausibly a client.
BOTO3_MODULES = ("boto3", "aioboto3", "aiobotocore", "botocore")

# boto3 client methods: method -> (positional index of the key, keyword name of the key).
# ``upload_file(Filename, Bucket, Key)``, ``upload_fileobj(Fileobj, Bucket, Key)``,
# ``put_object(*, Bucket, Key, Body)``, ``copy_object(*, Bucket, Key, CopySource)``.
BOTO3_CLIENT_WRITES = {
    "upload_file": (2, "Key"),
    "upload_fileobj": (2, "Key"),
    "put_object": (None, "Key"),
}
# The local source (file name) of a client write: method -> (position, keyword).
BOTO3_CLIENT_SOURCES = {
    "upload_file": (0, "Filename"),
}
# ``s3.Bucket(name).upload_file(Filename, Key)`` / ``upload_fileobj(Fileobj, Key)`` / ``put_object(Key=)``.
BOTO3_BUCKET_WRITES = {
    "upload_file": (1, "Key"),
    "upload_fileobj": (1, "Key"),
    "put_object": (None, "Key"),
}
# ``s3.Object(bucket, key).put(Body=...)`` / ``.upload_file(Filename)`` / ``.upload_fileobj(f)``;
# the key is the second argument of ``Object`` (``key=`` keyword).
BOTO3_OBJECT_FACTORIES = {"Object": (1, "key")}
BOTO3_BUCKET_FACTORIES = {"Bucket": (0, "name")}
BOTO3_OBJECT_WRITES = frozenset({"put", "upload_file", "upload_fileobj"})

# GCS: ``bucket.blob(name)`` then ``blob.upload_from_filename/_string/_file``.
GCS_BLOB_FACTORIES = {"blob": (0, "blob_name"), "Blob": (0, "name")}
GCS_BLOB_WRITES = frozenset({"upload_from_filename", "upload_from_string", "upload_from_file"})

# Azure: ``container.upload_blob(name, data, overwrite=True)``; ``container.get_blob_client(blob)``
# then ``blob_client.upload_blob(data, overwrite=True)``.  Without ``overwrite=True`` the SDK
# refuses to replace an existing blob, so only that form overwrites.
AZURE_CONTAINER_WRITES = {"upload_blob": (0, "name")}
AZURE_BLOB_FACTORIES = {"get_blob_client": (0, "blob")}
AZURE_BLOB_WRITES = frozenset({"upload_blob"})

# Functions that take a path/URI to write to: qualname -> (position, keyword).
URI_WRITE_FUNCTIONS = {
    "joblib.dump": (1, "filename"),
    "torch.save": (1, "f"),
    "pickle.dump": (1, "file"),
    "cloudpickle.dump": (1, "file"),
    "skops.io.dump": (1, "file"),
    "keras.models.save_model": (1, "filepath"),
    "tensorflow.saved_model.save": (1, "export_dir"),
    "onnx.save": (1, "f"),
    "onnx.save_model": (1, "f"),
}
# Methods that save a model to a path (``model.save("gs://...")``): method -> (position, keyword).
URI_WRITE_METHODS = {
    "save": (0, "filepath"),
    "save_model": (0, "fname"),
    "save_pretrained": (0, "save_directory"),
}
# ``open``-like functions taking (uri, mode): writes when the mode has 'w', 'a' or 'x'.
URI_OPEN_FUNCTIONS = frozenset({"fsspec.open", "smart_open.open", "tensorflow.io.gfile.GFile",
                                "tensorflow.gfile.GFile", "tensorflow.io.gfile.GFile.__init__"})
# Filesystem objects (s3fs.S3FileSystem, gcsfs.GCSFileSystem, fsspec.filesystem("s3")):
# ``fs.open(path, "wb")`` and ``fs.put(lpath, rpath)`` / ``fs.put_file(lpath, rpath)`` / ``fs.upload``.
FS_OPEN_METHODS = frozenset({"open"})
FS_PUT_METHODS = {"put": (1, "rpath"), "put_file": (1, "rpath"), "upload": (1, "rpath")}

# Shell / CI commands that write objects: (argv prefix) -> how to find source and destination.
# "positional": the last two positional arguments are SOURCE DEST.
SHELL_COPY_COMMANDS = (
    (("aws", "s3", "cp"), "positional"),
    (("aws", "s3", "mv"), "positional"),
    (("aws", "s3", "sync"), "positional"),
    (("gsutil", "cp"), "positional"),
    (("gsutil", "mv"), "positional"),
    (("gsutil", "rsync"), "positional"),
    (("gcloud", "storage", "cp"), "positional"),
    (("gcloud", "storage", "mv"), "positional"),
    (("gcloud", "storage", "rsync"), "positional"),
    (("gcloud", "alpha", "storage", "cp"), "positional"),
)
# Options of those commands that take a value (so the value is not a positional argument).
SHELL_VALUE_OPTIONS = frozenset({
    "--profile", "--region", "--endpoint-url", "--storage-class", "--acl", "--sse", "--sse-kms-key-id",
    "--content-type", "--cache-control", "--exclude", "--include", "--metadata", "--grants", "--expires",
    "--source-region", "--page-size", "--sse-c", "--sse-c-key", "--website-redirect", "--content-encoding",
    "--content-language", "--content-disposition", "--metadata-directive", "--expected-size", "--output",
    "--ca-bundle", "--cli-read-timeout", "--cli-connect-timeout", "--project", "--billing-project",
    "--exclude-name-pattern", "--cache-control", "-x", "-h", "-z", "-j", "-a", "-p", "-s",
})
# gsutil top-level options placed before the sub-command (``gsutil -m -o K=V cp ...``).
GSUTIL_GLOBAL_VALUE_OPTIONS = frozenset({"-o", "-h", "-i", "-u"})

# ``aws s3api put-object --bucket B --key K --body F``
S3API_PUT = ("aws", "s3api", "put-object")
# ``az storage blob upload --container-name C --name K --file F --overwrite``
AZ_BLOB_UPLOAD = ("az", "storage", "blob", "upload")

# CI variables that identify a build or a commit (a key that contains one is versioned).
CI_VERSION_VARIABLES = re.compile(
    r"(GITHUB_SHA|GITHUB_RUN_ID|GITHUB_RUN_NUMBER|GITHUB_REF_NAME|GITHUB_REF|CI_COMMIT_SHA|CI_COMMIT_SHORT_SHA|"
    r"CI_COMMIT_TAG|CI_PIPELINE_ID|CI_JOB_ID|CI_PIPELINE_IID|BUILD_ID|BUILD_NUMBER|BUILD_BUILDID|"
    r"BITBUCKET_COMMIT|CIRCLE_SHA1|CIRCLE_BUILD_NUM|TRAVIS_COMMIT|DRONE_COMMIT|SOURCE_VERSION|"
    r"CODEBUILD_RESOLVED_SOURCE_VERSION|COMMIT_SHA|SHORT_SHA|github\.sha|github\.run_id|github\.run_number|"
    r"github\.run_attempt|github\.ref_name)", re.I)

# Literal key segments that already carry a version (``models/v3/``, ``2024-05-01``, ``1.2.0``).
LITERAL_VERSION_RE = re.compile(
    r"(^|[/_.=-])(v\d+([._-]\d+)*|\d{8}(T?\d{4,6})?|\d{4}-\d{2}-\d{2}|\d+\.\d+(\.\d+)?)(?=$|[/_.-])", re.I)

_MODEL_ARCHIVE_RE = re.compile(r"(^|/)models?[\w.-]*\.(tar\.gz|tgz|zip)$")
_MODEL_SEGMENT_RE = re.compile(r"(^|/)(models?|model[_-]?artifacts?|checkpoints?)(/|$)", re.I)
# data and caches pickled like models: a folder or a file name says so
_DATA_KEY_RE = re.compile(r"(^|/)(cache|caches|tmp|temp|datasets?|features?|feature[_-]store)(/|$)|"
                          r"(^|/)[^/]*(features|dataset|embeddings|vocab|stats|cache)[^/]*$", re.I)


def is_object_store_uri(s: str) -> bool:
    return isinstance(s, str) and s.lower().startswith(OBJECT_STORE_SCHEMES)


def split_uri(uri: str) -> tuple:
    """'s3://bucket/a/b.pkl' -> ('s3', 'bucket', 'a/b.pkl')."""
    scheme, _, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    return scheme.lower(), bucket, key


def is_model_key(key: str) -> bool:
    """Does an object key (or local path) name a model artifact: a model-like extension, or a
    ``model/``/``models/`` path segment?"""
    if not isinstance(key, str) or not key:
        return False
    k = key.split("?", 1)[0].rstrip("/")
    low = k.lower()
    if _DATA_KEY_RE.search(low) and not _MODEL_SEGMENT_RE.search(low + "/"):
        return False  # ``churn/cache/train_features.pkl``: cached data, not a model
    if low.endswith(tuple(MODEL_EXTENSIONS)):
        return True
    if _MODEL_ARCHIVE_RE.search(low):
        return True  # SageMaker's model.tar.gz and friends
    return bool(_MODEL_SEGMENT_RE.search(low + "/"))


def has_literal_version(key: str) -> bool:
    return bool(LITERAL_VERSION_RE.search(key or ""))


def is_version_like_name(name: str) -> bool:
    """A placeholder (variable, expression, command substitution) that names a version, a commit,
    a run, a build or a date."""
    return bool(VERSION_LIKE.search(name or "")) or bool(CI_VERSION_VARIABLES.search(name or ""))


def receiver_kind(receiver_type: Optional[str]) -> Optional[str]:
    """'boto3' | 'gcs' | 'azure' | 'fsspec' | None, from a receiver's constructor qualname."""
    rt = canonical(receiver_type)
    if not rt:
        return None
    if rt.startswith(BOTO3_TYPES) or rt in ("boto3.client", "boto3.resource"):
        return "boto3"
    if rt.startswith(GCS_TYPES):
        return "gcs"
    if rt.startswith(AZURE_TYPES):
        return "azure"
    if rt.startswith(FSSPEC_TYPES):
        return "fsspec"
    return None
