"""Autofix: before/after fixtures under fixtures/fixes/<slug>/, and the fix CLI.

A fix fixture is a mini repository with a ``fix.toml`` (``code``, ``unsafe``, optional hand-made
``[[findings]]`` used while the rule is not registered or for files the rule cannot reach) and
``x.fixed.<ext>`` twins.  The harness copies the repository without the twins, runs the fix loop,
and checks that every file became its twin, that no other file changed, that a re-scan no longer
reports the rule on fixed files and reports nothing new for other rules, and that a second run
changes nothing.
"""
import json
import os
import shutil

import pytest

try:
    import tomllib
except ImportError:  # pragma: no cover
    import tomli as tomllib

from mllint import fixes, registry
from mllint.finding import Finding, Location

from conftest import FIXTURES, run_cli

FIX_DIR = os.path.join(FIXTURES, "fixes")
SLUGS = sorted(d for d in os.listdir(FIX_DIR) if os.path.isdir(os.path.join(FIX_DIR, d))) if os.path.isdir(FIX_DIR) else []


def twin_of(name: str) -> str:
    """``train.py`` -> ``train.fixed.py``; ``Dockerfile`` -> ``Dockerfile.fixed``."""
    d, base = os.path.split(name)
    if "." in base.lstrip("."):
        stem, ext = base.rsplit(".", 1)
        return os.path.join(d, f"{stem}.fixed.{ext}")
    return os.path.join(d, base + ".fixed")


def is_twin(name: str) -> bool:
    base = os.path.basename(name)
    return ".fixed." in base or base.endswith(".fixed")


def settings_for(root: str, code=None):
    from mllint.config import load_settings

    s = load_settings([root], root, isolated=True)
    s.select = [code] if code else ["ALL"]
    s.profile = "strict"
    s.jobs = 1
    return s


def copy_repo(src: str, dst: str) -> dict:
    """Copy without twins and fix.toml; return {relative path: expected text}."""
    expected = {}
    os.makedirs(dst, exist_ok=True)
    os.makedirs(os.path.join(dst, ".git"), exist_ok=True)
    for dp, _dns, fns in os.walk(src):
        for fn in fns:
            full = os.path.join(dp, fn)
            rel = os.path.relpath(full, src)
            if fn == "fix.toml" or is_twin(rel):
                continue
            out = os.path.join(dst, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            shutil.copyfile(full, out)
            tw = os.path.join(src, twin_of(rel))
            with open(tw if os.path.exists(tw) else full, encoding="utf-8", newline="") as fh:
                expected[rel.replace(os.sep, "/")] = fh.read()
    return expected


def read_tree(root: str, rels) -> dict:
    out = {}
    for rel in rels:
        with open(os.path.join(root, rel), encoding="utf-8", newline="") as fh:
            out[rel] = fh.read()
    return out


def hand_findings(spec: dict, code: str) -> list:
    out = []
    for h in spec.get("findings", []):
        loc = Location(h["path"], h.get("line", 1), h.get("col", 1), h.get("line", 1), h.get("col", 1) + 1,
                       h.get("cell"), h.get("cell_line"), h.get("cell_col"))
        out.append(Finding(code=code, name=fixes.FIXERS[code].name, message=h.get("message", ""), level="warning",
                           location=loc))
    return out


def apply_hand(root: str, findings: list, unsafe: bool) -> int:
    """The fix loop for hand-made findings (rule not registered): one pass per file."""
    ctx = fixes.Context(root)
    n = 0
    by_path: dict = {}
    for f in findings:
        by_path.setdefault(f.path, []).append(f)
    for path, fs in by_path.items():
        text = ctx.read(path)
        kind = "notebook" if path.endswith(".ipynb") else fixes._file_kind(None, path)
        doc = fixes.Doc(path, kind, text)
        cands, failed = fixes.candidates_for(doc, fs, ctx, unsafe)
        assert not failed, failed
        new, applied, discarded = fixes.apply_candidates(doc, cands)
        assert not discarded
        if new != text:
            fixes._write(root, path, new)
            n += len(applied)
    return n


def run_fix(root: str, code: str, spec: dict, rule_present: bool) -> int:
    from mllint.engine import scan

    unsafe = bool(spec.get("unsafe", not fixes.FIXERS[code].safe))
    hand_only = set(spec.get("hand_only", []))
    n = 0
    hand = [f for f in hand_findings(spec, code) if not rule_present or f.path in hand_only]
    if hand:
        n += apply_hand(root, hand, unsafe)
    if rule_present:
        run = fixes.fix_texts([root], settings_for(root, code), unsafe=unsafe)
        for path, text in run.texts.items():
            fixes._write(root, path, text)
        assert not run.discarded, [(p, c.code) for p, c in run.discarded]
        n += len(run.applied)
    return n


def finding_keys(root: str, exclude_code: str) -> list:
    from mllint.engine import scan

    res = scan([root], settings_for(root))
    return sorted((f.code, f.path, f.message) for f in res.findings if f.code != exclude_code)


@pytest.mark.parametrize("slug", SLUGS)
def test_fix_fixture(slug, tmp_path):
    from mllint.engine import scan

    src = os.path.join(FIX_DIR, slug)
    with open(os.path.join(src, "fix.toml"), "rb") as fh:
        spec = tomllib.load(fh)
    code = spec["code"]
    assert code in fixes.FIXERS
    rule_present = code in registry.by_code()
    root = str(tmp_path / "repo")
    expected = copy_repo(src, root)
    assert any(os.path.exists(os.path.join(src, twin_of(p))) for p in expected), "no .fixed twin"
    also = set(spec.get("also_changes", []))
    before_other = finding_keys(root, code) if rule_present else None

    if rule_present:
        first = scan([root], settings_for(root, code))
        fired = {f.path for f in first.findings if f.code == code}
        for p in expected:
            if os.path.exists(os.path.join(src, twin_of(p))) and p not in set(spec.get("hand_only", [])):
                assert p in fired, f"{slug}: {code} does not fire on {p} any more; update the fixture"

    n = run_fix(root, code, spec, rule_present)
    assert n > 0
    got = read_tree(root, expected)
    for p, want in expected.items():
        assert got[p] == want, f"{slug}/{p} differs from its .fixed twin:\n" + \
            fixes.unified_diff(p, want, got[p])
        if p.endswith(".ipynb"):
            nb = json.loads(got[p])
            assert nb["nbformat"] == 4 and all("source" in c for c in nb["cells"])

    if rule_present:
        after = scan([root], settings_for(root, code))
        left = [f for f in after.findings if f.code == code and os.path.exists(os.path.join(src, twin_of(f.path)))]
        assert not left, [(f.path, f.location.line, f.message) for f in left]
        after_other = finding_keys(root, code)
        if not also:
            assert after_other == before_other, "a fix changed other findings"
        else:
            assert [k for k in after_other if k[0] not in also] == [k for k in before_other if k[0] not in also]

    # a second run changes nothing (hand-made findings have no meaning on the fixed text)
    if rule_present:
        n2 = run_fix(root, code, {k: v for k, v in spec.items() if k != "findings"}, True)
        assert n2 == 0
        assert read_tree(root, expected) == got


def test_twins_are_not_rule_fixtures():
    """fixtures/fixes/ never feeds the rule-fixture harness (it only reads fixtures/rules/<slug>/)."""
    rules_dir = os.path.join(FIXTURES, "rules")
    for slug in SLUGS:
        assert not os.path.exists(os.path.join(rules_dir, slug, "fix.toml"))
