"""A notebook installs packages with `%pip install`/`!pip install` without pinning versions.

## What it does
Flags `%pip install`, `!pip install`, `!python -m pip install`, `%uv pip install` and `pip install`
lines of `%%bash`/`%%sh` cells in notebooks when a package is named without an exact `==` pin (the
body of a `%%writefile` cell is a file the notebook writes, not a command it runs). Requirement
files (`-r requirements.txt`), constraint files, editable or local installs (`-e .`, `./pkg`), URLs,
VCS and wheel paths, offline installs (`--no-index`: only the wheels `--find-links` names, such as
a Kaggle dataset, can be installed), and installer and build tooling (`pip`, `setuptools`,
`wheel`, `packaging`, `ninja`, `cmake`) are fine, and so is the package the repository itself builds (its `pyproject.toml`,
`setup.py` or `setup.cfg` name): an example notebook installs the release it documents.

## Why is this bad?
Checkpoint 3 (reproducible training): every run of the notebook installs whatever version is newest
that day. Results stop reproducing when a dependency releases, and a notebook that ran last month
breaks on an API change with nothing recording which version it was written against.

## Example
```ipython
%pip install -q scikit-learn xgboost
!pip install transformers>=4.30
```

## Use instead
```ipython
%pip install -q scikit-learn==1.5.2 xgboost==2.1.1
!pip install -r requirements.txt
```

## Known limits
Packages named through variables (`!pip install {pkg}`, `$PKG`) are not reported. Ranges (`>=`,
`<`, `~=1.4`) count as unpinned; `==1.5.*` and patch-level `~=1.4.6` count as pinned.

## Fix safety
The fix pins each unpinned package on the line to the version recorded in a lock file of the
repository (`poetry.lock`, `uv.lock`, `pdm.lock`, `Pipfile.lock`, compiled requirements), else the
version installed in the environment mllint runs in; a range is pinned only when that version
satisfies it. It is unsafe: the pinned version may not be the one the notebook was last run with.
"""
import re
import shlex

from mllint.knowledge import packages as PK
from mllint.rule import FileRule, ProjectRule, RuleMeta
from mllint.sources.config import normalise_name, parse_requirement_line
from mllint.sources.notebook import PY_CELL_MAGICS

_INSTALL = re.compile(r"^\s*(?:[%!]+\s*)?(?:(?:python3?|py)\s+-m\s+)?(?:uv\s+)?pip3?\s+install\b(.*)$")
# options that take a value
_VALUE_OPTS = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
               "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--src",
               "--trusted-host", "--platform", "--python-version", "--implementation", "--abi", "--progress-bar",
               "--cache-dir", "--log", "--proxy", "--timeout", "--retries", "--upgrade-strategy", "--no-binary",
               "--only-binary", "--config-settings", "-C", "--global-option", "--report", "--python",
               "--index-strategy", "--group"}
# cell magics whose body the shell runs (a Python body, ``%%capture``/``%%time``, runs too; the
# body of any other, ``%%writefile``/``%%html``/``%%sql``, is not a command of this notebook)
_SHELL_CELLS = {"bash", "sh", "script", "system"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.\s-]*\])?")


def unpinned_packages(args: str) -> list:
    """Package names in the argument text of one ``pip install`` that are not pinned with ``==``."""
    try:
        toks = shlex.split(args, comments=True)
    except ValueError:
        return []
    out = []
    skip = False
    for t in toks:
        if skip:
            skip = False
            continue
        if t in ("&&", "||", ";", "|", ">", "2>&1", ">/dev/null") or t.startswith((">", "2>")):
            break
        if t == "-":
            return []  # a stray dash (``pip install - qqq``, mangled by a formatter): cannot tell
        if t.startswith("-"):
            if t in ("-c", "--constraint") or t.startswith(("--constraint=", "-c=")):
                return []  # a constraints file fixes the versions
            if t == "--no-index":
                return []  # offline: only the wheels of --find-links (an attached dataset) are candidates
            if t in _VALUE_OPTS:
                skip = True
            elif not t.startswith("--") and len(t) > 2 and "=" not in t and t[-1] in "rceiftC":
                skip = True  # a short-option cluster ending in one that takes a value: ``-qr reqs.txt``
            continue
        if any(ch in t for ch in "{}$`"):
            return []  # a variable names the packages: cannot tell
        if "/" in t or "\\" in t or t.startswith((".", "~")) or t.endswith((".whl", ".zip", ".tar.gz", ".tgz")) \
                or "@" in t or "://" in t:
            continue  # local path, URL, VCS, direct reference
        spec = t.split(";", 1)[0].strip()
        m = _NAME.match(spec)
        if not m:
            continue
        name = m.group(0)
        rest = spec[len(name):].strip()
        base = name.split("[", 1)[0].lower()
        if normalise_name(base) in PK.INSTALL_TOOLING:
            continue
        if rest.startswith("==") or rest.startswith("==="):
            continue
        if rest.startswith("~=") and rest[2:].strip().count(".") >= 2 and "," not in rest:
            continue  # ``~=1.4.6``: patch releases only
        out.append(spec)
    return out


class NotebookUnpinnedInstall(FileRule, ProjectRule):
    meta = RuleMeta(code="ML0306", level="note", precision="very-high", profile="poc",
                    tags=("reproducibility", "dependencies", "notebook"), fix="unsafe")

    def begin(self) -> None:
        src = self.ctx.source
        if self.ctx.summary.kind != "notebook" or src is None:
            return
        magics = getattr(src, "magics", None) or []
        starts = {first: n for _cell, first, n in getattr(src, "cells", None) or []}
        body_end = 0  # last line of a cell whose body is not run as shell (``%%writefile``...)
        for vline, text in magics:
            if vline in starts:
                body_end = 0
                cell_magic = text.lstrip()[2:].split(None, 1)[0] if text.lstrip().startswith("%%") else ""
                if cell_magic and cell_magic not in _SHELL_CELLS and cell_magic not in PY_CELL_MAGICS:
                    body_end = vline + starts[vline] - 1
                    continue
            elif vline <= body_end:
                continue  # a line of a file the cell writes, or of another language: not run here
            for piece in re.split(r"&&|;", text):
                m = _INSTALL.match(piece)
                if not m:
                    continue
                pkgs = unpinned_packages(m.group(1))
                if not pkgs:
                    continue
                col = len(text) - len(text.lstrip()) + 1
                # reported in the project phase, which knows the distributions the repository builds
                self.record((vline, self.ctx.char_col(vline, col - 1), vline,
                             self.ctx.char_col(vline, len(text)), tuple(pkgs)))
                break

    def check_project(self, project):
        own = project.own_distributions
        for path, s in sorted(project.summaries.items()):
            for line, col, end_line, end_col, pkgs in s.facts.get(self.meta.code, ()):
                # the repository's own package in its example notebooks: the release it documents
                pkgs = [p for p in pkgs if _base_name(p) not in own]
                if not pkgs:
                    continue
                names = ", ".join(f"`{p}`" for p in pkgs[:5]) + (" ..." if len(pkgs) > 5 else "")
                yield self.finding(path, (line, col, end_line, end_col),
                                   f"notebook installs {names} without an exact version; pin with `==` (or install "
                                   f"from a pinned requirements file) so reruns get the same packages")


def _base_name(spec: str) -> str:
    req = parse_requirement_line(spec, 1)
    return req.name if req is not None else ""
