"""Find the project root, walk it honouring .gitignore and excludes, classify every file."""
from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

DEFAULT_EXCLUDES = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
    ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".mllint_cache", ".svn",
    ".tox", ".venv", ".vscode", "__pypackages__", "_build", "buck-out", "build", "dist",
    "node_modules", "site-packages", "venv", "__pycache__", ".dvc", "mlruns", "wandb",
    "lightning_logs", ".hydra", ".idea", ".cache",
)

CODE_KINDS = ("python", "notebook")
CONFIG_KINDS = (
    "requirements", "pyproject", "dockerfile", "github-workflow", "gitlab-ci", "dvc", "dvc-lock",
    "mlproject", "conda-env", "params", "yaml", "shell", "markdown",
)
# Not parsed, only their presence matters (lock files, DVC pointers, LFS attributes...).
INVENTORY_NAMES = {
    "poetry.lock", "uv.lock", "pipfile.lock", "pdm.lock", "conda-lock.yml", "conda-lock.yaml",
    ".gitattributes", "config.pbtxt", "setup.py", "setup.cfg",
}
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(slots=True)
class DiscoveredFile:
    path: str  # repository-relative, '/'-separated
    abspath: str
    kind: Optional[str]  # a code or config kind, or None (inventory only)
    explicit: bool = False  # named on the command line


@dataclass
class Discovery:
    root: str
    files: list = field(default_factory=list)  # analysed files (kind is not None)
    inventory: list = field(default_factory=list)  # every non-excluded path, analysed or not
    requested: Optional[set] = None  # when explicit files were given: findings are limited to these
    tops: list = field(default_factory=list)  # walked directories, relative to root ('' = root)


def find_root(start: str) -> str:
    start = os.path.abspath(start)
    cur = start if os.path.isdir(start) else os.path.dirname(start)
    probe = cur
    while True:
        if os.path.exists(os.path.join(probe, ".git")) or os.path.isfile(os.path.join(probe, "pyproject.toml")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return cur
        probe = parent


def vcs_root(root: str) -> str:
    """The enclosing git checkout (GitHub reads SARIF/annotation paths relative to it), else ``root``."""
    probe = os.path.abspath(root)
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return os.path.abspath(root)
        probe = parent


def repo_path(root: str, rel: str) -> str:
    """``rel`` (relative to the project root) made relative to the git checkout."""
    top = vcs_root(root)
    if top == os.path.abspath(root):
        return rel
    prefix = os.path.relpath(os.path.abspath(root), top).replace(os.sep, "/")
    return f"{prefix}/{rel}"


def has_project_marker(root: str) -> bool:
    return os.path.exists(os.path.join(root, ".git")) or os.path.isfile(os.path.join(root, "pyproject.toml"))


def classify(rel: str) -> Optional[str]:
    name = rel.rsplit("/", 1)[-1]
    lower = name.lower()
    ext = lower.rsplit(".", 1)[-1] if "." in lower else ""
    if ext in ("py", "pyi"):
        return "python"
    if ext == "ipynb":
        return "notebook"
    if lower in ("dockerfile", "containerfile") or lower.startswith("dockerfile.") or lower.endswith(".dockerfile"):
        return "dockerfile"
    if ext == "txt" and (lower.startswith(("requirements", "constraints")) or lower.endswith(("-requirements.txt", "_requirements.txt"))
                         or "/requirements/" in "/" + rel.lower()):
        return "requirements"
    if lower == "pyproject.toml":
        return "pyproject"
    if lower == "mlproject":
        return "mlproject"
    if ext in ("yml", "yaml"):
        lrel = rel.lower()
        if lrel.startswith(".github/workflows/") or "/.github/workflows/" in lrel:
            return "github-workflow"
        if lower in (".gitlab-ci.yml", ".gitlab-ci.yaml"):
            return "gitlab-ci"
        if lower == "dvc.yaml":
            return "dvc"
        if lower in ("environment.yml", "environment.yaml", "conda.yaml", "conda.yml"):
            return "conda-env"
        if lower in ("params.yaml", "params.yml") or re.search(r"(^|/)(conf|configs?)/", lrel):
            return "params"
        if lower.startswith("conda-lock"):
            return None
        return "yaml"
    if lower == "dvc.lock":
        return "dvc-lock"
    if ext in ("sh", "bash"):
        return "shell"
    if ext in ("md", "markdown"):
        return "markdown"
    return None


class _IgnoreStack:
    """Nested .gitignore files, each relative to its own directory."""

    def __init__(self, root: str, respect_gitignore: bool):
        self.root = root
        self.respect = respect_gitignore
        self.specs: dict = {}  # dir rel ('' for root) -> (spec, _any_include(spec))

    def load(self, dir_rel: str, dir_abs: str, names: Iterable[str]) -> None:
        if not self.respect:
            return
        patterns = []
        if ".gitignore" in names:
            patterns += _read_lines(os.path.join(dir_abs, ".gitignore"))
        if ".ignore" in names:
            patterns += _read_lines(os.path.join(dir_abs, ".ignore"))
        if dir_rel == "":
            patterns += _read_lines(os.path.join(dir_abs, ".git", "info", "exclude"))
        if patterns:
            import pathspec

            try:
                spec = pathspec.GitIgnoreSpec.from_lines(patterns)
            except Exception:
                return
            self.specs[dir_rel] = (spec, _any_include(spec))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        if not self.specs:
            return False
        probe = rel + "/" if is_dir else rel
        for dir_rel, (spec, any_include) in self.specs.items():
            if dir_rel == "":
                sub = probe
            elif probe.startswith(dir_rel + "/"):
                sub = probe[len(dir_rel) + 1:]
            else:
                continue
            if any_include is not None and any_include.match(sub) is None:
                continue  # no ignoring pattern matches: nothing can ignore it
            if spec.match_file(sub):
                return True
        return False


def _any_include(spec) -> Optional[re.Pattern]:
    """One regex that matches wherever any of the spec's ignoring (not ``!``) patterns does, or None.

    ``match_file`` tries every pattern on every path (a hundred regexes per file for a typical
    Python ``.gitignore``); most paths match none, and a path no ignoring pattern matches is not
    ignored, so this one test settles them.  Built from pathspec's compiled patterns; any surprise
    in their shape leaves the full match in charge."""
    try:
        parts = [p.regex.pattern.replace("(?P<ps_d>", "(?:") for p in spec.patterns
                 if p.include and p.regex is not None]
        return re.compile("|".join(f"(?:{x})" for x in parts)) if parts else re.compile(r"(?!)")
    except Exception:
        return None


def _read_lines(path: str) -> list:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read().splitlines()
    except OSError:
        return []


class ExcludeMatcher:
    """User ``exclude`` patterns: gitignore-style globs against the relative path, or a bare name
    matching any path component (like ruff)."""

    def __init__(self, patterns: Iterable[str]):
        self.names = set()
        self.globs = []
        for p in patterns:
            p = p.strip().rstrip("/")
            if not p:
                continue
            if "/" not in p and not any(c in p for c in "*?["):
                self.names.add(p)
            else:
                self.globs.append(p.lstrip("./") if p.startswith("./") else p)

    def match(self, rel: str, base: int = 0) -> bool:
        """Does ``rel`` (or one of its directories below the first ``base`` components, i.e. below
        a directory named on the command line) match?"""
        parts = rel.split("/")
        if self.names.intersection(parts[base:]):
            return True
        for g in self.globs:
            for i in range(max(base, 1), len(parts) + 1):
                prefix = "/".join(parts[:i])
                if fnmatch.fnmatch(prefix, g):
                    return True
            if "/" not in g and any(fnmatch.fnmatch(p, g) for p in parts[base:]):
                return True
        return False


def discover(paths: list, root: str, *, excludes: Iterable[str] = (), respect_gitignore: bool = True,
             force_exclude: bool = False) -> Discovery:
    """Walk the named directories (or, when only files are named, the whole project under ``root``
    with ``requested`` limiting what is reported) and classify every file.  ``root`` is where
    paths are relative to (the repository root)."""
    root = os.path.abspath(root)
    user_ex = ExcludeMatcher(excludes)
    default_ex = set(DEFAULT_EXCLUDES)
    disc = Discovery(root=root)
    ignore = _IgnoreStack(root, respect_gitignore)

    requested: set = set()
    walk_dirs: list = []
    explicit_files: dict = {}
    for p in paths or ["."]:
        ap = os.path.abspath(p)
        rel = os.path.relpath(ap, root).replace(os.sep, "/")
        if rel.startswith(".."):
            continue
        if os.path.isdir(ap):
            walk_dirs.append(ap)
        else:
            requested.add(rel)
            explicit_files[rel] = ap
    if not walk_dirs:
        # Only files were named (pre-commit, editors): load the whole project so that cross-file
        # rules still see everything, and report on the named files only.  Outside a project (no
        # pyproject.toml or .git above), there is no project to load: just the named files.
        walk_dirs = [root] if has_project_marker(root) else []
        disc.requested = requested
    seen: set = set()
    walked: set = set()
    for top in walk_dirs:
        if any(top == w or top.startswith(w + os.sep) for w in walked):
            continue
        walked.add(top)
        top_rel = os.path.relpath(top, root).replace(os.sep, "/")
        disc.tops.append("" if top_rel == "." else top_rel)
        if top_rel != "." and any(part in default_ex for part in top_rel.split("/")) and force_exclude:
            continue
        # .gitignore files of the directories above the walked one apply too.
        if top != root:
            probe, chain = top, []
            while probe != root and probe.startswith(root):
                probe = os.path.dirname(probe)
                chain.append(probe)
            for d in reversed(chain):
                drel = os.path.relpath(d, root).replace(os.sep, "/")
                try:
                    names = set(os.listdir(d))
                except OSError:
                    names = set()
                ignore.load("" if drel == "." else drel, d, names)
        base = 0 if top_rel == "." else len(top_rel.split("/"))
        for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
            dir_rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
            dir_rel = "" if dir_rel == "." else dir_rel
            ignore.load(dir_rel, dirpath, set(filenames))
            keep = []
            for d in sorted(dirnames):
                rel = f"{dir_rel}/{d}" if dir_rel else d
                if d in default_ex or user_ex.match(rel, base) or ignore.ignored(rel, True):
                    continue
                if d.endswith(".egg-info"):
                    continue
                keep.append(d)
            dirnames[:] = keep
            for f in sorted(filenames):
                rel = f"{dir_rel}/{f}" if dir_rel else f
                if rel in seen or user_ex.match(rel, base) or ignore.ignored(rel, False):
                    continue
                abspath = os.path.join(dirpath, f)
                disc.inventory.append(rel)
                kind = classify(rel)
                if kind is not None:
                    if rel not in explicit_files and _links_within(abspath, root, user_ex, ignore, default_ex):
                        continue  # the file it points to is analysed under its own path
                    disc.files.append(DiscoveredFile(rel, abspath, kind, rel in explicit_files))
                    seen.add(rel)
    # Explicitly named files are analysed even when excluded, unless --force-exclude.
    for rel, ap in explicit_files.items():
        if rel in seen:
            continue
        if force_exclude and (user_ex.match(rel) or any(part in default_ex for part in rel.split("/"))
                              or ignore.ignored(rel, False)):
            requested.discard(rel)
            continue
        if not os.path.lexists(ap):
            continue
        kind = classify(rel) or (_shebang_kind(ap) if "." not in rel.rsplit("/", 1)[-1] else None)
        if kind and os.path.lexists(ap):
            disc.files.append(DiscoveredFile(rel, ap, kind, True))
            disc.inventory.append(rel)
    return disc


def _links_within(abspath: str, root: str, user_ex, ignore, default_ex) -> bool:
    """Is this file a symbolic link to a file of the scanned tree that is not excluded?  Such a link
    (``examples/x.ipynb -> ../docs/x.ipynb``) would report every finding twice."""
    if not os.path.islink(abspath):
        return False
    real = os.path.realpath(abspath)
    if not real.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(real):
        return False
    rel = os.path.relpath(real, os.path.realpath(root)).replace(os.sep, "/")
    return not (user_ex.match(rel) or ignore.ignored(rel, False) or
                any(part in default_ex for part in rel.split("/")[:-1]))


def _shebang_kind(path: str) -> Optional[str]:
    """An explicitly named file without an extension: Python if its shebang says so."""
    try:
        with open(path, "rb") as fh:
            head = fh.readline(200)
    except OSError:
        return None
    return "python" if head.startswith(b"#!") and b"python" in head else None


def in_requested(rel: str, requested: Optional[set]) -> bool:
    if requested is None:
        return True
    if rel in requested:
        return True
    return any(r.endswith("/") and rel.startswith(r) for r in requested)
