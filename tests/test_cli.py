"""The command line: every `check` flag, exit codes, `rule`/`rules`, `python -m mllint`."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli

SPLIT = (
    "from sklearn.model_selection import train_test_split\n"
    "\n"
    "X_train, X_test = train_test_split([1, 2, 3, 4])\n"
)
CLEAN = "import os\n\nprint(os.getcwd())\n"


@pytest.fixture
def repo(make_repo):
    return make_repo({
        "src/train.py": SPLIT,
        "src/clean.py": CLEAN,
        "notebooks/explore.ipynb": json.dumps({
            "nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                       "source": ["from sklearn.model_selection import train_test_split\n",
                                  "a, b = train_test_split([1, 2, 3])"]}]}, indent=1),
    })


def check(repo, *args):
    return run_cli(["check", "--no-cache", *args], cwd=str(repo))


def codes_in(out: str) -> list:
    return [json.loads(l)["code"] for l in out.splitlines() if l.strip()]


def paths_in(out: str) -> set:
    return {json.loads(l)["location"]["path"] for l in out.splitlines() if l.strip()}


# ------------------------------------------------------------------------------ exit codes
def test_findings_exit_1_and_ruff_style_lines(repo):
    code, out, err = check(repo, ".")
    assert code == 1, err
    assert "src/train.py:3:19: ML0301 [*] [split-without-random-state] `train_test_split`" in out
    assert "notebooks/explore.ipynb:cell 1:2:8: ML0301" in out
    assert "Found 2 errors." in out.splitlines()


def test_clean_exit_0(make_repo):
    repo = make_repo({"clean.py": CLEAN})
    code, out, err = check(repo, ".")
    assert code == 0, err
    assert "All checks passed!" in out


def test_default_path_is_cwd(repo):
    code, out, _ = check(repo)
    assert code == 1 and "src/train.py" in out


def test_missing_path_exit_2(repo):
    code, out, err = check(repo, "does-not-exist")
    assert code == 2
    assert "does-not-exist" in err and "Traceback" not in err


def test_exit_zero_keeps_findings_but_exits_0(repo):
    code, out, _ = check(repo, "--exit-zero", ".")
    assert code == 0 and "ML0301" in out


def test_exit_zero_still_2_on_usage_error(repo):
    code, _, err = check(repo, "--exit-zero", "--select", "NOPE999", ".")
    assert code == 2


def test_unknown_selector_exit_2(repo):
    for flag in ("--select", "--ignore", "--extend-select"):
        code, out, err = check(repo, flag, "ML9x", ".")
        assert code == 2, flag
        assert "ML9x" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_bad_config_key_exit_2_one_line_naming_key(make_repo):
    repo = make_repo({"train.py": SPLIT, "pyproject.toml": "[tool.mllint]\nselekt = ['ML03']\n"})
    code, out, err = run_cli(["check", "--no-cache", "."], cwd=str(repo))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "selekt" in lines[0]


@pytest.mark.parametrize("toml,key", [
    ("select = 'ML03'\nprofile = 'fast'\n", "profile"),
    ("select = [3]\n", "select"),
    ("respect-gitignore = 'yes'\n", "respect-gitignore"),
    ("per-file-ignores = ['x']\n", "per-file-ignores"),
    ("select = ['ML0399']\n", "select"),
])
def test_bad_config_values_exit_2(make_repo, toml, key):
    repo = make_repo({"train.py": SPLIT, "pyproject.toml": "[tool.mllint]\n" + toml})
    code, _, err = run_cli(["check", "--no-cache", "."], cwd=str(repo))
    assert code == 2
    assert key in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_invalid_toml_config_exit_2(make_repo):
    repo = make_repo({"train.py": SPLIT, "mllint.toml": "select = [\n"})
    code, _, err = run_cli(["check", "--no-cache", "."], cwd=str(repo))
    assert code == 2 and "mllint.toml" in err


# ------------------------------------------------------------------------------ selection
def test_select_code_prefix_name_all(repo):
    for sel in ("ML0301", "ML03", "split-without-random-state", "ALL", "all"):
        code, out, _ = check(repo, "--select", sel, "--output-format", "json-lines", ".")
        assert code == 1, sel
        assert set(codes_in(out)) == {"ML0301"}, sel
    code, out, _ = check(repo, "--select", "ML01", "--output-format", "json-lines", ".")
    assert code == 0 and out.strip() == ""


def test_ignore_and_extend_select(repo):
    code, out, _ = check(repo, "--ignore", "ML0301", ".")
    assert code == 0
    code, out, _ = check(repo, "--ignore", "split-without-random-state", ".")
    assert code == 0
    code, out, _ = check(repo, "--select", "ML01", "--extend-select", "ML0301", "--output-format", "json-lines", ".")
    assert code == 1 and set(codes_in(out)) == {"ML0301"}
    # comma-separated lists work like repeated flags
    code, out, _ = check(repo, "--select", "ML01,ML0301", "--output-format", "json-lines", ".")
    assert code == 1


def test_cli_overrides_config(make_repo):
    repo = make_repo({"train.py": SPLIT, "pyproject.toml": "[tool.mllint]\nignore = ['ML0301']\n"})
    code, _, _ = run_cli(["check", "--no-cache", "."], cwd=str(repo))
    assert code == 0
    code, out, _ = run_cli(["check", "--no-cache", "--select", "ML0301", "--isolated", "."], cwd=str(repo))
    assert code == 1 and "ML0301" in out


def test_config_file_flag_and_overrides(make_repo):
    repo = make_repo({"train.py": SPLIT, "alt.toml": "ignore = ['ML03']\n"})
    code, _, _ = run_cli(["check", "--no-cache", "--config", "alt.toml", "."], cwd=str(repo))
    assert code == 0
    code, _, _ = run_cli(["check", "--no-cache", "--config", "ignore = ['ML0301']", "."], cwd=str(repo))
    assert code == 0
    code, _, err = run_cli(["check", "--no-cache", "--config", "nonsense-without-equals", "."], cwd=str(repo))
    assert code == 2 and "nonsense-without-equals" in err


def test_isolated_ignores_config(make_repo):
    repo = make_repo({"train.py": SPLIT, "pyproject.toml": "[tool.mllint]\nignore = ['ML0301']\n"})
    code, out, _ = run_cli(["check", "--no-cache", "--isolated", "."], cwd=str(repo))
    assert code == 1 and "ML0301" in out


def test_per_file_ignores_flag(repo):
    code, out, _ = check(repo, "--per-file-ignores", "notebooks/*:ML03", "--output-format", "json-lines", ".")
    assert code == 1 and paths_in(out) == {"src/train.py"}
    code, _, err = check(repo, "--per-file-ignores", "no-colon-here", ".")
    assert code == 2


# ------------------------------------------------------------------------------ files
def test_exclude_and_extend_exclude(repo):
    code, out, _ = check(repo, "--exclude", "notebooks", "--output-format", "json-lines", ".")
    assert paths_in(out) == {"src/train.py"}
    code, out, _ = check(repo, "--extend-exclude", "src/train.py", "--output-format", "json-lines", ".")
    assert paths_in(out) == {"notebooks/explore.ipynb"}
    code, out, _ = check(repo, "--exclude", "*.ipynb,src", ".")
    assert code == 0


def test_explicit_file_is_checked_even_if_excluded_unless_force_exclude(repo):
    code, out, _ = check(repo, "--exclude", "src", "--output-format", "json-lines", "src/train.py")
    assert code == 1 and paths_in(out) == {"src/train.py"}
    code, out, _ = check(repo, "--exclude", "src", "--force-exclude", "--output-format", "json-lines", "src/train.py")
    assert code == 0 and out.strip() == ""


def test_gitignore_respected_and_overridable(repo):
    (repo / ".gitignore").write_text("notebooks/\n")
    code, out, _ = check(repo, "--output-format", "json-lines", ".")
    assert paths_in(out) == {"src/train.py"}
    code, out, _ = check(repo, "--no-respect-gitignore", "--output-format", "json-lines", ".")
    assert paths_in(out) == {"src/train.py", "notebooks/explore.ipynb"}


def test_show_files(repo):
    code, out, _ = check(repo, "--show-files", ".")
    assert code == 0
    listed = dict(l.split("\t") for l in out.strip().splitlines())
    assert listed["src/train.py"] == "python" and listed["notebooks/explore.ipynb"] == "notebook"


# ------------------------------------------------------------------------------ output
@pytest.mark.parametrize("fmt", ["full", "concise", "json", "json-lines", "sarif", "github"])
def test_every_output_format(repo, fmt):
    code, out, err = check(repo, "--output-format", fmt, ".")
    assert code == 1, err
    if fmt == "json":
        data = json.loads(out)
        assert {d["code"] for d in data} == {"ML0301"} and len(data) == 2
    elif fmt == "json-lines":
        assert len(out.strip().splitlines()) == 2
    elif fmt == "sarif":
        log = json.loads(out)
        assert len(log["runs"][0]["results"]) == 2
    elif fmt == "github":
        assert out.startswith("::warning title=mllint (ML0301)")
    elif fmt == "full":
        assert "X_train, X_test = train_test_split([1, 2, 3, 4])" in out  # code frame
        assert "^" in out
    else:
        assert "train_test_split([1" not in out


def test_output_format_env_var(repo, monkeypatch):
    monkeypatch.setenv("MLLINT_OUTPUT_FORMAT", "json-lines")
    code, out, _ = check(repo, ".")
    assert code == 1 and set(codes_in(out)) == {"ML0301"}


def test_output_file(repo):
    target = repo / "out" / "report.sarif"
    target.parent.mkdir()
    code, out, _ = check(repo, "--output-format", "sarif", "-o", str(target), ".")
    assert code == 1
    assert out.strip() == ""
    log = json.loads(target.read_text())
    assert log["version"] == "2.1.0"
    code, out, _ = check(repo, "--output-file", "plain.txt", ".")
    assert code == 1 and "ML0301" in (repo / "plain.txt").read_text()


def test_statistics(repo):
    code, out, _ = check(repo, "--statistics", ".")
    assert code == 1
    lines = out.splitlines()
    assert [c.strip() for c in lines[0].split("\t")] == ["2", "ML0301", "[*]", "split-without-random-state"]
    assert "src/train.py" not in out


def test_quiet_drops_summary_and_silent_prints_nothing(repo):
    code, out, _ = check(repo, "-q", "--output-format", "concise", ".")
    assert code == 1 and "ML0301" in out and "Found" not in out
    code, out, _ = check(repo, "-s", ".")
    assert code == 1 and out == ""
    code, out, _ = check(repo, "-q", "--ignore", "ML0301", ".")
    assert code == 0 and out.strip() == ""


def test_sarif_category(repo):
    code, out, _ = check(repo, "--output-format", "sarif", "--sarif-category", "ml/lint", ".")
    assert json.loads(out)["runs"][0]["automationDetails"]["id"] == "ml/lint"


# ------------------------------------------------------------------------------ rule docs
def test_rule_by_code_and_name():
    code, out, _ = run_cli(["rule", "ML0301"])
    assert code == 0
    assert out.startswith("# split-without-random-state (ML0301)")
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in out
    assert "Checkpoint 3" in out
    code2, out2, _ = run_cli(["rule", "split-without-random-state"])
    assert code2 == 0 and out2 == out
    code, out, _ = run_cli(["rule", "ml0101"])
    assert code == 0 and "s3-overwrite-deploy" in out


def test_rule_unknown_exit_2():
    code, _, err = run_cli(["rule", "ML9999"])
    assert code == 2 and "ML9999" in err


def test_rule_json():
    code, out, _ = run_cli(["rule", "ML0302", "--output-format", "json"])
    d = json.loads(out)
    assert d["code"] == "ML0302" and d["name"] == "unpinned-ml-dependency" and d["checkpoint"] == 3


def test_rules_text_json_md():
    from mllint import registry

    n = len(registry.all_rules())
    code, out, _ = run_cli(["rules"])
    assert code == 0 and len(out.strip().splitlines()) == n
    code, out, _ = run_cli(["rules", "--output-format", "json"])
    data = json.loads(out)
    assert len(data) == n
    by = {d["code"]: d for d in data}
    assert by["ML0101"]["name"] == "s3-overwrite-deploy" and by["ML0101"]["checkpoint"] == 1
    assert by["ML0301"]["level"] == "warning"
    assert [d["code"] for d in data] == sorted(by)
    code, out, _ = run_cli(["rules", "--output-format", "md"])
    lines = out.strip().splitlines()
    assert lines[0].startswith("| Code | Name | Checkpoint | Level")
    assert len(lines) == n + 2
    assert any(l.startswith("| ML0302 | `unpinned-ml-dependency` | 3 | warning") for l in lines)


def test_version():
    from mllint import __version__

    code, out, _ = run_cli(["--version"])
    assert code == 0 and __version__ in out


# ------------------------------------------------------------------------------ python -m
def test_python_dash_m(repo):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, "-m", "mllint", "check", "--no-cache", "--output-format", "concise", "."],
                       cwd=str(repo), capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 1, p.stderr
    assert "src/train.py:3:19: ML0301" in p.stdout
    p = subprocess.run([sys.executable, "-m", "mllint", "check", "--select", "BOGUS", "."],
                       cwd=str(repo), capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    p = subprocess.run([sys.executable, "-m", "mllint", "rules"], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0 and "ML0101" in p.stdout
