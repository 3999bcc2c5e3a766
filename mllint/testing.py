"""Fixture harness (public, so third-party rule packs can use it).

A fixture is a real mini repository.  Expectations sit on the offending line:

* ``# expect: ML0301`` (several codes comma-separated) - this line must get exactly these findings;
* ``# expect-next: ML0308`` - the next non-comment line (for Dockerfiles, where a trailing ``#``
  is not a comment);
* ``<!-- expect: ML1901 -->`` in Markdown;
* in notebooks the marker sits in the cell source and is matched by (cell, line in cell);
* ``# ok: ML0301 <why>`` documents a trap that must stay silent (no finding on that line);
  ``# ok-next: ML0308 <why>`` the same for the next non-comment line;
* ``# todo-expect:`` / ``# todo-ok:`` mark known false negatives / positives (not enforced);
* files that cannot hold comments (JSON) list expectations in ``expect.toml``:
  ``[[expect]] path = "x.json"  line = 3  code = "ML0000"``.

Matching on (file, line, code) is exhaustive both ways.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

from mllint.discovery import classify
from mllint.sources import code_lines

MARK_RE = re.compile(r"(?:#|<!--)\s*(expect|expect-next|ok-next|ok|todo-expect|todo-ok)\s*:\s*((?:ML\d{4}\s*,?\s*)+)")
CODE_RE = re.compile(r"ML\d{4}")


@dataclass
class Expectations:
    expected: set = field(default_factory=set)  # (path, key, code); key = line or ('cell', n, line)
    ok: set = field(default_factory=set)
    todo: set = field(default_factory=set)


def _key_of_finding(f) -> tuple:
    loc = f.location
    if loc.cell is not None:
        return (loc.path, ("cell", loc.cell, loc.cell_line), f.code)
    return (loc.path, loc.line, f.code)


def collect_expectations(root: str, fixture_dir: str) -> Expectations:
    exp = Expectations()
    for dirpath, dirnames, filenames in os.walk(fixture_dir):
        dirnames[:] = [d for d in dirnames if d not in (".git", "__pycache__", ".ipynb_checkpoints")]
        for name in filenames:
            abspath = os.path.join(dirpath, name)
            rel = os.path.relpath(abspath, root).replace(os.sep, "/")
            if name == "expect.toml":
                _read_expect_toml(abspath, root, exp)
                continue
            try:
                with open(abspath, "rb") as fh:
                    data = fh.read()
                text = data.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if name.endswith(".ipynb"):
                _notebook_marks(rel, text, exp)
                continue
            lines = code_lines(text) if classify(rel) == "python" else text.splitlines()
            for i, line in enumerate(lines, start=1):
                for m in MARK_RE.finditer(line):
                    kind, codes = m.group(1), CODE_RE.findall(m.group(2))
                    target = i
                    if kind in ("expect-next", "ok-next"):
                        kind = kind[:-5]
                        target = i + 1
                        while target <= len(lines) and lines[target - 1].lstrip().startswith("#"):
                            target += 1
                    for c in codes:
                        _add(exp, kind, (rel, target, c))
    return exp


def _add(exp: Expectations, kind: str, key: tuple) -> None:
    if kind in ("expect", "expect-next"):
        exp.expected.add(key)
    elif kind == "ok":
        exp.ok.add(key)
    else:
        exp.todo.add(key)


def _notebook_marks(rel: str, text: str, exp: Expectations) -> None:
    try:
        nb = json.loads(text)
    except ValueError:
        return
    for number, cell in enumerate(nb.get("cells", []) if isinstance(nb, dict) else [], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        if isinstance(src, list):
            src = "".join(src)
        for i, line in enumerate(src.splitlines(), start=1):
            for m in MARK_RE.finditer(line):
                for c in CODE_RE.findall(m.group(2)):
                    _add(exp, m.group(1), (rel, ("cell", number, i), c))


def _read_expect_toml(path: str, root: str, exp: Expectations) -> None:
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover
        import tomli as tomllib  # type: ignore
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    base = os.path.dirname(path)
    for e in data.get("expect", []):
        rel = os.path.relpath(os.path.join(base, e["path"]), root).replace(os.sep, "/")
        _add(exp, "expect", (rel, int(e["line"]), e["code"]))


def run_fixture(fixture_dir: str, codes: list, *, extra_select: list = ()) -> tuple:
    """Scan one fixture with only ``codes`` enabled -> (actual keys, Expectations, ScanResult)."""
    from mllint.config import load_settings
    from mllint.discovery import find_root
    from mllint.engine import scan

    fixture_dir = os.path.abspath(fixture_dir)
    root = find_root(fixture_dir)
    settings = load_settings([fixture_dir], root)
    settings.select = list(codes) + list(extra_select)
    settings.extend_select = []
    settings.ignore = []
    settings.jobs = 1
    result = scan([fixture_dir], settings)
    actual = {_key_of_finding(f) for f in result.findings if f.code in codes}
    exp = collect_expectations(root, fixture_dir)
    exp.expected = {k for k in exp.expected if k[2] in codes}
    exp.ok = {k for k in exp.ok if k[2] in codes}
    exp.todo = {k for k in exp.todo if k[2] in codes}
    return actual, exp, result


def describe_mismatch(actual: set, exp: Expectations, result) -> str:
    missing = sorted(exp.expected - actual, key=str)
    unexpected = sorted(actual - exp.expected - exp.todo, key=str)
    out = []
    if missing:
        out.append("expected but not reported:\n  " + "\n  ".join(map(str, missing)))
    if unexpected:
        msgs = {(_key_of_finding(f)): f.message for f in result.findings}
        out.append("reported but not expected:\n  " + "\n  ".join(f"{k}: {msgs.get(k, '')}" for k in unexpected))
    bad_ok = sorted(actual & exp.ok, key=str)
    if bad_ok:
        out.append("reported on a line marked `ok`:\n  " + "\n  ".join(map(str, bad_ok)))
    errs = [n.message for n in result.notifications if n.descriptor == "internal-error"]
    if errs:
        out.append("internal errors:\n  " + "\n  ".join(errs))
    return "\n".join(out)
