"""A version-sensitive ML package is not pinned in an application that has no lock file.

## What it does
In an application repository (training or serving code, deploy configs or a Dockerfile next to
the manifest), flags requirement lines of version-sensitive ML packages (torch, tensorflow,
scikit-learn, xgboost, lightgbm, catboost, transformers, numpy, pandas, keras, onnxruntime, ...)
that are not pinned with `==` or `===`, when no lock file records the resolved versions. It reads
`requirements*.txt` files, `[project.dependencies]` and `[project.optional-dependencies]` of
`pyproject.toml`, and `[tool.poetry.dependencies]`.

## Why is this bad?
Checkpoint 3 (reproducible training): a range such as `scikit-learn>=1.0` resolves to whatever
is newest on the day of the build. Two trainings of the same commit then run different code, and
a model pickled under one version may not load, or may predict differently, under the version
the serving image installs.

## Example
```text
# requirements.txt of a repository with a training entrypoint and no lock file
scikit-learn>=1.2
xgboost
```

## Use instead
```text
scikit-learn==1.4.2
xgboost==2.0.3
```
Or keep ranges in `pyproject.toml` and commit a lock file (`uv lock`, `poetry lock`,
`pip-compile --generate-hashes`).

## Known limits
A requirements file speaks for the applications it is the nearest manifest of: one whose training
or serving code sits in a subfolder with its own manifest is not reported for it (a
`pyproject.toml` declares the whole project's dependencies and is read for every application
below it).
Libraries (no training or serving role) legitimately declare ranges and are not reported, nor
are manifests under `examples/`, `docs/`, `tests/`, `benchmarks/`, `demo/` or `tutorials/` (also as one
word of a folder name: `lightning_examples/`, `course_UvA-DL/`), nor any manifest when the
repository's folder is named as a collection of examples (`examples`, `pytorch-examples`, `vertex-ai-samples`), developer requirements
(`requirements-dev.txt`, `-test`, `-docs`, `-lint` and the same optional-dependency groups), nor the dependencies of a
`pyproject.toml` with a `[build-system]` (a distributable package), also when they are read from a
requirements file (hatch-requirements-txt's `files`, setuptools' `dynamic` `dependencies = {file = ...}`);
its other requirements files are still read. A lock file (`poetry.lock`,
`uv.lock`, `Pipfile.lock`, `pdm.lock`, `conda-lock.yml`, `pixi.lock`), pip-compile output (`# via`
annotations or `--hash`), or a pin of the same package in a requirements or constraints file of
the same directory or a parent directory counts as pinned, and so does a compatible-release pin of
a patch series (`~=1.4.2` or `==1.4.*`, which stay within 1.4).

## Fix safety
The fix pins the requirement to the version installed in the current environment (or recorded in
a lock file elsewhere in the repository). It is unsafe: the pinned version may differ from the one
the last model was trained with, so review it before committing.

## References
- pip: Repeatable installs (https://pip.pypa.io/en/stable/topics/repeatable-installs/)
"""
from __future__ import annotations

import posixpath
import re
from typing import Any, Optional

from mllint.knowledge import packages as PK
from mllint.rule import ConfigRule, RuleMeta


class UnpinnedMlDependency(ConfigRule):
    meta = RuleMeta(code="ML0302", level="warning", precision="high", tags=("reproducibility", "dependencies"),
                    fix="unsafe", config_kinds=("requirements", "pyproject"))

    _state: Optional[dict] = None

    def check_config(self, doc: Any, project: Any):
        st = self._project_state(project)
        base = _manifest_dir(doc.path)
        if _in_non_app_dir(doc.path) or project.is_test_path(doc.path) or _DEV_RE.search(posixpath.basename(doc.path)):
            return  # examples, tests, and developer tooling (requirements-dev.txt) do not ship
        if project.is_example_collection:
            return  # the repository is a collection of examples (pytorch/examples, vertex-ai-samples)
        if _covered(base, st["locked_dirs"]):
            return
        if doc.path in st["package_files"]:
            return  # a distributable package's dependencies, read from this file by its build backend
        if doc.kind == "pyproject":
            if not any(_within(p, base) for p in st["app_paths"]):
                return  # a library, or a project beside no application code
        elif base not in st["app_bases"]:
            return  # a requirements file beside no application code, or whose applications have their own
        for name, spec, line, col, end_col in _requirements(doc):
            if name not in PK.VERSION_SENSITIVE:
                continue
            if any(name in st["pinned"].get(d, ()) for d in _ancestors(base)):
                continue  # pinned by a constraints/requirements file that applies here
            shown = spec.strip() or "no version"
            if name == "sklearn":
                yield self.finding(doc, line, "`sklearn` is a deprecated placeholder on PyPI, not scikit-learn: pinning "
                                              "it pins nothing (and its install fails); depend on `scikit-learn==` "
                                              "the version training used, or commit a lock file",
                                   col=col, end_col=end_col)
                continue
            yield self.finding(doc, line, f"`{name}` is not pinned ({shown}) and no lock file records its version: "
                                          f"builds resolve whatever is newest, so training and serving can run "
                                          f"different versions and saved models may not load; pin it with `==` or "
                                          f"commit a lock file (uv lock, poetry lock, pip-compile)",
                               col=col, end_col=end_col)

    def _project_state(self, project: Any) -> dict:
        if self._state is not None and self._state.get("project") is project:
            return self._state
        locked, pinned = set(), {}
        for p in project.inventory:
            if posixpath.basename(p).lower() in PK.LOCK_FILES:
                locked.add(_dir(p))
        for d in project.configs:
            if d.kind != "requirements":
                continue
            rf = d.data
            if getattr(rf, "compiled", False) or getattr(rf, "hashes", False):
                locked.add(_manifest_dir(d.path))
            for r in getattr(rf, "requirements", ()):
                if r.pinned:
                    pinned.setdefault(_manifest_dir(d.path), set()).add(r.name)
        apps = set()
        for ep in getattr(project, "training_entrypoints", ()):
            apps.add(ep.path)
        for p in getattr(project, "serving_modules", ()) or ():
            apps.add(p)
        for sid in getattr(project, "request_roots", ()) or ():
            apps.add(sid.split("::", 1)[0])
        for d in getattr(project, "deploy_configs", ()) or ():
            apps.add(d.path)
        for p in project.inventory:
            b = posixpath.basename(p).lower()
            if b in ("dockerfile", "containerfile") or b.startswith("dockerfile.") or b.endswith(".dockerfile"):
                apps.add(p)
        apps = {p for p in apps if not _in_non_app_dir(p) and not project.is_test_path(p)}
        # a requirements file is the install list of the applications it is the nearest manifest
        # of: a dashboard's does not speak for a training subproject below it that has its own (a
        # pyproject.toml declares the whole project's dependencies)
        manifests = {_manifest_dir(d.path) for d in project.configs
                     if d.kind in ("requirements", "pyproject") and not _DEV_RE.search(posixpath.basename(d.path))
                     and not _in_non_app_dir(d.path) and not project.is_test_path(d.path)}
        bases = set()
        for p in apps:
            nearest = next((a for a in _ancestors(_dir(p)) if a in manifests), None)
            if nearest is not None:
                bases.add(nearest)
        self._state = {"project": project, "locked_dirs": locked, "pinned": pinned, "app_paths": apps,
                       "app_bases": bases, "package_files": _package_requirement_files(project)}
        return self._state


# ------------------------------------------------------------------------------------ helpers
_DEV_RE = re.compile(r"(^|[-_.])(dev|develop|test|tests|testing|lint|docs?|ci|style|typing|mypy)([-_.]|$)", re.I)


def _dir(path: str) -> str:
    return posixpath.dirname(path)


def _manifest_dir(path: str) -> str:
    """The directory a manifest describes: its own, or the parent of a ``requirements/`` folder."""
    d = _dir(path)
    if posixpath.basename(d).lower() in ("requirements", "reqs", "requirements.d"):
        d = _dir(d)
    return d


def _ancestors(d: str) -> list:
    out = [d]
    while d:
        d = _dir(d)
        out.append(d)
    return out


def _covered(base: str, dirs: set) -> bool:
    return any(a in dirs for a in _ancestors(base))


def _within(path: str, base: str) -> bool:
    return not base or path == base or path.startswith(base + "/")


def _package_requirement_files(project) -> set:
    """Requirements files a package's ``pyproject.toml`` (with a ``[build-system]``) declares as its
    dependencies: hatch-requirements-txt's ``[tool.hatch.metadata.hooks.requirements_txt] files``,
    setuptools' ``[tool.setuptools.dynamic] dependencies = {file = [...]}`` and their optional groups."""
    out: set = set()
    for d in project.configs:
        data = d.data if d.kind == "pyproject" and isinstance(d.data, dict) else None
        if data is None or not isinstance(data.get("build-system"), dict):
            continue
        tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
        names: list = []
        hatch = (((tool.get("hatch") or {}).get("metadata") or {}).get("hooks") or {}).get("requirements_txt") \
            if isinstance(tool.get("hatch"), dict) else None
        if isinstance(hatch, dict):
            names.append(hatch.get("files"))
            opt = hatch.get("optional-dependencies")
            names.extend(opt.values() if isinstance(opt, dict) else [])
        dyn = (tool.get("setuptools") or {}).get("dynamic") if isinstance(tool.get("setuptools"), dict) else None
        if isinstance(dyn, dict):
            dep = dyn.get("dependencies")
            names.append(dep.get("file") if isinstance(dep, dict) else None)
            opt = dyn.get("optional-dependencies")
            for group in (opt.values() if isinstance(opt, dict) else []):
                names.append(group.get("file") if isinstance(group, dict) else None)
        base = _dir(d.path)
        for n in names:
            for f in ([n] if isinstance(n, str) else n if isinstance(n, list) else []):
                if isinstance(f, str):
                    out.add(posixpath.normpath(posixpath.join(base, f)) if base else posixpath.normpath(f))
    return out


def _in_non_app_dir(path: str) -> bool:
    return any(PK.is_non_app_dir(part) for part in path.split("/")[:-1])


def _requirements(doc: Any):
    """(normalised name, specifier, line, col, end_col) of each unpinned requirement."""
    from mllint.sources.config import normalise_name, parse_requirement_line

    if doc.kind == "requirements":
        rf = doc.data
        if getattr(rf, "compiled", False) or getattr(rf, "hashes", False):
            return
        for r in rf.requirements:
            if not r.pinned and not r.url and not _patch_compatible(r.specifier):
                yield r.name, r.specifier, r.line, r.col, r.end_col
        return
    data = doc.data if isinstance(doc.data, dict) else {}
    if isinstance(data.get("build-system"), dict):
        return  # a distributable package: its dependency ranges are for installers, like a library's
    proj = data.get("project") if isinstance(data.get("project"), dict) else {}
    strings = []
    deps = proj.get("dependencies")
    if isinstance(deps, list):
        strings += [("project", s) for s in deps if isinstance(s, str)]
    opt = proj.get("optional-dependencies")
    if isinstance(opt, dict):
        for gname, group in opt.items():
            if isinstance(group, list) and not _DEV_RE.search(str(gname)):
                strings += [("project.optional-dependencies", s) for s in group if isinstance(s, str)]
    used: set = set()
    for table, s in strings:
        r = parse_requirement_line(s, 1)
        if r is None or r.pinned or r.url or _patch_compatible(r.specifier):
            continue
        line, col = _string_position(doc, s, table, used)
        if line:
            yield r.name, r.specifier, line, col, col + len(s) + 2
    poetry = ((data.get("tool") or {}).get("poetry") or {}) if isinstance(data.get("tool"), dict) else {}
    pdeps = poetry.get("dependencies") if isinstance(poetry, dict) else None
    if isinstance(pdeps, dict):
        for raw_name, spec in pdeps.items():
            name = normalise_name(str(raw_name))
            version = spec.get("version") if isinstance(spec, dict) else spec
            if isinstance(spec, dict) and any(k in spec for k in ("git", "url", "path")):
                continue
            if not isinstance(version, str) or _poetry_pinned(version):
                continue
            line = _key_line(doc, raw_name, "tool.poetry.dependencies")
            if line:
                text = doc.line_text(line)
                col = len(text) - len(text.lstrip()) + 1
                yield name, version, line, col, len(text.rstrip()) + 1


def _patch_compatible(spec: str) -> bool:
    """``~=1.4.2`` (>=1.4.2, <1.5) or ``==1.4.*``: a deliberate pin of the minor series, accepted as
    pinned; ``~=1.4`` and ``==1.*`` (any 1.x) are not."""
    parts = [p.strip() for p in spec.replace("(", "").replace(")", "").split(",") if p.strip()]
    return any(re.fullmatch(r"~=\s*\d+\.\d+\.\d+[\w.]*|==\s*\d+\.\d+\.\*", p) for p in parts)


def _poetry_pinned(version: str) -> bool:
    v = version.strip()
    return bool(re.fullmatch(r"(==|===)?\s*\d+(\.\d+)*([a-z0-9.+-]*)?", v)) and "*" not in v


def _table_start(doc: Any, table: str) -> int:
    pat = re.compile(r"^\s*\[\s*" + re.escape(table).replace(r"\.", r"\s*\.\s*") + r"\s*\]\s*(#.*)?$")
    for i, l in enumerate(doc.lines, start=1):
        if pat.match(l):
            return i
    return 0


def _string_position(doc: Any, s: str, table: str, used: set) -> tuple:
    """Line and column of the quoted dependency string ``s`` (searched from its table on)."""
    start = _table_start(doc, table) or 1
    lines = doc.lines
    for quoted in (f'"{s}"', f"'{s}'"):
        for i in range(start - 1, len(lines)):
            pos = lines[i].find(quoted)
            if pos != -1 and (i + 1, pos) not in used:
                used.add((i + 1, pos))
                return i + 1, pos + 1
    return 0, 0


def _key_line(doc: Any, key: str, table: str) -> int:
    start = _table_start(doc, table)
    if not start:
        return 0
    pat = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    for i in range(start, len(doc.lines)):
        l = doc.lines[i]
        if re.match(r"^\s*\[", l):
            return 0
        if pat.match(l):
            return i + 1
    return 0
