"""pre-commit integration: the manifest validates, the real `pre-commit try-repo` runs the hook in a
temporary git repository, and when only changed files are passed the project is still loaded as a
whole while findings are limited to those files.

`test_try_repo` is marked `precommit` (slow: pre-commit builds a virtualenv and pip-installs this
repository from the package index, ~15-40 s).  It is NOT skipped: it runs in CI with the rest of the
suite; deselect it locally with `-m "not precommit"`.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

BAD = textwrap.dedent("""\
    from sklearn.model_selection import train_test_split


    def split(X, y):
        return train_test_split(X, y, test_size=0.2)
""")
GOOD = textwrap.dedent("""\
    from sklearn.model_selection import train_test_split

    from config import SEED


    def split(X, y):
        return train_test_split(X, y, test_size=0.2, random_state=SEED)
""")
# cross-file: the loader is on the request path only because a handler in ANOTHER module calls it
LOADING = textwrap.dedent("""\
    import joblib


    def get_model():
        return joblib.load("model.joblib")
""")
HANDLER = textwrap.dedent("""\
    from fastapi import FastAPI

    from app.loading import get_model

    app = FastAPI()


    @app.post("/predict")
    def predict(features: dict):
        model = get_model()
        return {"score": float(model.predict([[1]])[0])}
""")
# a file with a finding that is NOT passed: it must not be reported by the per-file hook
OTHER = textwrap.dedent("""\
    from sklearn.model_selection import ShuffleSplit

    CV = ShuffleSplit(n_splits=3)
""")


def _pre_commit() -> list:
    exe = shutil.which("pre-commit")
    return [exe] if exe else [sys.executable, "-m", "pre_commit"]


def _git(args, cwd):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com")
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


def test_validate_manifest():
    proc = subprocess.run([*_pre_commit(), "validate-manifest", os.path.join(ROOT, ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_manifest_hooks():
    import yaml

    with open(os.path.join(ROOT, ".pre-commit-hooks.yaml"), encoding="utf-8") as fh:
        hooks = {h["id"]: h for h in yaml.safe_load(fh)}
    per_file, repo = hooks["mllint"], hooks["mllint-repo"]
    assert per_file["entry"] == "mllint check --force-exclude"
    assert per_file["language"] == "python"
    assert per_file["types_or"] == ["python", "pyi", "jupyter", "yaml", "toml"]
    assert per_file["require_serial"] is True
    assert per_file["minimum_pre_commit_version"] == "2.9.2"
    files = re.compile(per_file["files"])
    for name in ("a.py", "pkg/m.pyi", "nb.ipynb", "dvc.yaml", ".github/workflows/ci.yml", "pyproject.toml",
                 "sub/pyproject.toml"):
        assert files.search(name), name
    for name in ("Pipfile", "uv.lock", "poetry.lock", "ruff.toml", "mllint.toml", ".clang-format", "x.pyc"):
        assert not files.search(name), name
    assert repo["pass_filenames"] is False and repo["always_run"] is True
    assert repo["entry"].startswith("mllint check")


def _project(make_repo):
    return make_repo({"src/train.py": BAD, "src/serve.py": GOOD, "src/config.py": "SEED = 7\n",
                      "src/cv.py": OTHER, "pyproject.toml": "[project]\nname = 'demo'\n"})


def test_only_named_files_whole_project_loaded(make_repo):
    """What pre-commit does: name only the changed files.  The project graph still holds every
    module; findings are limited to the named files."""
    from mllint.config import load_settings
    from mllint.engine import scan

    root = _project(make_repo)
    settings = load_settings([str(root / "src/serve.py")], str(root))
    settings.select = ["ML0301"]  # other rules may have opinions about these files; not the point here
    res = scan([str(root / "src/serve.py")], settings)
    assert set(res.project.summaries) >= {"src/train.py", "src/serve.py", "src/config.py", "src/cv.py"}
    assert res.findings == []
    res = scan([str(root / "src/train.py")], settings)
    assert [(f.code, f.path) for f in res.findings] == [("ML0301", "src/train.py")]
    assert "src/cv.py" in res.project.summaries
    # the whole repository (mllint-repo): everything is reported
    res = scan([str(root)], settings)
    assert sorted((f.code, f.path) for f in res.findings) == [("ML0301", "src/cv.py"), ("ML0301", "src/train.py")]


def _has_rule(code: str) -> bool:
    from mllint import registry

    return registry.lookup(code) is not None


def test_cross_file_rule_when_only_the_changed_file_is_named(make_repo):
    """pre-commit passes only app/loading.py: ML0901 (model loaded per request) still fires there,
    because the graph holds app/main.py, whose request handler calls the loader."""
    if not _has_rule("ML0901"):
        pytest.skip("ML0901 is not in this build")
    from mllint.config import load_settings
    from mllint.engine import scan

    root = make_repo({"app/__init__.py": "", "app/loading.py": LOADING, "app/main.py": HANDLER})
    settings = load_settings([str(root)], str(root))
    res = scan([str(root / "app/loading.py")], settings)
    hits = [f for f in res.findings if f.code == "ML0901"]
    assert [(f.path, f.location.line) for f in hits] == [("app/loading.py", 5)]
    assert "predict" in hits[0].message
    assert {f.path for f in res.findings} == {"app/loading.py"}
    # only the handler named: the finding lives in the other file and is not reported
    res = scan([str(root / "app/main.py")], settings)
    assert {f.path for f in res.findings} <= {"app/main.py"}
    assert not [f for f in res.findings if f.code == "ML0901"]


def test_only_named_files_cli(make_repo):
    from conftest import run_cli

    root = _project(make_repo)
    code, out, _ = run_cli(["check", "--select", "ML0301", "--force-exclude", "--output-format", "concise",
                               "src/serve.py"], cwd=root)
    assert code == 0, out
    code, out, _ = run_cli(["check", "--select", "ML0301", "--force-exclude", "--output-format", "concise",
                               "src/train.py", "src/serve.py"], cwd=root)
    assert code == 1 and "src/train.py:5:12: ML0301" in out and "cv.py" not in out


def test_force_exclude_drops_excluded_named_file(make_repo):
    from conftest import run_cli

    root = make_repo({"vendor/bad.py": BAD, "pyproject.toml": "[tool.mllint]\nextend-exclude = ['vendor']\n"})
    code, out, _ = run_cli(["check", "--select", "ML0301", "--force-exclude", "vendor/bad.py"], cwd=root)
    assert code == 0, out
    code, out, _ = run_cli(["check", "--select", "ML0301", "vendor/bad.py"], cwd=root)
    assert code == 1, out


@pytest.mark.precommit
def test_try_repo(tmp_path):
    """The real tool: `pre-commit try-repo <this repo> mllint --files ...` in a temporary git repo."""
    if not os.path.isdir(os.path.join(ROOT, ".git")):
        pytest.fail("this test needs the mllint git checkout (pre-commit clones it)")
    proj = tmp_path / "proj"
    (proj / "src").mkdir(parents=True)
    (proj / "src" / "train.py").write_text(BAD)
    (proj / "src" / "serve.py").write_text(GOOD)
    (proj / "src" / "config.py").write_text("SEED = 7\n")
    (proj / "src" / "cv.py").write_text(OTHER)
    # toml/yaml-tagged files mllint does not read: the hook's `files` keeps them away from it
    (proj / "ruff.toml").write_text("line-length = 100\n")
    (proj / "Pipfile").write_text("[packages]\nrequests = '*'\n")
    (proj / ".clang-format").write_text("BasedOnStyle: LLVM\n")
    (proj / "app").mkdir()
    (proj / "app" / "__init__.py").write_text("")
    (proj / "app" / "loading.py").write_text(LOADING)
    (proj / "app" / "main.py").write_text(HANDLER)
    _git(["init", "-q"], proj)
    _git(["add", "."], proj)
    _git(["commit", "-q", "-m", "init"], proj)
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pc-home"), PRE_COMMIT_COLOR="never",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com")
    env.pop("MLLINT_OUTPUT_FORMAT", None)
    # both hooks in one run (try-repo without a hook id runs the whole manifest): the per-file hook
    # reports the failing and the cross-file finding in the passed files only; the whole-repository
    # hook also reports src/cv.py, which was not passed
    cmd = [*_pre_commit(), "try-repo", ROOT, "--verbose", "--files", "src/train.py", "src/serve.py",
           "app/loading.py"]
    proc = subprocess.run(cmd, cwd=proj, capture_output=True, text=True, env=env, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "- hook id: mllint\n" in out and "- hook id: mllint-repo" in out, out
    per_file, whole = out.split("- hook id: mllint-repo", 1)
    assert "src/train.py:5:12: ML0301" in per_file, out
    reported = set(re.findall(r"(?m)^(\S+?):\d+:\d+: ML\d{4}", per_file))
    assert reported <= {"src/train.py", "app/loading.py"}, out
    if _has_rule("ML0901"):  # cross-file: the handler calling the loader is in a file not passed
        assert "app/loading.py:5:12: ML0901" in per_file, out
    assert "src/cv.py:3:6: ML0301" in whole and "src/train.py:5:12: ML0301" in whole, out
    # the clean file alone passes
    cmd = [*_pre_commit(), "try-repo", ROOT, "mllint", "--verbose", "--files", "src/serve.py", "src/config.py",
           "ruff.toml", "Pipfile", ".clang-format"]
    proc = subprocess.run(cmd, cwd=proj, capture_output=True, text=True, env=env, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Passed" in out, out
