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
import sys

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


# ------------------------------------------------------------------------------- the CLI
SPLIT = """from sklearn.model_selection import train_test_split

X_train, X_test = train_test_split([1, 2, 3, 4], test_size=0.5)
"""
SPLIT_FIXED = SPLIT.replace("test_size=0.5)", "test_size=0.5, random_state=42)")


def _read(p) -> str:
    with open(p, encoding="utf-8", newline="") as fh:
        return fh.read()


def test_text_output_marks_fixable_findings(make_repo):
    root = make_repo({"split.py": SPLIT})
    code, out, _ = run_cli(["check", str(root), "--select", "ML0301", "--no-cache"])
    assert code == 1
    assert "ML0301 [*] [split-without-random-state]" in out
    assert "1 hidden fix can be enabled with the `--unsafe-fixes` option" in out


def test_unsafe_fix_needs_unsafe_fixes(make_repo):
    root = make_repo({"split.py": SPLIT})
    code, out, _ = run_cli(["check", str(root), "--select", "ML0301", "--fix"])
    assert code == 1
    assert _read(root / "split.py") == SPLIT
    assert "--unsafe-fixes" in out
    code, out, _ = run_cli(["check", str(root), "--select", "ML0301", "--fix", "--unsafe-fixes"])
    assert code == 0, out
    assert _read(root / "split.py") == SPLIT_FIXED
    assert "Found 1 error (1 fixed, 0 remaining)." in out
    # a second run changes nothing
    code, out, _ = run_cli(["check", str(root), "--select", "ML0301", "--fix", "--unsafe-fixes"])
    assert code == 0 and "All checks passed!" in out
    assert _read(root / "split.py") == SPLIT_FIXED


def test_exit_non_zero_on_fix_and_show_fixes(make_repo):
    root = make_repo({"split.py": SPLIT})
    code, out, _ = run_cli(["check", str(root), "--select", "ML0301", "--fix", "--unsafe-fixes",
                            "--exit-non-zero-on-fix", "--show-fixes"])
    assert code == 1
    assert "Fixed 1 error:" in out
    assert "- split.py:" in out and "1 × ML0301 (split-without-random-state)" in out
    code, out, _ = run_cli(["check", str(root), "--select", "ML0301", "--fix", "--unsafe-fixes",
                            "--exit-non-zero-on-fix"])
    assert code == 0  # nothing left to fix


def test_diff_changes_nothing(make_repo):
    root = make_repo({"split.py": SPLIT})
    code, out, err = run_cli(["check", str(root), "--select", "ML0301", "--diff", "--unsafe-fixes"])
    assert code == 1
    assert "--- a/split.py" in out and "+++ b/split.py" in out
    assert "+X_train, X_test = train_test_split([1, 2, 3, 4], test_size=0.5, random_state=42)" in out
    assert "Would fix 1 error" in err
    assert _read(root / "split.py") == SPLIT
    # without --unsafe-fixes there is nothing to apply: no diff, exit 0
    code, out, err = run_cli(["check", str(root), "--select", "ML0301", "--diff"])
    assert code == 0 and "---" not in out
    assert "Would fix 0 errors (1 remaining; 1 more fixable with `--unsafe-fixes`)." in err


def test_safe_fixes_apply_with_fix_alone(make_repo, monkeypatch):
    import dataclasses

    monkeypatch.setitem(fixes.FIXERS, "ML0301", dataclasses.replace(fixes.FIXERS["ML0301"], safe=True))
    root = make_repo({"split.py": SPLIT})
    code, out, _ = run_cli(["check", str(root), "--select", "ML0301", "--no-cache"])
    assert "[*] 1 fixable with the `--fix` option." in out
    code, out, _ = run_cli(["check", str(root), "--select", "ML0301", "--fix"])
    assert code == 0
    assert _read(root / "split.py") == SPLIT_FIXED


def test_unparsable_fix_is_discarded_and_reported(make_repo, monkeypatch):
    import dataclasses

    def broken(doc, finding, ctx):
        line, col = doc.position(finding)
        return "break it", [fixes.TEdit(line, col, line, col, "((")]

    monkeypatch.setitem(fixes.FIXERS, "ML0301", dataclasses.replace(fixes.FIXERS["ML0301"], compute=broken))
    root = make_repo({"split.py": SPLIT})
    code, out, err = run_cli(["check", str(root), "--select", "ML0301", "--fix", "--unsafe-fixes"])
    assert code == 1
    assert "discarded the fix for ML0301 in split.py" in err
    assert _read(root / "split.py") == SPLIT
    assert "Found 1 error." in out


def test_fix_passes_are_bounded(make_repo, monkeypatch):
    import dataclasses

    def forever(doc, finding, ctx):
        return "comment", [fixes.TEdit(1, 1, 1, 1, "# again\n")]

    monkeypatch.setitem(fixes.FIXERS, "ML0301", dataclasses.replace(fixes.FIXERS["ML0301"], compute=forever))
    root = make_repo({"split.py": SPLIT})
    run = fixes.fix_texts([str(root)], settings_for(str(root), "ML0301"), unsafe=True)
    assert run.passes == fixes.MAX_PASSES
    assert run.texts["split.py"].count("# again\n") == fixes.MAX_PASSES


def test_sarif_carries_fix_replacements(make_repo):
    root = make_repo({"split.py": SPLIT})
    code, out, _ = run_cli(["check", str(root), "--select", "ML0301", "--output-format", "sarif", "--no-cache"])
    res = json.loads(out)["runs"][0]["results"][0]
    fx = res["fixes"][0]
    rep = fx["artifactChanges"][0]["replacements"][0]
    assert fx["description"]["text"].endswith("(unsafe)")
    assert "random_state=42" in rep["insertedContent"]["text"]
    assert rep["deletedRegion"]["startLine"] == 3


def test_plain_check_does_not_load_libcst(make_repo):
    import subprocess
    import sys

    root = make_repo({"split.py": SPLIT})
    code = ("import sys; from mllint.cli import main\n"
            "try:\n    main(['check', sys.argv[1], '--no-cache', '-q'])\nexcept SystemExit:\n    pass\n"
            "print('LIBCST' if 'libcst' in sys.modules else 'NO-LIBCST')")
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True).stdout
    assert "NO-LIBCST" in out


# ------------------------------------------------------------------------------ --add-noqa
NB_SPLIT = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# notes\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [
            {"name": "stdout", "output_type": "stream", "text": ["hi\n"]}],
         "source": ["from sklearn.model_selection import train_test_split\n",
                    "a, b = train_test_split([1, 2, 3, 4])"]},
    ],
    "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def test_add_noqa(make_repo):
    root = make_repo({
        "split.py": SPLIT.replace("test_size=0.5)", "test_size=0.5)  # noqa: E501"),
        "doc.py": 'from sklearn.model_selection import train_test_split\n\nX = """\n"""\n'
                  'a = train_test_split([1, 2], [3, 4], test_size=0.5,\n    train_size=0.5)\n',
        "explore.ipynb": json.dumps(NB_SPLIT, indent=1) + "\n",
        "Dockerfile": "FROM python:3\nRUN pip install torch\n",
    })
    code, out, err = run_cli(["check", str(root), "--select", "ML0301,ML0308", "--add-noqa"])
    assert code == 0
    assert _read(root / "split.py").splitlines()[2].endswith("test_size=0.5)  # noqa: E501, ML0301")
    assert "a = train_test_split([1, 2], [3, 4], test_size=0.5,  # noqa: ML0301" in _read(root / "doc.py")
    nb = json.loads(_read(root / "explore.ipynb"))
    assert nb["cells"][1]["source"][1] == "a, b = train_test_split([1, 2, 3, 4])  # noqa: ML0301"
    assert nb["cells"][1]["outputs"] == NB_SPLIT["cells"][1]["outputs"]
    docker = _read(root / "Dockerfile").splitlines()
    assert docker[0] == "FROM python:3"  # a comment is not legal after FROM: skipped and reported
    assert docker[1] == "RUN pip install torch  # noqa: ML0308"
    assert "Dockerfile:1: no `# noqa: ML0308` added" in err
    assert "Added 4 noqa directives." in err
    _code, out, _ = run_cli(["check", str(root), "--select", "ML0301,ML0308", "--no-cache", "--output-format", "concise"])
    assert [l for l in out.splitlines() if ": ML0" in l] == [l for l in out.splitlines() if l.startswith("Dockerfile:1:")]
    # idempotent
    code, out, err = run_cli(["check", str(root), "--select", "ML0301,ML0308", "--add-noqa"])
    assert "Added 0 noqa directives." in err


# ------------------------------------------------------------------------------ units
class _Ctx(fixes.Context):
    def __init__(self, versions: dict):
        super().__init__("/nonexistent")
        self._v = versions

    def versions(self):
        v = self._v

        class R:
            def version(self, name):
                return v.get(fixes.canon_name(name))

        return R()


def test_pins_respect_existing_ranges():
    ctx = _Ctx({"pandas": "2.2.2", "torch": "2.3.1"})
    assert fixes.pin_requirement("pandas>=1,<2", ctx) is None
    assert fixes.pin_requirement("pandas>=2", ctx) == "pandas==2.2.2"
    assert fixes.pin_requirement("torch @ https://x/torch.whl", ctx) is None
    assert fixes.pin_requirement("unknown-pkg", ctx) is None
    assert fixes.pin_pip_line("!pip install -r req.txt torch", ctx) == "!pip install -r req.txt torch==2.3.1"
    assert fixes.pin_config_line('torch = "^3.0"', 1, "pyproject", ctx) is None
    assert fixes.pin_config_line('torch = "^2.0"', 1, "pyproject", ctx) == 'torch = "2.3.1"'


def test_installed_versions_match_importlib_metadata(tmp_path, monkeypatch):
    """The pins' fallback source (what is installed) is read from dist-info folder names: it gives
    importlib.metadata's answer for every distribution of this environment, the first one on
    sys.path winning, and reads egg-info names and local build tags."""
    from importlib import metadata

    found = fixes.installed_versions()
    checked = set()
    for dist in metadata.distributions():
        name = fixes.canon_name(dist.metadata["Name"])
        if name not in checked:
            checked.add(name)
            assert found.get(name) == metadata.version(dist.metadata["Name"]), name
    assert {"click", "pyyaml", "networkx"} <= checked

    site = tmp_path / "site"
    for d in ("Foo_Bar-1.2.3.dist-info", "old.pkg-0.9-py3.11.egg-info", "torch-2.3.1+cu121.dist-info",
              "click-0.0.1.dist-info", "notes.dist-info"):
        (site / d).mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(site)] + sys.path)
    found = fixes.installed_versions()
    assert found["foo-bar"] == "1.2.3" and found["old-pkg"] == "0.9" and found["click"] == "0.0.1"
    assert "notes" not in found
    resolver = fixes.Context(str(tmp_path)).versions()
    assert resolver.version("torch") == "2.3.1" and resolver.version("FOO.bar") == "1.2.3"
    # read once per resolver: a package installed while an editor session runs is seen by the next scan
    (site / "torch-2.4.0.dist-info").mkdir()
    (site / "torch-2.3.1+cu121.dist-info").rmdir()
    assert resolver.version("torch") == "2.3.1"
    assert fixes.Context(str(tmp_path)).versions().version("torch") == "2.4.0"


def _hand(code, path, line, col, message=""):
    return Finding(code=code, name=fixes.FIXERS[code].name, message=message, level="warning",
                   location=Location(path, line, col, line, col + 1))


def test_random_state_fix_never_touches_unshuffled_splits():
    src = "from sklearn.model_selection import KFold, train_test_split\n" \
          "a = train_test_split(X, shuffle=False)\nk = KFold(5, False)\n"
    doc = fixes.Doc("s.py", "python", src)
    ctx = fixes.Context("/nonexistent")
    cands, _ = fixes.candidates_for(doc, [_hand("ML0301", "s.py", 2, 5), _hand("ML0301", "s.py", 3, 5)], ctx, True)
    assert cands == []


def test_dockerfile_base_left_alone_when_tag_unknown(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3-slim\n")
    doc = fixes.Doc("Dockerfile", "dockerfile", "FROM python:3-slim\n")
    cands, _ = fixes.candidates_for(doc, [_hand("ML0308", "Dockerfile", 1, 1)], fixes.Context(str(tmp_path)), True)
    assert cands == []
    (tmp_path / ".python-version").write_text("3.12\n")  # not a full version: still unknown
    cands, _ = fixes.candidates_for(doc, [_hand("ML0308", "Dockerfile", 1, 1)], fixes.Context(str(tmp_path)), True)
    assert cands == []


def test_seed_fix_imports_what_it_needs():
    src = '"""Train."""\nfrom torch import nn\n\nmodel = nn.Linear(2, 2)\n'
    doc = fixes.Doc("t.py", "python", src)
    f = _hand("ML0303", "t.py", 4, 1, "this training entrypoint uses the `torch` random generator (first: x)")
    cands, _ = fixes.candidates_for(doc, [f], fixes.Context("/nonexistent"), True)
    new, _applied, _ = fixes.apply_candidates(doc, cands)
    assert new == '"""Train."""\nfrom torch import nn\nimport torch\ntorch.manual_seed(42)\n\nmodel = nn.Linear(2, 2)\n'


def test_stdin_fix_prints_the_fixed_source_and_writes_nothing(make_repo):
    root = make_repo({"split.py": SPLIT})
    code, out, err = run_cli(["check", "-", "--stdin-filename", "split.py", "--select", "ML0301", "--fix",
                              "--unsafe-fixes"], cwd=str(root), input=SPLIT)
    assert code == 0
    assert out == SPLIT_FIXED
    assert "1 fixed" in err
    assert _read(root / "split.py") == SPLIT


def test_notebook_round_trip_keeps_style():
    nb = dict(NB_SPLIT)
    for raw in (json.dumps(nb, indent=1, ensure_ascii=False) + "\n",
                json.dumps(nb, indent=2).replace("\n", "\r\n") + "\r\n",
                json.dumps({**nb, "metadata": {"title": "données"}}, indent=1, ensure_ascii=True) + "\n"):
        doc = fixes.Doc("n.ipynb", "notebook", raw)
        assert fixes.dump_notebook(json.loads(raw), raw) == raw
        f = Finding(code="ML0301", name="split-without-random-state", message="", level="warning",
                    location=Location("n.ipynb", 9, 5, 9, 6, cell=2, cell_line=2, cell_col=8))
        cands, _ = fixes.candidates_for(doc, [f], fixes.Context("/nonexistent"), True)
        new, applied, _ = fixes.apply_candidates(doc, cands)
        assert len(applied) == 1
        changed = [ln for ln in difflib_ndiff(raw, new) if ln[:1] in "+-"]
        assert len(changed) == 2 and "random_state=42" in changed[1], changed


def difflib_ndiff(a: str, b: str) -> list:
    import difflib

    return [ln for ln in difflib.ndiff(a.splitlines(), b.splitlines()) if not ln.startswith("?")]


def test_crlf_python_file_keeps_its_line_endings(make_repo):
    src = "import torch\r\n\r\ndef f(m, x):\r\n    y = m(x)\r\n    return y\r\n"
    doc = fixes.Doc("s.py", "python", src)
    cands, _ = fixes.candidates_for(doc, [_hand("ML1101", "s.py", 4, 9)], fixes.Context("/nonexistent"), True)
    new, _a, _d = fixes.apply_candidates(doc, cands)
    assert new == "import torch\r\n\r\ndef f(m, x):\r\n    with torch.no_grad():\r\n        y = m(x)\r\n    return y\r\n"


def test_noqa_placement_per_file_kind():
    def edits(kind, path, text, *lines):
        doc = fixes.Doc(path, kind, text)
        fs = [_hand("ML0302" if kind != "python" else "ML0301", path, ln, 1) for ln in lines]
        e, skipped = fixes.noqa_edits(doc, fs)
        return fixes.apply_text_edits(text, e), len(skipped)

    assert edits("requirements", "requirements.txt", "torch>=2  # gpu build\nnumpy\n", 1, 2) == (
        "torch>=2  # gpu build  # noqa: ML0302\nnumpy  # noqa: ML0302\n", 0)
    new, skipped = edits("requirements", "requirements.txt", "numpy \\\n  --hash=sha256:x\n", 1)
    assert skipped == 1 and new == "numpy \\\n  --hash=sha256:x\n"
    new, skipped = edits("yaml", "env.yml", "script: |\n  pip install torch\ndeps:\n  - torch\n", 2, 4)
    assert skipped == 1 and new == "script: |\n  pip install torch\ndeps:\n  - torch  # noqa: ML0302\n"
    new, skipped = edits("python", "s.py", 'x = """\ntrain_test_split(a)\n"""\n', 2)
    assert skipped == 1
    new, skipped = edits("python", "s.py", "a = f(\n    1)\n", 1)
    assert new == "a = f(  # noqa: ML0301\n    1)\n"


def test_json_output_carries_fix_edits(make_repo):
    root = make_repo({"split.py": SPLIT})
    _code, out, _ = run_cli(["check", str(root), "--select", "ML0301", "--output-format", "json", "--no-cache"])
    data = json.loads(out)
    items = data if isinstance(data, list) else data.get("findings", data.get("results", []))
    fix = items[0]["fix"]
    assert fix["applicability"] == "unsafe"
    assert fix["edits"] and "random_state=42" in fix["edits"][0]["content"]


def test_unfixable_pins_are_not_marked(make_repo):
    root = make_repo({"train.py": "import torch\n\nmodel = torch.nn.Linear(2, 2)\nmodel.fit = None\n",
                      "requirements.txt": "surely-not-a-real-package-zz>=1\n"})
    ctx = fixes.Context(str(root))
    f = _hand("ML0302", "requirements.txt", 1, 1)
    assert not fixes._avail_pin(f, ctx)


def test_a_crashing_fixer_costs_only_its_fix(make_repo, monkeypatch):
    import dataclasses

    def crash(doc, finding, ctx):
        raise KeyError("boom")

    monkeypatch.setitem(fixes.FIXERS, "ML0301", dataclasses.replace(fixes.FIXERS["ML0301"], compute=crash))
    root = make_repo({"split.py": SPLIT})
    code, out, err = run_cli(["check", str(root), "--select", "ML0301", "--fix", "--unsafe-fixes"])
    assert code == 1
    assert "could not compute the fix for ML0301 in split.py:3: KeyError" in err
    assert _read(root / "split.py") == SPLIT


def test_minimal_edit_trims_the_longest_common_prefix_and_suffix():
    """``_minimal_edit`` finds the common prefix and suffix by halving: checked against a
    character-by-character search on generated pairs, and by applying the edit."""
    import random

    from mllint.fixes import _common_prefix_len, _minimal_edit, apply_text_edits

    rng = random.Random(7)
    for _ in range(400):
        old = "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 30)))
        new = "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 30)))
        p = 0
        while p < min(len(old), len(new)) and old[p] == new[p]:
            p += 1
        assert _common_prefix_len(old, new) == p
        e = _minimal_edit(old, new)
        if old == new:
            assert e is None
            continue
        assert apply_text_edits(old, [e]) == new
        s = 0
        while s < min(len(old), len(new)) - p and old[len(old) - 1 - s] == new[len(new) - 1 - s]:
            s += 1
        assert len(e.content) == len(new) - p - s  # nothing kept in common is replaced
