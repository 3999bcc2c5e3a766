"""Discovery: root finding, .gitignore/.ignore/.git/info/exclude, default and user excludes,
explicit files (pre-commit), --force-exclude, classification of every kind."""
from __future__ import annotations

import json
import os

import pytest

from conftest import run_cli
from mllint.discovery import classify, discover, find_root

PY = "x = 1\n"


def files_of(root, paths=None, **kw):
    d = discover([str(root / p) for p in (paths or ["."])], str(root), **kw)
    return sorted(f.path for f in d.files), d


def test_find_root(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "pkg" / "sub").mkdir(parents=True)
    assert find_root(str(tmp_path / "repo" / "pkg" / "sub")) == str(tmp_path / "repo")
    (tmp_path / "repo" / "pkg" / "pyproject.toml").write_text("[project]\nname='x'\n")
    assert find_root(str(tmp_path / "repo" / "pkg" / "sub")) == str(tmp_path / "repo" / "pkg")
    (tmp_path / "repo" / "pkg" / "sub" / "f.py").write_text(PY)
    assert find_root(str(tmp_path / "repo" / "pkg" / "sub" / "f.py")) == str(tmp_path / "repo" / "pkg")


def test_gitignore_nested_negation_and_ignore_files(make_repo):
    root = make_repo({
        ".gitignore": "*.gen.py\nscratch/\n!keep.gen.py\n",
        "a.py": PY, "b.gen.py": PY, "keep.gen.py": PY, "scratch/c.py": PY,
        "pkg/.gitignore": "local_*.py\n/only_here.py\n", "pkg/local_x.py": PY, "pkg/only_here.py": PY,
        "pkg/deeper/only_here.py": PY, "pkg/ok.py": PY,
        ".ignore": "notes/\n", "notes/n.py": PY,
        ".git/info/exclude": "private.py\n", "private.py": PY,
    })
    got, d = files_of(root)
    assert got == ["a.py", "keep.gen.py", "pkg/deeper/only_here.py", "pkg/ok.py"]
    got, _ = files_of(root, respect_gitignore=False)
    assert {"b.gen.py", "scratch/c.py", "pkg/local_x.py", "pkg/only_here.py", "notes/n.py", "private.py"} <= set(got)
    # inventory lists every non-ignored path, analysed or not
    assert ".gitignore" in d.inventory


def test_gitignore_of_parent_applies_when_scanning_a_subdirectory(make_repo):
    root = make_repo({".gitignore": "generated/\n", "src/generated/g.py": PY, "src/m.py": PY})
    got, _ = files_of(root, ["src"])
    assert got == ["src/m.py"]


def test_default_excludes(make_repo):
    names = [".venv", "venv", "node_modules", ".ipynb_checkpoints", "build", "dist", "__pycache__", ".tox",
             "site-packages", ".mypy_cache", "mlruns", "wandb", ".git"]
    files = {f"{n}/x.py": PY for n in names}
    files.update({"src/pkg.egg-info/x.py": PY, "src/ok.py": PY, "src/.venv/x.py": PY})
    root = make_repo(files)
    got, _ = files_of(root)
    assert got == ["src/ok.py"]


def test_user_excludes(make_repo):
    root = make_repo({"a/x.py": PY, "b/y.py": PY, "c/z.py": PY, "c/keep.py": PY, "d/e/f.py": PY})
    got, _ = files_of(root, excludes=["a", "c/z.py", "d/*"])
    assert got == ["b/y.py", "c/keep.py"]
    got, _ = files_of(root, excludes=["*.py"])
    assert got == []


def test_explicit_files_load_project_but_report_only_them(make_repo):
    root = make_repo({"a.py": PY, "b.py": PY, "sub/c.py": PY})
    got, d = files_of(root, ["a.py"])
    assert got == ["a.py", "b.py", "sub/c.py"]  # the whole project is loaded for cross-file rules
    assert d.requested == {"a.py"}


def test_explicit_excluded_file_and_force_exclude(make_repo):
    root = make_repo({".gitignore": "ignored.py\n", "ignored.py": PY, "build/gen.py": PY, "vendor/v.py": PY, "a.py": PY})
    for rel, kw in (("ignored.py", {}), ("build/gen.py", {}), ("vendor/v.py", {"excludes": ["vendor"]})):
        got, d = files_of(root, [rel], **kw)
        assert rel in got and d.requested == {rel}, rel
        got, d = files_of(root, [rel], force_exclude=True, **kw)
        assert rel not in got and d.requested == set(), rel


def test_force_exclude_via_cli_reports_nothing(make_repo):
    root = make_repo({"build/t.py": "from sklearn.model_selection import train_test_split\ntrain_test_split([1])\n"})
    code, out, _ = run_cli(["check", "--no-cache", "--output-format", "json", "build/t.py"], cwd=str(root))
    assert code == 1 and len(json.loads(out)) == 1
    code, out, _ = run_cli(["check", "--no-cache", "--force-exclude", "--output-format", "json", "build/t.py"],
                           cwd=str(root))
    assert code == 0 and json.loads(out) == []


def test_symlinked_directory_is_not_followed(make_repo):
    root = make_repo({"src/a.py": PY})
    os.symlink(str(root / "src"), str(root / "src" / "again"))
    got, _ = files_of(root)
    assert got == ["src/a.py"]


@pytest.mark.parametrize("path,kind", [
    ("train.py", "python"), ("stubs/x.pyi", "python"), ("nb/Explore.ipynb", "notebook"),
    ("Dockerfile", "dockerfile"), ("docker/Dockerfile.serve", "dockerfile"), ("api.dockerfile", "dockerfile"),
    ("requirements.txt", "requirements"), ("requirements-dev.txt", "requirements"),
    ("requirements/base.txt", "requirements"), ("constraints.txt", "requirements"),
    ("pyproject.toml", "pyproject"), ("MLproject", "mlproject"),
    (".github/workflows/ci.yml", "github-workflow"), (".github/workflows/deploy.yaml", "github-workflow"),
    (".gitlab-ci.yml", "gitlab-ci"), ("dvc.yaml", "dvc"), ("dvc.lock", "dvc-lock"),
    ("environment.yml", "conda-env"), ("params.yaml", "params"), ("conf/model/xgb.yaml", "params"),
    ("k8s/deploy.yaml", "yaml"), ("scripts/run.sh", "shell"), ("README.md", "markdown"),
    ("notes.txt", None), ("model.pkl", None), ("poetry.lock", None), ("data.csv", None),
])
def test_classify(path, kind):
    assert classify(path) == kind


def test_unreadable_directory_entries_do_not_break_discovery(make_repo):
    root = make_repo({"a.py": PY})
    os.symlink(str(root / "missing"), str(root / "dangling.py"))
    got, _ = files_of(root)
    assert got == ["a.py", "dangling.py"]  # listed; reading it later becomes ML0000


def test_gitignore_prefilter_decides_like_the_full_match():
    """The one-regex test of "does any ignoring pattern match" never changes a decision: for every
    path it passes, pathspec's full (last-match-wins, negations) evaluation gives the answer."""
    import pathspec

    from mllint.discovery import _any_include

    lines = ["*.pyc", "build/", "!keep.pyc", "docs/**/x", "/root_only.py", "data/*", "!data/keep/",
             "*.egg-info/", "# comment", "", "logs", "!logs/important.log", "[Tt]emp*/", "a?c.txt"]
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    prefilter = _any_include(spec)
    assert prefilter is not None
    paths = ["x.pyc", "src/x.pyc", "keep.pyc", "src/keep.pyc", "build/", "src/build/", "build.py",
             "docs/a/b/x", "docs/x", "root_only.py", "src/root_only.py", "data/f.csv", "data/keep/",
             "data/keep/f.csv", "pkg.egg-info/", "logs", "logs/", "logs/important.log", "Temp1/", "temp/",
             "abc.txt", "abbc.txt", "src/main.py", "README.md"]
    decided_by_prefilter = 0
    for p in paths:
        if prefilter.match(p) is None:
            decided_by_prefilter += 1
            assert not spec.match_file(p), p
    assert decided_by_prefilter >= 5  # the prefilter does settle paths, not only pass them on
    # a spec with only negations ignores nothing, and the prefilter says so
    only_neg = pathspec.GitIgnoreSpec.from_lines(["!x.py"])
    assert _any_include(only_neg).match("x.py") is None and not only_neg.match_file("x.py")


def test_a_symlink_to_an_analysed_file_is_not_analysed_twice(make_repo, tmp_path):
    """``examples/x.py -> ../doc/x.py`` (alibi-detect links its example notebooks): the file is
    analysed under its own path only. A link to a file outside the tree, or to an excluded one, is
    analysed under the link's path."""
    root = make_repo({"doc/demo.py": "x = 1\n", "build/gen.py": "y = 2\n", ".gitignore": "build/\n"})
    outside = tmp_path / "outside.py"
    outside.write_text("z = 3\n")
    (root / "examples").mkdir()
    os.symlink("../doc/demo.py", root / "examples" / "demo.py")
    os.symlink(str(outside), root / "examples" / "outside.py")
    os.symlink("../build/gen.py", root / "examples" / "gen.py")
    disc = discover([str(root)], str(root))
    assert sorted(f.path for f in disc.files if f.kind == "python") == [
        "doc/demo.py", "examples/gen.py", "examples/outside.py"]
    assert "examples/demo.py" in disc.inventory  # still present for rules that look for files
