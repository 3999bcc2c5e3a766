import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
SHARED_SCHEMA = os.path.join(ROOT, "tests", "data", "sarif-schema-2.1.0.json")


def pytest_addoption(parser):
    parser.addoption("--update-snapshots", action="store_true", default=False,
                     help="rewrite tests/snapshots/*.json from the current findings")


@pytest.fixture
def repo_root():
    return ROOT


@pytest.fixture
def make_repo(tmp_path):
    """Write a dict of {relative path: text or bytes} into a fresh directory with a .git marker."""

    def _make(files: dict, git: bool = True):
        root = tmp_path / "repo"
        root.mkdir(exist_ok=True)
        if git:
            (root / ".git").mkdir(exist_ok=True)
        for rel, content in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content, encoding="utf-8")
        return root

    return _make


def run_cli(args, cwd=None, input=None):
    """Run the real CLI in-process with click's runner -> (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from mllint.cli import main

    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        res = runner.invoke(main, args, input=input, catch_exceptions=False)
    except SystemExit as exc:  # pragma: no cover
        return exc.code, "", ""
    finally:
        os.chdir(old)
    return res.exit_code, res.stdout, res.stderr
