"""Configuration: `[tool.mllint]` in the nearest pyproject.toml, `mllint.toml`/`.mllint.toml`,
`extend`, validation (exit 2 naming the key), CLI precedence, per-file ignores, excludes."""
from __future__ import annotations

import json

import pytest

from conftest import run_cli

SPLIT = "from sklearn.model_selection import train_test_split\na, b = train_test_split([1, 2, 3])\n"
S3 = "aws s3 cp model.pkl s3://bucket/models/model.pkl\n"


def found(repo, *args, cwd=None):
    code, out, err = run_cli(["check", "--no-cache", "--output-format", "json", *args], cwd=str(cwd or repo))
    assert code in (0, 1), err
    return sorted((f["location"]["path"], f["code"]) for f in json.loads(out))


def test_pyproject_select_and_ignore(make_repo):
    repo = make_repo({"t.py": SPLIT, "deploy.sh": S3, "pyproject.toml": "[tool.mllint]\nselect = ['ML01']\n"})
    assert found(repo, ".") == [("deploy.sh", "ML0101")]
    (repo / "pyproject.toml").write_text("[tool.mllint]\nignore = ['s3-overwrite-deploy']\n")
    assert found(repo, ".") == [("t.py", "ML0301")]
    (repo / "pyproject.toml").write_text("[tool.mllint]\nselect = ['ML01']\nextend-select = ['ML0301']\n")
    assert found(repo, ".") == [("deploy.sh", "ML0101"), ("t.py", "ML0301")]


def test_per_file_ignores(make_repo):
    repo = make_repo({"src/t.py": SPLIT, "notebooks/t.py": SPLIT, "scripts/deploy.sh": S3,
                      "pyproject.toml": "[tool.mllint.per-file-ignores]\n'notebooks/*' = ['ML03']\n"
                                        "'*.sh' = ['s3-overwrite-deploy']\n"})
    assert found(repo, ".") == [("src/t.py", "ML0301")]


def test_exclude_and_extend_exclude_in_config(make_repo):
    repo = make_repo({"src/t.py": SPLIT, "legacy/t.py": SPLIT, "gen/t.py": SPLIT,
                      "pyproject.toml": "[tool.mllint]\nexclude = ['legacy']\nextend-exclude = ['gen/*.py']\n"})
    assert found(repo, ".") == [("src/t.py", "ML0301")]
    # --exclude on the command line replaces the configured list, --extend-exclude adds
    assert found(repo, "--exclude", "gen", ".") == [("legacy/t.py", "ML0301"), ("src/t.py", "ML0301")]


def test_mllint_toml_and_precedence(make_repo):
    repo = make_repo({"t.py": SPLIT, "deploy.sh": S3,
                      "pyproject.toml": "[tool.mllint]\nselect = ['ML01']\n",
                      "mllint.toml": "select = ['ML03']\n"})
    assert found(repo, ".") == [("t.py", "ML0301")]  # mllint.toml beats pyproject.toml
    (repo / ".mllint.toml").write_text("select = ['ML01', 'ML03']\n")
    assert found(repo, ".") == [("deploy.sh", "ML0101"), ("t.py", "ML0301")]


def test_mllint_toml_with_tool_table(make_repo):
    repo = make_repo({"t.py": SPLIT, "mllint.toml": "[tool.mllint]\nignore = ['ML03']\n"})
    assert found(repo, ".") == []


def test_closest_config_wins_and_pyproject_without_table_is_skipped(make_repo):
    repo = make_repo({
        "pyproject.toml": "[tool.mllint]\nignore = ['ML0301']\n",
        "svc/pyproject.toml": "[project]\nname = 'svc'\n",  # no [tool.mllint]: the parent applies
        "svc/t.py": SPLIT,
        "lab/pyproject.toml": "[tool.mllint]\nselect = ['ALL']\n",
        "lab/t.py": SPLIT,
    })
    assert found(repo, "svc") == []
    # lab/ has its own pyproject.toml, so it is its own root: paths are relative to it
    assert found(repo, "lab") == [("t.py", "ML0301")]


def test_extend(make_repo):
    repo = make_repo({"t.py": SPLIT, "deploy.sh": S3, "base.toml": "select = ['ML01', 'ML03']\nignore = ['ML0101']\n",
                      "pyproject.toml": "[tool.mllint]\nextend = 'base.toml'\nignore = ['ML0301']\n"})
    # the extending file's keys win over the base's
    assert found(repo, ".") == [("deploy.sh", "ML0101")]


def test_cli_flags_override_config(make_repo):
    repo = make_repo({"t.py": SPLIT, "pyproject.toml": "[tool.mllint]\nselect = ['ML01']\n"})
    assert found(repo, ".") == []
    assert found(repo, "--select", "ML0301", ".") == [("t.py", "ML0301")]
    assert found(repo, "--config", "select = ['ML03']", ".") == [("t.py", "ML0301")]


def test_respect_gitignore_key(make_repo):
    repo = make_repo({"t.py": SPLIT, ".gitignore": "t.py\n", "pyproject.toml": "[tool.mllint]\nrespect-gitignore = false\n"})
    assert found(repo, ".") == [("t.py", "ML0301")]


@pytest.mark.parametrize("table,key", [
    ("bogus = 1", "bogus"),
    ("select = 'ML9999'", "select"),
    ("ignore = [1, 2]", "ignore"),
    ("extend-select = ['nope-rule']", "extend-select"),
    ("exclude = 3", "exclude"),
    ("per-file-ignores = {'x' = 'ML03'}", "per-file-ignores"),
    ("per-file-ignores = {'x' = ['ML7777']}", "per-file-ignores"),
    ("profile = 'max'", "profile"),
    ("jobs = -1", "jobs"),
    ("force-exclude = 'yes'", "force-exclude"),
    ("[tool.mllint.rules.ML7777]\nx = 1", "ML7777"),
    ("[tool.mllint.rules.ML0301]\nnot-an-option = 1", "not-an-option"),
])
def test_bad_config_exits_2_naming_the_key(make_repo, table, key):
    body = table if table.startswith("[") else "[tool.mllint]\n" + table
    repo = make_repo({"t.py": SPLIT, "pyproject.toml": body + "\n"})
    code, out, err = run_cli(["check", "--no-cache", "."], cwd=str(repo))
    assert code == 2
    assert key in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert out == ""


def test_bad_config_in_mllint_toml(make_repo):
    repo = make_repo({"t.py": SPLIT, "mllint.toml": "selectt = ['ML03']\n"})
    code, _, err = run_cli(["check", "--no-cache", "."], cwd=str(repo))
    assert code == 2 and "selectt" in err and "mllint.toml" in err


def test_load_settings_api(tmp_path):
    from mllint.config import ConfigError, load_settings

    (tmp_path / "pyproject.toml").write_text(
        "[tool.mllint]\nselect = ['ML03']\nextend-exclude = ['gen']\nprofile = 'strict'\njobs = 2\n"
        "[tool.mllint.per-file-ignores]\n'tests/*' = ['ALL']\n")
    s = load_settings([str(tmp_path)], str(tmp_path))
    assert s.select == ["ML03"] and s.extend_exclude == ["gen"] and s.profile == "strict" and s.jobs == 2
    assert s.per_file_ignores == {"tests/*": ["ALL"]}
    assert s.config_path == str(tmp_path / "pyproject.toml")
    s = load_settings([str(tmp_path)], str(tmp_path), isolated=True)
    assert s.select is None and s.config_path is None
    s = load_settings([str(tmp_path)], str(tmp_path), config=("ignore = ['ML0301']",))
    assert s.select == ["ML03"] and s.ignore == ["ML0301"]
    with pytest.raises(ConfigError, match="unknown key `nope`"):
        load_settings([str(tmp_path)], str(tmp_path), config=("nope = 1",))


def test_per_file_ignores_matching():
    from mllint.config import Settings, ignored_for_path

    s = Settings(root="/", per_file_ignores={"tests/*": ["ML03"], "*.ipynb": ["ML0301"], "conftest.py": ["ALL"]})
    assert "ML0301" in ignored_for_path(s, "tests/test_x.py")
    assert "ML0301" in ignored_for_path(s, "notebooks/a.ipynb")
    assert "ML0101" in ignored_for_path(s, "pkg/conftest.py")
    assert ignored_for_path(s, "src/train.py") == set()
