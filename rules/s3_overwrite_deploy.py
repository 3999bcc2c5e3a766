"""A model artifact is written to a constant object-store key, so every run overwrites the last model.

## What it does
Flags writes of a model artifact to an object-store key that never changes:

- Python: boto3 `upload_file`, `upload_fileobj`, `put_object`, `s3.Object(...).put`,
  `s3.Bucket(...).upload_file`; Google Cloud Storage `blob.upload_from_filename/_string/_file`;
  Azure `upload_blob(..., overwrite=True)`; `joblib.dump`/`torch.save`/`model.save` to an `s3://`
  or `gs://` URI; fsspec/s3fs/smart_open `open(uri, "wb")` and `fs.put(...)`;
- shell scripts, GitHub Actions and GitLab CI `run`/`script` steps, Dockerfile `RUN`, and
  notebook `!` lines and `%%bash` cells:
  `aws s3 cp|mv|sync`, `aws s3api put-object`, `gsutil cp|mv|rsync`, `gcloud storage cp|mv|rsync`,
  `az storage blob upload --overwrite`.

A model artifact is a key (or a local source file) with a model-like extension (`.pkl`,
`.joblib`, `.pt`, `.onnx`, `.safetensors`, ...) or a `model/`, `models/` or `checkpoints/` path
segment. A key is constant when it is a literal, or a template whose every placeholder resolves to
a constant (module constants, constants imported from the project, shell variables assigned once,
CI `env:`/`variables:`).

## Why is this bad?
Checkpoint 1 (model registry): with one fixed key, each training run silently replaces the model
that serving loads. There is no record of which model is live, no way to compare it with the
previous one, and no rollback short of retraining.

## Example
```python
import boto3

s3 = boto3.client("s3")
s3.upload_file("model.pkl", "ml-artifacts", "churn/model.pkl")
```

## Use instead
```python
import os

import boto3

s3 = boto3.client("s3")
version = os.environ["GIT_SHA"]
s3.upload_file("model.pkl", "ml-artifacts", f"churn/{version}/model.pkl")
```
Better still, register the model (MLflow `register_model`, SageMaker model packages, Vertex AI
Model Registry) and let serving load a registered version.

## Known limits
Keys templated with a version, commit SHA, run or build id, or a date (`${GITHUB_SHA}`,
`$CI_COMMIT_SHA`, `$(date +%F)`, `{run_id}`, a literal `v3/` or `2024-05-01`) are fine. A key the
analysis cannot resolve to a constant (a parameter, a config value, `os.environ[...]`) is not
reported. Test code is skipped. When the repository turns bucket versioning on
(`put_bucket_versioning`, CloudFormation `VersioningConfiguration: Enabled`), findings become notes:
old versions are recoverable, though nothing records which one was deployed. They are notes too in a
file that also registers the model (the registry keeps the history). Copying a versioned object to
a fixed alias (`aws s3 cp s3://b/${SHA}/model.pkl s3://b/latest/model.pkl`) is not reported, nor
are keys that name cached data (`cache/`, `features/`, `train_features.pkl`).

## References
- Checkpoint 1 of the ML architecture review (model registry).
"""
from __future__ import annotations

import ast
import re
from typing import Any, Optional

from mllint.knowledge import canonical
from mllint.knowledge import deploy as DK
from mllint.knowledge import storage as SK
from mllint.knowledge import tracking as TR
from mllint.rule import ConfigRule, FileRule, ProjectRule, RuleMeta
from mllint.summary import MODULE_SCOPE, Val
from mllint.summary import dotted as _dotted

# an object-store URI in the module text (an https:// URL in a docstring is not one)
_SCHEME_NEEDLES = tuple(SK.OBJECT_STORE_SCHEMES) + tuple(x.upper() for x in SK.OBJECT_STORE_SCHEMES)
_VERSIONED = object()  # a key that carries a version placeholder
_BUCKET_HOLE = "\x00bucket\x00"  # an unresolved placeholder that names the bucket


class S3OverwriteDeploy(FileRule, ConfigRule, ProjectRule):
    meta = RuleMeta(code="ML0101", level="warning", precision="high", tags=("model-registry", "deployment"),
                    config_kinds=("shell", "github-workflow", "gitlab-ci", "dockerfile"))

    # ------------------------------------------------------------------ Python: the walk
    def begin(self):
        self._factories: dict = {}  # (scope, dotted target) -> ast.Call that produced it
        self._assign_counts: dict = {}  # (scope, name) -> number of bindings
        self._cands: list = []
        # object-store writes need a storage SDK, a URI, or a notebook shell line
        return bool(self.ctx.imports_any(("boto3", "botocore", "google.cloud", "azure", "fsspec", "s3fs", "gcsfs",
                                          "adlfs", "smart_open", "cloudpathlib", "minio"))
                    or self.ctx.text_has(*_SCHEME_NEEDLES) or getattr(self.ctx.source, "magics", None))

    def _bind(self, target: ast.AST, value: Optional[ast.AST]) -> None:
        scope = self.ctx.scope
        if isinstance(target, (ast.Tuple, ast.List)):
            for e in target.elts:
                self._bind(e, None)
            return
        if isinstance(target, ast.Starred):
            self._bind(target.value, None)
            return
        name = _dotted(target)
        if name is None:
            return
        key = (scope, name)
        self._assign_counts[key] = self._assign_counts.get(key, 0) + 1
        if isinstance(value, ast.Call) and isinstance(value.func, (ast.Attribute, ast.Name)):
            self._factories[key] = value
        else:
            self._factories.pop(key, None)

    def visit_Assign(self, node: ast.Assign) -> None:
        for t in node.targets:
            self._bind(t, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._bind(node.target, None)
        self._bind(node.target, None)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._bind(node.target, node.value)

    def visit_For(self, node: ast.For) -> None:
        self._bind(node.target, None)
        self._bind(node.target, None)

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            self._bind(node.optional_vars, None)
            self._bind(node.optional_vars, None)

    def _factory(self, expr: ast.AST) -> Optional[ast.Call]:
        """The call that produced ``expr``: the expression itself, or the last assignment of the
        variable in this scope (or at module level)."""
        if isinstance(expr, ast.Call):
            return expr
        name = _dotted(expr)
        if name is None:
            return None
        for scope in (self.ctx.scope, MODULE_SCOPE):
            call = self._factories.get((scope, name))
            if call is not None:
                return call
        if name.startswith("self.") and self.ctx.class_name:
            for (scope, n), call in self._factories.items():
                if n == name and scope.startswith(self.ctx.class_name + "."):
                    return call
        return None

    def _imports(self, roots: tuple) -> bool:
        return any((i.module or "").split(".")[0] in roots for i in self.ctx.summary.imports)

    def visit_Call(self, node: ast.Call) -> None:
        ctx = self.ctx
        func = node.func
        q = canonical(ctx.call_qualname(node))
        attr = func.attr if isinstance(func, ast.Attribute) else None
        # functions that write to a path or URI
        if q in SK.URI_WRITE_FUNCTIONS:
            pos, kw = SK.URI_WRITE_FUNCTIONS[q]
            self._candidate(node, "uri", _arg(node, pos, kw), [], q.rsplit(".", 1)[-1])
            return
        if q in SK.URI_OPEN_FUNCTIONS:
            if _is_write_mode(ctx, _arg(node, 1, "mode")):
                self._candidate(node, "uri", _arg(node, 0, "urlpath") or _arg(node, 0, "uri") or _arg(node, 0, "name"),
                                [], q.rsplit(".", 1)[-1])
            return
        if attr is None:
            return
        rtype = self._receiver_type(func.value)
        kind = SK.receiver_kind(rtype)
        recv_call = self._factory(func.value)
        recv_attr = recv_call.func.attr if recv_call is not None and isinstance(recv_call.func, ast.Attribute) else None
        if recv_call is not None and isinstance(recv_call.func, ast.Name):
            recv_attr = recv_call.func.id
        recv_q = canonical(ctx.call_qualname(recv_call)) if recv_call is not None else ""
        # boto3 Object(...).put / upload_file
        if attr in SK.BOTO3_OBJECT_WRITES and recv_attr in SK.BOTO3_OBJECT_FACTORIES and (
                kind == "boto3" or self._imports(SK.BOTO3_MODULES)):
            if len(recv_call.args) >= 2 or _kw(recv_call, "bucket_name") is not None:
                key = _arg(recv_call, 1, "key")
            else:
                key = _arg(recv_call, 0, "key")
            src = [_arg(node, 0, "Filename")] if attr == "upload_file" else []
            self._candidate(node, "key", key, src, f"Object.{attr}")
            return
        # boto3 client / Bucket writes
        if attr in SK.BOTO3_CLIENT_WRITES and (kind == "boto3" or (
                rtype is None and self._imports(SK.BOTO3_MODULES) and _clientish(func.value))):
            if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                return
            key = _kw(node, "Key")
            is_bucket = recv_attr in SK.BOTO3_BUCKET_FACTORIES or (rtype or "").endswith(".Bucket()")
            if key is None:
                npos = len(node.args)
                if attr == "put_object":
                    return
                if npos >= 3 and not is_bucket:
                    key = node.args[2]
                elif npos == 2 and _kw(node, "Bucket") is None and (is_bucket or npos == 2):
                    key = node.args[1]
            if key is None:
                return
            src = [_arg(node, 0, "Filename")] if attr == "upload_file" else []
            self._candidate(node, "key", key, src, attr)
            return
        # GCS blob uploads
        if attr in SK.GCS_BLOB_WRITES and recv_attr in SK.GCS_BLOB_FACTORIES:
            pos, kw = SK.GCS_BLOB_FACTORIES[recv_attr]
            src = [_arg(node, 0, "filename")] if attr == "upload_from_filename" else []
            self._candidate(node, "key", _arg(recv_call, pos, kw), src, attr)
            return
        # Azure uploads with overwrite=True
        if attr in SK.AZURE_CONTAINER_WRITES or attr in SK.AZURE_BLOB_WRITES:
            ow = _kw(node, "overwrite")
            if ow is None or ctx.literal(ow) is not True:
                return
            if recv_attr in SK.AZURE_BLOB_FACTORIES:
                pos, kw = SK.AZURE_BLOB_FACTORIES[recv_attr]
                self._candidate(node, "key", _arg(recv_call, pos, kw), [], attr)
            elif recv_q.startswith("azure.storage.blob.BlobClient"):
                self._candidate(node, "key", _arg(recv_call, 2, "blob_name"), [], attr)
            elif kind == "azure" or self._imports(("azure",)):
                name = _kw(node, "name")
                if name is None and len(node.args) >= 2:
                    name = node.args[0]
                self._candidate(node, "key", name, [], attr)
            return
        # fsspec / s3fs filesystems
        if kind == "fsspec" and attr in SK.FS_OPEN_METHODS:
            if _is_write_mode(ctx, _arg(node, 1, "mode")):
                self._candidate(node, _fs_mode(rtype), _arg(node, 0, "path"), [], f"{attr}")
            return
        if kind == "fsspec" and attr in SK.FS_PUT_METHODS:
            pos, kw = SK.FS_PUT_METHODS[attr]
            self._candidate(node, _fs_mode(rtype), _arg(node, pos, kw), [_arg(node, 0, "lpath")], attr)
            return
        # model.save("gs://...")
        if attr in SK.URI_WRITE_METHODS and q == "" and not _is_spark_writer(func.value):
            pos, kw = SK.URI_WRITE_METHODS[attr]
            arg = _arg(node, pos, kw)
            if arg is not None and self._looks_like_uri(arg):
                self._candidate(node, "uri", arg, [], attr)

    def _receiver_type(self, expr: ast.AST) -> Optional[str]:
        if isinstance(expr, ast.Call):
            return self.ctx.call_qualname(expr)
        name = _dotted(expr)
        if name is None:
            return None
        t = self.ctx.var_type(name)
        if t is None and name.startswith("self.") and self.ctx.class_name:
            t = self.ctx.summary.var_types.get("@" + self.ctx.class_name, {}).get(name[5:])
        return t

    def _looks_like_uri(self, arg: ast.AST) -> bool:
        v = self.ctx.value(arg)
        if v.kind == "const":
            return SK.is_object_store_uri(v.value)
        if v.kind == "fstr":
            head = v.value[0] if v.value else ""
            return isinstance(head, str) and SK.is_object_store_uri(head)
        return v.kind == "name"  # resolved in the project phase

    def _candidate(self, node: ast.Call, mode: str, key: Optional[ast.AST], sources: list, api: str) -> None:
        if key is None:
            return
        self._cands.append({
            "span": self.ctx.span_of(node), "scope": self.ctx.scope, "mode": mode, "api": api,
            "key": self.ctx.value(key), "sources": [self.ctx.value(s) for s in sources if s is not None],
        })

    def finish(self) -> None:
        if not self._cands:
            return
        multi: dict = {}
        for (scope, name), n in self._assign_counts.items():
            if n > 1:
                multi.setdefault(scope, []).append(name)
        for c in self._cands:
            c["ambiguous"] = multi
            self.record(c)

    # ------------------------------------------------------------------ Python: project phase
    def check_project(self, project: Any):
        versioned_bucket = _versioning_on(project)
        yield from self._notebook_shell(project, versioned_bucket)
        for path, s in sorted(project.summaries.items()):
            facts = s.facts.get(self.meta.code)
            if not facts or project.is_test_path(path):
                continue
            # the same file registers the model: the registry keeps the history, the fixed key is a copy
            registered = any(TR.registry_call(c) for c in s.calls)
            for c in facts:
                res = _Resolver(project, path, c["scope"], c.get("ambiguous", {}))
                key = res.resolve(c["key"])
                if key is None or key is _VERSIONED:
                    continue
                if c["mode"] in ("uri", "fsuri"):
                    if not SK.is_object_store_uri(key):
                        continue
                    display = key
                    _, bucket, obj = SK.split_uri(key)
                elif c["mode"] == "bucketpath":
                    if SK.is_object_store_uri(key):
                        _, bucket, obj = SK.split_uri(key)
                    else:
                        bucket, _, obj = key.partition("/")
                    display = key
                else:
                    bucket, obj, display = "", key, key
                if _BUCKET_HOLE in obj or not obj.strip("/"):
                    continue
                if SK.has_literal_version(obj):
                    continue
                srcs = [res.resolve(v) for v in c["sources"]]
                model_src = next((x for x in srcs if isinstance(x, str) and SK.is_model_key(x)), None)
                if not SK.is_model_key(obj) and model_src is None:
                    continue
                display = display.replace(_BUCKET_HOLE, "<bucket>")
                yield ProjectRule.finding(self, path, tuple(c["span"]), _message(display, model_src),
                                   level="note" if versioned_bucket or registered else None)

    def _notebook_shell(self, project: Any, versioned_bucket: bool):
        """``!aws s3 cp ...`` lines and ``%%bash`` cells of notebooks."""
        from mllint.sources.config import split_shell_commands

        for path, s in sorted(project.summaries.items()):
            if s.kind != "notebook" or not s.magics or project.is_test_path(path):
                continue
            for vline, text in s.magics:
                body = text.strip()
                if body.startswith("!"):
                    body = body[1:]
                elif body.startswith("%"):
                    continue
                if "{" in body:
                    continue  # IPython interpolates Python expressions: not resolvable here
                for c in split_shell_commands(body, vline):
                    hit = _shell_write(c.argv, {})
                    if hit is None:
                        continue
                    display, model_src, prefix = hit
                    col = max(text.find(prefix[0]) + 1, 1)
                    yield ProjectRule.finding(self, path, (vline, col, vline, len(text.rstrip()) + 1),
                                              _message(display, model_src),
                                              level="note" if versioned_bucket else None)

    # ------------------------------------------------------------------ shell, CI, Dockerfile
    def check_config(self, doc: Any, project: Any):
        if project is not None and project.is_test_path(doc.path):
            return
        for block, first_line, env, last_line in _blocks(doc):
            yield from self._check_block(doc, block, first_line, env, last_line)

    def _check_block(self, doc, block: str, first_line: int, env: dict, last_line: Optional[int]):
        from mllint.sources.config import split_shell_commands

        if block is None:
            # a whole script, split when it was loaded: its text is not read (a generated install
            # script read again from disk was 5 MB of the scan's peak, kserve), its words are searched
            script = doc.data
            if not any(p in w for argv in set(script.argvs) for w in argv for p in _SHELL_PROGRAMS):
                return  # no object-store CLI named in the script
            cmds = script.commands
        elif not any(p in block for p in _SHELL_PROGRAMS):
            return  # no object-store CLI named in the block (programs are matched literally)
        else:
            # GitHub expressions may hold spaces: keep each one inside a single shell word
            block = re.sub(r"\$\{\{(.*?)\}\}", lambda m: "${{" + re.sub(r"\s+", "", m.group(1)) + "}}", block)
            cmds = split_shell_commands(block, first_line)
        env = dict(env)
        # shell assignments of this block: a name assigned once to a constant resolves
        assigned: dict = {}
        for c in cmds:
            argv = c.argv[1:] if c.argv and c.argv[0] in ("export", "readonly", "declare", "local") else c.argv
            if len(argv) == 1 and _ASSIGN_RE.match(argv[0]):
                name, value = argv[0].split("=", 1)
                assigned.setdefault(name, []).append(value)
        for name, values in assigned.items():
            env[name] = values[0] if len(set(values)) == 1 else None
        for c in cmds:
            hit = _shell_write(c.argv, env)
            if hit is None:
                continue
            display, model_src, prefix = hit
            line = _refine_line(doc, c.line, last_line, prefix)
            text = doc.line_text(line)
            col = max(text.find(prefix[0]) + 1, 1) if prefix else 1
            yield self.finding(doc, line, _message(display, model_src), col=col,
                               end_col=max(len(text.rstrip()) + 1, col + 1))


# ---------------------------------------------------------------------------- Python helpers


def _clientish(expr: ast.AST) -> bool:
    """An untyped receiver whose name says it is an object-store client or bucket."""
    d = _dotted(expr)
    if isinstance(expr, ast.Call):
        d = _dotted(expr.func)
    last = (d or "").rsplit(".", 1)[-1].lower()
    return any(w in last for w in ("s3", "boto", "client", "bucket", "storage"))


def _kw(node: ast.Call, name: str) -> Optional[ast.AST]:
    for k in node.keywords:
        if k.arg == name:
            return k.value
    return None


def _arg(node: ast.Call, pos: Optional[int], kw: Optional[str]) -> Optional[ast.AST]:
    if kw:
        v = _kw(node, kw)
        if v is not None:
            return v
    if pos is not None and pos < len(node.args) and not any(isinstance(a, ast.Starred) for a in node.args[: pos + 1]):
        return node.args[pos]
    return None


def _is_write_mode(ctx, mode: Optional[ast.AST]) -> bool:
    if mode is None:
        return False
    v = ctx.literal(mode)
    return isinstance(v, str) and "w" in v


def _fs_mode(rtype: Optional[str]) -> str:
    rt = canonical(rtype)
    return "bucketpath" if rt.startswith(("s3fs.", "gcsfs.", "adlfs.")) else "uri"


def _is_spark_writer(expr: ast.AST) -> bool:
    d = _dotted(expr)
    if d is not None and (d.endswith(".write") or d == "write"):
        return True
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        return expr.func.attr in ("mode", "format", "option", "options", "partitionBy", "write", "overwrite",
                                  "bucketBy", "sortBy")
    return False


class _Resolver:
    """Resolves a ``Val`` to a constant string, ``_VERSIONED``, or None (cannot tell)."""

    def __init__(self, project, path: str, scope: str, ambiguous: dict):
        self.project = project
        self.path = path
        self.scope = scope
        self.ambiguous = ambiguous
        self.summary = project.summaries.get(path)

    def resolve(self, v: Val, depth: int = 0) -> Any:
        if v is None or depth > 6:
            return None
        if v.kind == "const":
            return v.value if isinstance(v.value, str) else None
        if v.kind == "name":
            return self._name(v.value, depth)
        if v.kind == "fstr":
            out = []
            for part in v.value:
                if isinstance(part, str):
                    out.append(part)
                    continue
                src = part[1] if isinstance(part, tuple) and len(part) > 1 else ""
                if SK.is_version_like_name(str(src)):
                    return _VERSIONED
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", str(src)):
                    return None
                r = self._name(src, depth)
                if r is _VERSIONED:
                    return _VERSIONED
                if r is None:
                    if "bucket" in src.lower():
                        out.append(_BUCKET_HOLE)
                        continue
                    return None
                out.append(r)
            return "".join(out)
        return None

    def _name(self, name: str, depth: int) -> Any:
        if SK.is_version_like_name(name):
            return _VERSIONED
        s = self.summary
        if s is None:
            return None
        head = name.split(".")[0]
        scope = self.scope
        if scope != MODULE_SCOPE:
            if head in self.ambiguous.get(scope, ()):
                return None
            local = s.scope_assigns.get(scope, {})
            if head in local:
                if head != name:
                    return None
                v = local[name]
                if v.kind == "name" and v.value == name:
                    return None
                return self.resolve(v, depth + 1) if v.kind != "other" else None
            # a name bound in an enclosing function: not followed
            parts = scope.split(".<locals>.")
            for i in range(1, len(parts)):
                outer = ".<locals>.".join(parts[:i])
                if head in s.scope_assigns.get(outer, {}):
                    return None
        if head in self.ambiguous.get(MODULE_SCOPE, ()):
            return None
        v = self.project.const_value(self.path, MODULE_SCOPE, Val("name", name))
        if v is None or (v.kind == "name"):
            return None
        if v.kind == "other":
            return None
        return self.resolve(v, depth + 1)


_CFN_VERSIONING = re.compile(r"VersioningConfiguration[\s\S]{0,80}Enabled")


def _versioning_on(project) -> bool:
    for path, s in project.summaries.items():
        for c in s.calls:
            if c.attr == "put_bucket_versioning":
                return True
    for d in project.configs:
        if d.kind == "cloudformation" and d.evidence(_CFN_VERSIONING):
            return True
    return False


def _message(key: str, model_src: Optional[str]) -> str:
    what = f"model artifact `{model_src}`" if model_src and not SK.is_model_key(key) else "model artifact"
    return (f"{what[0].upper()}{what[1:]} is written to the constant object-store key `{key}`: every run "
            f"overwrites the previous model; template the key with a version, git SHA or run id, or register "
            f"the model")


# ----------------------------------------------------------------------------- shell helpers
_ASSIGN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_VAR_RE = re.compile(
    r"\$\{\{\s*(?P<gh>[^}]*?)\s*\}\}"  # GitHub expression ${{ ... }}
    r"|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<mod>[^}]*)\}"  # ${NAME} / ${NAME:-x}
    r"|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"  # $NAME
    r"|\$\((?P<sub>[^)]*)\)?"  # $(command)
    r"|`(?P<tick>[^`]*)`?"  # `command`
    r"|\$(?P<special>[0-9@*#?!$-])")
_SKIP_PREFIX = {"sudo", "time", "exec", "nohup", "command", "env"}
_NO_OVERWRITE = {"-n", "--no-clobber", "--no-overwrite", "--dryrun", "--dry-run", "--if-none-match"}


def _expand(token: str, env: dict, depth: int = 0) -> Any:
    """Expand shell/CI variables in a token -> constant string, _VERSIONED, or None."""
    if depth > 5:
        return None
    out = []
    pos = 0
    for m in _VAR_RE.finditer(token):
        out.append(token[pos:m.start()])
        pos = m.end()
        name = None
        if m.group("gh") is not None:
            expr = m.group("gh")
            if SK.is_version_like_name(expr):
                return _VERSIONED
            em = re.fullmatch(r"env\.([A-Za-z_][A-Za-z0-9_]*)", expr)
            if not em:
                if "bucket" in expr.lower():
                    out.append(_BUCKET_HOLE)
                    continue
                return None
            name = em.group(1)
        elif m.group("braced") is not None:
            name = m.group("braced")
            if SK.is_version_like_name(name):
                return _VERSIONED
            if m.group("mod"):
                return None  # ${X:-default} and friends: overridable
        elif m.group("plain") is not None:
            name = m.group("plain")
        elif m.group("sub") is not None or m.group("tick") is not None:
            body = m.group("sub") if m.group("sub") is not None else m.group("tick")
            if re.search(r"\b(date|git|uuidgen|uuid)\b", body) or SK.is_version_like_name(body):
                return _VERSIONED
            return None
        else:
            return None
        if SK.is_version_like_name(name):
            return _VERSIONED
        value = env.get(name)
        if value is None:
            if "bucket" in name.lower():
                out.append(_BUCKET_HOLE)
                continue
            return None
        r = _expand(value, env, depth + 1)
        if r is None or r is _VERSIONED:
            return r
        out.append(r)
    out.append(token[pos:])
    s = "".join(out)
    if "$" in s or "`" in s:
        return None
    return s


def _strip_prefix(argv: list) -> list:
    i = 0
    while i < len(argv) and (_ASSIGN_RE.match(argv[i]) or argv[i] in _SKIP_PREFIX):
        i += 1
    return argv[i:]


def _positionals(args: list, value_options=SK.SHELL_VALUE_OPTIONS) -> Optional[list]:
    out = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in _NO_OVERWRITE:
            return None
        if a.startswith("-") and a != "-":
            if "=" in a:
                if a.split("=", 1)[0] in _NO_OVERWRITE:
                    return None
                i += 1
                continue
            if a in value_options:
                i += 2
                continue
            i += 1
            continue
        out.append(a)
        i += 1
    return out


def _opt(args: list, names: tuple) -> Optional[str]:
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                return args[i + 1]
            if a.startswith(n + "="):
                return a.split("=", 1)[1]
    return None


_SHELL_PROGRAMS = tuple(sorted({prefix[0] for prefix, _ in SK.SHELL_COPY_COMMANDS}
                               | {SK.S3API_PUT[0], SK.AZ_BLOB_UPLOAD[0], "aws", "gsutil"}))


def _shell_write(argv: list, env: dict) -> Optional[tuple]:
    """-> (displayed destination, model source or None, argv prefix) for a command that writes a
    model artifact to a constant key, else None."""
    argv = _strip_prefix(list(argv))
    if not argv:
        return None
    prog = argv[0].rsplit("/", 1)[-1]
    argv = [prog] + argv[1:]
    if prog == "aws":
        i = 1
        while i < len(argv) and argv[i].startswith("-"):
            i += 1 if "=" in argv[i] or argv[i] in ("--debug", "--no-verify-ssl", "--no-paginate",
                                                    "--no-sign-request", "--no-cli-pager") else 2
        argv = ["aws"] + argv[i:]
    if prog == "gsutil":
        i = 1
        while i < len(argv) and argv[i].startswith("-"):
            i += 2 if argv[i] in SK.GSUTIL_GLOBAL_VALUE_OPTIONS else 1
        argv = ["gsutil"] + argv[i:]
    for prefix, how in SK.SHELL_COPY_COMMANDS:
        n = len(prefix)
        if tuple(argv[:n]) != prefix:
            continue
        pos = _positionals(argv[n:])
        if not pos or len(pos) < 2:
            return None
        if prefix[0] == "aws" and len(pos) != 2:
            return None
        dst_raw, srcs_raw = pos[-1], pos[:-1]
        return _judge(dst_raw, srcs_raw, env, prefix, uri=True)
    if tuple(argv[:3]) == SK.S3API_PUT:
        args = argv[3:]
        key, body, bucket = _opt(args, ("--key",)), _opt(args, ("--body",)), _opt(args, ("--bucket",))
        if key is None:
            return None
        return _judge(key, [body] if body else [], env, SK.S3API_PUT, uri=False, bucket=bucket)
    if tuple(argv[:4]) == SK.AZ_BLOB_UPLOAD:
        args = argv[4:]
        ow = "--overwrite" in args and _opt(args, ("--overwrite",)) not in ("false", "False")
        if not ow:
            return None
        name = _opt(args, ("--name", "-n"))
        f = _opt(args, ("--file", "-f"))
        if name is None:
            return None
        return _judge(name, [f] if f else [], env, SK.AZ_BLOB_UPLOAD, uri=False,
                      bucket=_opt(args, ("--container-name", "-c")))
    return None


def _judge(dst_raw: str, srcs_raw: list, env: dict, prefix: tuple, *, uri: bool, bucket: Optional[str] = None):
    dst = _expand(dst_raw, env)
    if dst is None or dst is _VERSIONED:
        return None
    if uri:
        if not SK.is_object_store_uri(dst):
            return None
        _, bkt, key = SK.split_uri(dst)
    else:
        bkt, key = "", dst
    if _BUCKET_HOLE in key or not key.strip("/"):
        return None
    if SK.has_literal_version(key):
        return None
    srcs = [_expand(s, env) for s in srcs_raw]
    if any(x is _VERSIONED and SK.is_object_store_uri(r) for x, r in zip(srcs, srcs_raw)):
        return None  # ``cp s3://b/${SHA}/model s3://b/latest/model``: an alias of a versioned copy that stays
    model_src = next((s for s in srcs if isinstance(s, str) and SK.is_model_key(s)), None)
    if not SK.is_model_key(key) and model_src is None:
        return None
    display = dst.replace(_BUCKET_HOLE, "<bucket>")
    if not uri and bucket:
        b = _expand(bucket, env)
        display = f"{b}/{dst}" if isinstance(b, str) else dst
    return display, model_src, prefix


def _refine_line(doc, line: int, last_line: Optional[int], prefix: tuple) -> int:
    """The physical line (from ``line`` to ``last_line``, None: the end) where the command starts."""
    if not prefix:
        return line
    if last_line is None:
        last_line = len(doc.lines)
    rx = re.compile(r"(^|[^\w-])" + r"\s+".join(re.escape(p) for p in prefix[:1]) + r"\b")
    for ln in range(line, max(line, last_line) + 1):
        if rx.search(doc.line_text(ln)):
            return ln
    return line


_BLOCK_RE = re.compile(r":\s*[|>][-+0-9]*\s*(#.*)?$|^\s*-\s*[|>][-+0-9]*\s*(#.*)?$")


def _scalar_first_line(doc, value_line: int) -> int:
    """A block scalar's text starts on the line after its ``|``/``>`` indicator."""
    text = doc.line_text(value_line)
    if _BLOCK_RE.search(text.rstrip()):
        return value_line + 1
    return value_line


def _blocks(doc) -> list:
    """-> [(shell text, first line, constant environment, last line or None)] for a document; the
    text of a shell script is None: its commands were split when it was loaded."""
    out = []
    data = doc.data
    if doc.kind == "shell":
        out.append((None, 1, {}, None))  # the script's commands, to the end (counted only for a finding)
    elif doc.kind == "dockerfile":
        env: dict = {}
        for ins in data.instructions:
            if ins.keyword == "ENV":
                for name, value in _docker_env(ins.args):
                    env[name] = value
            elif ins.keyword == "ARG":
                name = ins.args.split("=", 1)[0].strip()
                env.pop(name, None)
            elif ins.keyword == "RUN":
                args = ins.args.strip()
                args = re.sub(r"^(--\S+\s+)+", "", args)  # RUN --mount=... flags
                if args.startswith("["):
                    continue
                out.append((args, ins.line, dict(env), ins.end_line))
    elif doc.kind == "github-workflow" and isinstance(data, dict):
        wenv = DK.ci_env_constants(data.get("env"))
        jobs = data.get("jobs")
        for job in (jobs.values() if isinstance(jobs, dict) else []):
            if not isinstance(job, dict):
                continue
            jenv = {**wenv, **DK.ci_env_constants(job.get("env"))}
            steps = job.get("steps")
            for st in steps if isinstance(steps, list) else []:
                if not isinstance(st, dict) or not isinstance(st.get("run"), str):
                    continue
                shell = str(st.get("shell") or "bash")
                if "pwsh" in shell or "powershell" in shell or "python" in shell:
                    continue
                senv = {**jenv, **DK.ci_env_constants(st.get("env"))}
                vline = st.value_line("run", st.line) if hasattr(st, "value_line") else 1
                first = _scalar_first_line(doc, vline)
                run = st["run"]
                out.append((run, first, senv, first + run.count("\n")))
    elif doc.kind == "gitlab-ci" and isinstance(data, dict):
        genv = DK.ci_env_constants(data.get("variables"))
        for name, job in data.items():
            if not isinstance(job, dict) or name in ("variables", "default", "workflow", "include", "stages"):
                continue
            jenv = {**genv, **DK.ci_env_constants(job.get("variables"))}
            for key in ("before_script", "script", "after_script"):
                lines = job.get(key)
                if isinstance(lines, str):
                    vline = job.value_line(key, job.line) if hasattr(job, "value_line") else 1
                    first = _scalar_first_line(doc, vline)
                    out.append((lines, first, jenv, first + lines.count("\n")))
                elif isinstance(lines, list):
                    for i, item in enumerate(lines):
                        if isinstance(item, str):
                            il = lines.line_of(i) if hasattr(lines, "line_of") else 1
                            first = _scalar_first_line(doc, il)
                            out.append((item, first, jenv, first + item.count("\n")))
    return out


def _docker_env(args: str) -> list:
    import shlex

    try:
        toks = shlex.split(args)
    except ValueError:
        return []
    if len(toks) >= 2 and "=" not in toks[0]:
        return [(toks[0], " ".join(toks[1:]))]  # legacy `ENV NAME value`
    return [tuple(t.split("=", 1)) for t in toks if "=" in t]
