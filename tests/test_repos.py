"""Realistic sample repositories under fixtures/repos/ run every rule against JSON snapshots in
tests/snapshots/.  After an intended change, refresh with `pytest tests/test_repos.py --update-snapshots`
and review the diff like code."""
import json
import os

import pytest

from mllint.config import load_settings
from mllint.engine import scan

from conftest import FIXTURES, ROOT

REPOS = sorted(d for d in os.listdir(os.path.join(FIXTURES, "repos"))
               if os.path.isdir(os.path.join(FIXTURES, "repos", d)))
SNAPSHOTS = os.path.join(ROOT, "tests", "snapshots")


def findings_of(repo: str) -> list:
    path = os.path.join(FIXTURES, "repos", repo)
    s = load_settings([path], ROOT)
    s.select = ["ALL"]
    s.profile = "strict"
    s.jobs = 1
    res = scan([path], s)
    assert not [n for n in res.notifications if n.descriptor == "internal-error"], res.notifications
    base = f"fixtures/repos/{repo}/"
    return sorted([{"code": f.code, "path": f.location.path[len(base):] if f.location.path.startswith(base) else f.location.path,
                    "line": f.location.line, "cell": f.location.cell, "message": f.message} for f in res.findings],
                  key=lambda d: (d["path"], d["line"], d["code"], d["message"]))


@pytest.mark.parametrize("repo", REPOS)
def test_repo_snapshot(repo, request):
    got = findings_of(repo)
    snap = os.path.join(SNAPSHOTS, f"{repo}.json")
    if request.config.getoption("--update-snapshots"):
        os.makedirs(SNAPSHOTS, exist_ok=True)
        with open(snap, "w", encoding="utf-8") as fh:
            json.dump(got, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
    assert os.path.exists(snap), f"no snapshot for {repo}: run pytest tests/test_repos.py --update-snapshots"
    with open(snap, encoding="utf-8") as fh:
        expected = json.load(fh)
    assert got == expected
    assert got, "a sample repository should demonstrate findings"
