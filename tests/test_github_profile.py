"""GitHub code-scanning profile of the SARIF output: what GitHub ingests beyond the JSON schema
(the schema itself is validated in tests/test_sarif.py).

- the SARIF of the whole fixtures tree: results present, every ruleId in rules, <= 10 tags per
  rule, required texts present, one location with uri + region per result;
- `--sarif-category` sets automationDetails.id (and nothing sets it otherwise);
- <= 25,000 results: truncation by severity with a notification;
- fingerprints (primaryLocationLineHash and mllint/v1) stable when unrelated lines are added above;
- the example workflow runs the documented command and uploads with category mllint;
- optionally, Microsoft's sarif-multitool with GitHub's ingestion rules (runs when installed:
  MLLINT_SARIF_MULTITOOL or `sarif-multitool` on PATH; .ci/run installs it).
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import textwrap

import pytest

from conftest import ROOT, run_cli


@pytest.fixture(scope="module")
def fixtures_sarif():
    code, out, err = run_cli(["check", "fixtures", "--no-cache", "--output-format", "sarif", "--exit-zero"], cwd=ROOT)
    assert code == 0, err
    return json.loads(out)


def test_fixtures_profile(fixtures_sarif):
    log = fixtures_sarif
    assert log["version"] == "2.1.0" and log["$schema"]
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    assert "automationDetails" not in run  # the workflow's `category` must be able to apply
    driver = run["tool"]["driver"]
    assert driver["name"] == "mllint"
    rules = driver["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for r in rules:
        assert r["shortDescription"]["text"].strip() and len(r["shortDescription"]["text"]) <= 1024
        assert r["fullDescription"]["text"].strip() and len(r["fullDescription"]["text"]) <= 1024
        assert r["help"]["text"].strip()
        assert len(r.get("name", "")) <= 255
        tags = r["properties"]["tags"]
        assert 0 < len(tags) <= 10 and len(set(tags)) == len(tags)
        assert r["properties"]["problem.severity"] in ("error", "warning", "recommendation")
        assert r["defaultConfiguration"]["level"] in ("note", "warning", "error")
    results = run["results"]
    assert results, "the fixtures tree has findings"
    assert len(results) <= 25_000
    for res in results:
        assert res["ruleId"] in ids
        assert ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in ("note", "warning", "error")
        assert res["message"]["text"].strip()
        assert len(res["locations"]) >= 1
        phys = res["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"] and not phys["artifactLocation"]["uri"].startswith("/")
        assert phys["region"]["startLine"] >= 1 and phys["region"]["startColumn"] >= 1
        assert "mllint/v1" in res["partialFingerprints"]
    # every result on an existing line of a file gets GitHub's line hash
    from urllib.parse import unquote

    for res in results:
        loc = res["locations"][0]["physicalLocation"]
        try:
            with open(os.path.join(ROOT, unquote(loc["artifactLocation"]["uri"])), "rb") as fh:
                n_lines = fh.read().decode("utf-8", errors="replace").count("\n") + 1
        except OSError:
            continue
        if loc["region"]["startLine"] < n_lines:
            assert "primaryLocationLineHash" in res["partialFingerprints"], res
    assert {r["ruleId"] for r in results} >= {"ML0301", "ML0000"}


def test_sarif_category_sets_automation_details():
    code, out, _ = run_cli(["check", "fixtures/rules/split_without_random_state", "--no-cache", "--output-format",
                            "sarif", "--exit-zero", "--sarif-category", "mllint/training"], cwd=ROOT)
    assert code == 0
    assert json.loads(out)["runs"][0]["automationDetails"] == {"id": "mllint/training"}


def test_sarif_category_from_config(make_repo):
    root = make_repo({"pyproject.toml": "[tool.mllint]\nsarif-category = 'ml/'\n",
                      "a.py": "from sklearn.model_selection import train_test_split\ntrain_test_split(1, 2)\n"})
    code, out, _ = run_cli(["check", "--no-cache", "--output-format", "sarif"], cwd=root)
    assert code == 1
    assert json.loads(out)["runs"][0]["automationDetails"]["id"] == "ml/"


# ------------------------------------------------------------------------------ truncation
def _synthetic(n_note: int, n_warning: int, n_error: int):
    from mllint import registry
    from mllint.engine import ScanResult
    from mllint.finding import Finding, Location

    rule = registry.lookup("ML0301")
    findings = []
    i = 0
    for level, n in (("note", n_note), ("warning", n_warning), ("error", n_error)):
        for _ in range(n):
            i += 1
            findings.append(Finding(code="ML0301", name=rule.name, message=f"finding {i} ({level})", level=level,
                                    location=Location(f"pkg/m{i % 97}.py", i, 1, i, 5), checkpoint=3))
    findings.sort(key=Finding.sort_key)
    return ScanResult(root="/nonexistent-root", findings=findings, notifications=[], rules=[rule], files=[],
                      project=None, timings={})


def test_truncation_keeps_most_severe_with_notification():
    from mllint.report.sarif import build_log

    log = build_log(_synthetic(30, 20, 10), max_results=25)
    run = log["runs"][0]
    levels = [r["level"] for r in run["results"]]
    assert len(levels) == 25
    assert levels.count("error") == 10 and levels.count("warning") == 15 and levels.count("note") == 0
    notes = run["invocations"][0]["toolExecutionNotifications"]
    trunc = [n for n in notes if n["descriptor"]["id"] == "results-truncated"]
    assert len(trunc) == 1 and "35" in trunc[0]["message"]["text"]
    assert trunc[0]["level"] == "warning"
    # the kept results are still in report order
    uris = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]]
    assert uris == sorted(uris)


def test_default_limit_is_githubs_25000():
    from mllint.report import sarif

    assert sarif.MAX_RESULTS == 25_000
    log = sarif.build_log(_synthetic(25_000, 0, 3))
    run = log["runs"][0]
    assert len(run["results"]) == 25_000
    assert sum(r["level"] == "error" for r in run["results"]) == 3
    assert any(n["descriptor"]["id"] == "results-truncated" for n in run["invocations"][0]["toolExecutionNotifications"])


def test_no_truncation_notification_under_the_limit():
    from mllint.report.sarif import build_log

    run = build_log(_synthetic(3, 2, 1), max_results=6)["runs"][0]
    assert len(run["results"]) == 6
    assert not any(n["descriptor"]["id"] == "results-truncated"
                   for n in run["invocations"][0].get("toolExecutionNotifications", []))


# ------------------------------------------------------------------------------ fingerprints
TRAIN = textwrap.dedent("""\
    from sklearn.model_selection import train_test_split


    def split(X, y):
        return train_test_split(X, y, test_size=0.2)
""")


def _fps(root):
    code, out, _ = run_cli(["check", "--no-cache", "--output-format", "sarif"], cwd=root)
    assert code == 1
    res = json.loads(out)["runs"][0]["results"]
    return [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"], r["partialFingerprints"])
            for r in res]


def test_fingerprints_stable_when_lines_added_above(make_repo):
    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "src/train.py": TRAIN})
    [(code, line, before)] = _fps(root)
    assert code == "ML0301" and line == 5
    assert set(before) == {"primaryLocationLineHash", "mllint/v1"}
    (root / "src" / "train.py").write_text(
        '"""Training helpers."""\nimport os\nimport logging\n\nLOG = logging.getLogger(__name__)\n\n' + TRAIN)
    [(code, line, after)] = _fps(root)
    assert line == 11
    assert after == before
    # editing the finding's line itself changes the semantic key
    (root / "src" / "train.py").write_text(TRAIN.replace("test_size=0.2", "test_size=0.3"))
    [(_, _, changed)] = _fps(root)
    assert changed["mllint/v1"] != before["mllint/v1"]
    assert changed["primaryLocationLineHash"] != before["primaryLocationLineHash"]


# ------------------------------------------------------------------------------ the workflow
def test_example_workflow():
    import yaml

    with open(os.path.join(ROOT, ".github", "workflows", "mllint.yml"), encoding="utf-8") as fh:
        wf = yaml.safe_load(fh)
    job = wf["jobs"]["mllint"]
    assert job["permissions"] == {"contents": "read", "actions": "read", "security-events": "write"}
    steps = job["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    cmd = next(r for r in runs if r.startswith("mllint check"))
    assert cmd == "mllint check fixtures --output-format sarif -o mllint.sarif --exit-zero"
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["uses"].endswith("@v4")
    assert upload["with"] == {"sarif_file": "mllint.sarif", "category": "mllint"}
    assert steps.index(upload) > [i for i, s in enumerate(steps) if s.get("run") == cmd][0]


def test_workflow_command_runs(tmp_path):
    """The workflow's mllint step, as written, exits 0 and writes a SARIF file with results."""
    import yaml

    with open(os.path.join(ROOT, ".github", "workflows", "mllint.yml"), encoding="utf-8") as fh:
        steps = yaml.safe_load(fh)["jobs"]["mllint"]["steps"]
    cmd = next(s["run"] for s in steps if s.get("run", "").startswith("mllint check"))
    args = shlex.split(cmd)[1:]
    out_file = tmp_path / "mllint.sarif"
    args[args.index("-o") + 1] = str(out_file)
    code, _, err = run_cli(args + ["--no-cache"], cwd=ROOT)
    assert code == 0, err
    log = json.loads(out_file.read_text(encoding="utf-8"))
    assert log["runs"][0]["results"]


# ------------------------------------------------------------------------------ sarif-multitool
def _multitool():
    exe = os.environ.get("MLLINT_SARIF_MULTITOOL")
    if exe and os.path.exists(exe):
        return [exe]
    exe = shutil.which("sarif-multitool")
    if exe:
        return [exe]
    return None


def _validate(tool, sarif_path, out_path):
    # --rich-return-code last: followed by another argument it takes it as its value and fails.
    # The exit code stays 0 when problems are found, so the verdict is read from the output log.
    # (a .NET binary: invariant globalization so that a machine without libicu can run it)
    env = dict(os.environ, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1", DOTNET_CLI_TELEMETRY_OPTOUT="1")
    proc = subprocess.run([*tool, "validate", "--rule-kind", "Gh", "-o", str(out_path), str(sarif_path),
                           "--rich-return-code"], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out_path, encoding="utf-8") as fh:
        return json.load(fh)["runs"][0]["results"], proc.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="sarif-multitool needs node")
def test_sarif_multitool_github_rules(fixtures_sarif, tmp_path):
    tool = _multitool()
    if tool is None:
        pytest.skip("@microsoft/sarif-multitool is not installed (.ci/run installs it)")
    src = tmp_path / "mllint.sarif"
    src.write_text(json.dumps(fixtures_sarif), encoding="utf-8")
    problems, out = _validate(tool, src, tmp_path / "report.sarif")
    assert [p for p in problems if p.get("level", "warning") in ("error", "warning")] == [], out
    # and it does catch what GitHub rejects, so an empty report means something
    broken = json.loads(json.dumps(fixtures_sarif))
    broken["runs"][0]["results"][0]["locations"] = []
    src2 = tmp_path / "broken.sarif"
    src2.write_text(json.dumps(broken), encoding="utf-8")
    problems, out = _validate(tool, src2, tmp_path / "report2.sarif")
    assert any(p["ruleId"].startswith("GH") for p in problems), out
