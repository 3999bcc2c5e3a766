"""Baselines: --write-baseline records every finding, --baseline reports only new ones, matched by
fingerprint (moved lines stay matched, duplicates are counted)."""
from __future__ import annotations

import json
import textwrap

from conftest import run_cli

TRAIN = textwrap.dedent("""\
    from sklearn.model_selection import ShuffleSplit, train_test_split


    def split(X, y):
        a = train_test_split(X, y, test_size=0.2)
        return a


    def split_again(X, y):
        a = train_test_split(X, y, test_size=0.2)
        return a
""")


def _concise(root, *args):
    code, out, err = run_cli(["check", "--no-cache", "--output-format", "concise", *args], cwd=root)
    return code, [l for l in out.splitlines() if ": ML" in l], out + err


def test_write_then_apply(make_repo):
    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": TRAIN})
    code, lines, out = _concise(root, "--write-baseline", ".mllint-baseline.json")
    assert code == 1 and len(lines) == 2, out  # writing still reports everything
    data = json.loads((root / ".mllint-baseline.json").read_text())
    assert data["version"] == 1 and data["tool"] == "mllint"
    # two identical lines in different functions: one fingerprint, counted twice
    assert [(e["code"], e["path"], e["count"]) for e in data["findings"]] == [("ML0301", "train.py", 2)]
    code, lines, out = _concise(root, "--baseline", ".mllint-baseline.json")
    assert code == 0 and lines == [], out
    assert "All checks passed" in out or "Found 0" in out or out.strip() == "" or "No " in out, out


def test_moved_lines_stay_matched_and_new_findings_reported(make_repo):
    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": TRAIN})
    _concise(root, "--write-baseline", "base.json")
    before = json.loads((root / "base.json").read_text())["findings"][0]["fingerprint"]
    # unrelated lines above both findings; a third copy of the same finding; a different new one
    text = "import os\nimport sys\n\n# a comment\n" + TRAIN + textwrap.dedent("""\


        def split_three(X, y):
            a = train_test_split(X, y, test_size=0.2)
            return ShuffleSplit(n_splits=2), a
    """)
    (root / "train.py").write_text(text)
    code, lines, out = _concise(root, "--baseline", "base.json")
    assert code == 1, out
    # the two baselined copies moved by 4 lines and stay matched; the third copy and the
    # ShuffleSplit are new (the first two in report order are absorbed by the count)
    assert len(lines) == 2, out
    assert any("ShuffleSplit" in l for l in lines), out
    assert any(l.startswith("train.py:19:") for l in lines), out
    _concise(root, "--write-baseline", "base2.json")
    after = {e["fingerprint"]: e["count"] for e in json.loads((root / "base2.json").read_text())["findings"]}
    assert after[before] == 3


def test_fingerprint_matches_sarif_semantic_fingerprint(make_repo):
    from mllint.baseline import fingerprints
    from mllint.config import load_settings
    from mllint.engine import scan
    from mllint.report.sarif import build_log

    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": TRAIN})
    settings = load_settings([str(root)], str(root))
    res = scan([str(root)], settings)
    fps = [fp for fp, _ in fingerprints(res)]
    log = build_log(res)
    assert fps == [r["partialFingerprints"]["mllint/v1"] for r in log["runs"][0]["results"]]


def test_whitespace_changes_on_the_line_keep_the_match(make_repo):
    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": TRAIN})
    _concise(root, "--write-baseline", "b.json")
    (root / "train.py").write_text(TRAIN.replace("a = train_test_split(X, y, test_size=0.2)",
                                                 "a = train_test_split(X,  y,   test_size=0.2)  "))
    code, lines, out = _concise(root, "--baseline", "b.json")
    assert code == 0 and not lines, out


def test_missing_or_bad_baseline_is_a_usage_error(make_repo):
    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": TRAIN, "bad.json": "[1, 2]"})
    code, _, out = _concise(root, "--baseline", "nope.json")
    assert code == 2 and "does not exist" in out
    code, _, out = _concise(root, "--baseline", "bad.json")
    assert code == 2 and "not an mllint baseline" in out


def test_filter_new_does_not_modify_result(make_repo):
    from collections import Counter

    from mllint.baseline import filter_new, fingerprints
    from mllint.config import load_settings
    from mllint.engine import scan

    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": TRAIN})
    res = scan([str(root)], load_settings([str(root)], str(root)))
    fp = fingerprints(res)[0][0]
    new, matched = filter_new(res, Counter({fp: 1}))
    assert matched == 1 and len(new) == 1 and len(res.findings) == 2
