"""SARIF 2.1.0: the official schema (Draft 2020-12 with format checks), the GitHub rules the schema
cannot express, GitHub's fingerprint algorithm, and notebook locations."""
from __future__ import annotations

import json
import os
from urllib.parse import quote, unquote

import pytest

from conftest import ROOT, SHARED_SCHEMA, run_cli

DATA = os.path.join(ROOT, "tests", "data")


@pytest.fixture(scope="module")
def schema():
    with open(SHARED_SCHEMA, encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def fixtures_log():
    code, out, err = run_cli(["check", "fixtures", "--no-cache", "--output-format", "sarif"], cwd=ROOT)
    assert code == 1, err  # the fixtures are full of findings
    return json.loads(out)


def validate(schema, log) -> list:
    import rfc3986_validator  # noqa: F401  (format "uri"/"uri-reference" checks need it)
    from jsonschema import Draft202012Validator

    v = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return sorted(v.iter_errors(log), key=lambda e: list(e.absolute_path))


def test_format_checker_really_checks_uris(schema):
    """Guard: with rfc3986-validator installed a bad URI fails, so the checks below mean something."""
    from jsonschema import Draft202012Validator

    assert not Draft202012Validator.FORMAT_CHECKER.conforms("http://exa mple.com/ x", "uri")
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "informationUri": "not a uri"}},
                                          "results": []}]}
    assert validate(schema, bad)


def test_fixtures_sarif_validates(schema, fixtures_log):
    errors = validate(schema, fixtures_log)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:20])


def test_clean_run_validates_and_has_empty_results(schema, make_repo):
    repo = make_repo({"clean.py": "x = 1\n"})
    code, out, _ = run_cli(["check", "--no-cache", "--output-format", "sarif", "."], cwd=str(repo))
    assert code == 0
    log = json.loads(out)
    assert log["runs"][0]["results"] == []
    assert not validate(schema, log)


def test_github_profile(fixtures_log):
    log = fixtures_log
    assert log["$schema"] and log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    assert "results" in run and run["results"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "mllint" and driver["version"] and driver["informationUri"]
    rules = driver["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    from mllint import registry

    # every enabled rule (the default profile here is production), not only those with results
    everything = {r.meta.code for r in registry.all_rules()}
    default = {r.meta.code for r in registry.all_rules() if r.meta.profile in ("poc", "production")}
    assert default <= set(ids) <= everything
    for r in rules:
        assert 0 < len(r["shortDescription"]["text"]) <= 1024
        assert 0 < len(r["fullDescription"]["text"]) <= 1024
        assert r["help"]["text"].strip() and r["help"]["markdown"].strip()
        assert r["defaultConfiguration"]["level"] in ("note", "warning", "error")
        props = r["properties"]
        assert isinstance(props["checkpoint"], int) and not isinstance(props["checkpoint"], bool)
        assert (0 <= props["checkpoint"] <= 20) and (props["checkpoint"] >= 1 or r["id"] == "ML0000")
        assert props["checkpoint"] == int(r["id"][2:4])
        assert len(props["tags"]) <= 10 and all(isinstance(t, str) and t for t in props["tags"])
        assert props["precision"] in ("very-high", "high", "medium", "low")
        assert props["category"]
        if "security-severity" in props:
            assert 0 < float(props["security-severity"]) <= 10
    for res in run["results"]:
        assert res["ruleId"] in ids
        assert ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in ("note", "warning", "error")  # explicit on every result
        assert res["message"]["text"].strip()
        assert len(res["locations"]) == 1
        phys = res["locations"][0]["physicalLocation"]
        uri = phys["artifactLocation"]["uri"]
        assert uri and not uri.startswith(("/", "file:")) and "\\" not in uri
        assert phys["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert quote(unquote(uri), safe="/-_.~") == uri  # percent-encoded
        reg = phys["region"]
        assert reg["startLine"] >= 1 and reg["startColumn"] >= 1
        assert reg["endLine"] >= reg["startLine"]
        if reg["endLine"] == reg["startLine"]:
            assert reg["endColumn"] > reg["startColumn"]
        assert res["partialFingerprints"]["primaryLocationLineHash"]
        assert isinstance(res["properties"]["checkpoint"], int)
        assert os.path.isfile(os.path.join(ROOT, unquote(uri)))
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    assert run["invocations"][0]["executionSuccessful"] is True


def test_fingerprint_vectors():
    from mllint.report.fingerprint import line_hashes

    with open(os.path.join(DATA, "fingerprint-vectors.json"), encoding="utf-8") as fh:
        vectors = json.load(fh)["vectors"]
    assert len(vectors) >= 3
    for v in vectors:
        assert line_hashes(v["input"]) == v["hashes"], repr(v["input"])


def test_result_fingerprint_is_the_line_hash(make_repo):
    from mllint.report.fingerprint import line_hashes

    text = "import os\n\nfrom sklearn.model_selection import train_test_split\n\na, b = train_test_split([1, 2])\n"
    repo = make_repo({"train.py": text})
    _, out, _ = run_cli(["check", "--no-cache", "--output-format", "sarif", "."], cwd=str(repo))
    res = json.loads(out)["runs"][0]["results"][0]
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    assert res["partialFingerprints"]["primaryLocationLineHash"] == line_hashes(text)[4]


def test_uris_are_percent_encoded(schema, make_repo):
    repo = make_repo({"my dir/tr%ain ü.py": "from sklearn.model_selection import train_test_split\n"
                                            "a, b = train_test_split([1, 2])\n"})
    _, out, _ = run_cli(["check", "--no-cache", "--output-format", "sarif", "."], cwd=str(repo))
    log = json.loads(out)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20dir/tr%25ain%20%C3%BC.py"
    assert not validate(schema, log)


def test_notebook_results_point_at_raw_ipynb_line(make_repo):
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["import numpy as np\n", "%matplotlib inline\n",
                    "from sklearn.model_selection import train_test_split\n",
                    "a, b = train_test_split(np.arange(10))"]},
    ]
    raw = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}, indent=1)
    repo = make_repo({"nb.ipynb": raw})
    _, out, _ = run_cli(["check", "--no-cache", "--output-format", "sarif", "."], cwd=str(repo))
    res = json.loads(out)["runs"][0]["results"][0]
    region = res["locations"][0]["physicalLocation"]["region"]
    raw_lines = raw.splitlines()
    line = region["startLine"]
    assert '"a, b = train_test_split(np.arange(10))"' in raw_lines[line - 1]
    # the column points at `train_test_split` inside the JSON string
    assert raw_lines[line - 1][region["startColumn"] - 1:].startswith("train_test_split(")
    assert res["properties"]["cell"] == 2 and res["properties"]["cellLine"] == 4
    assert "cell 2" in res["message"]["text"]


def test_notifications_and_rule_for_unreadable(schema, make_repo):
    repo = make_repo({"bad.py": "def (:\n", "ok.py": "x = 1\n"})
    code, out, _ = run_cli(["check", "--no-cache", "--output-format", "sarif", "."], cwd=str(repo))
    assert code == 1
    log = json.loads(out)
    run = log["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["ML0000"]
    assert run["results"][0]["level"] == "error"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == 1 and notes[0]["level"] == "error" and notes[0]["descriptor"]["id"] == "ML0000"
    assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bad.py"
    assert not validate(schema, log)
