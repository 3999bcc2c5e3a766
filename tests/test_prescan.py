"""The serving pre-scan only skips work: findings are identical with and without it."""
import os

from mllint.config import load_settings
from mllint.discovery import discover
from mllint.engine import module_names, scan
from mllint.prescan import serving_candidates


def _findings(path, root, monkeypatch, threshold):
    import mllint.engine as engine

    monkeypatch.setattr(engine, "PRESCAN_MIN_FILES", threshold)
    s = load_settings([path], root)
    s.jobs = 1
    s.profile = "strict"
    res = scan([path], s)
    return sorted((f.code, f.location.path, f.location.line, f.location.col, f.message) for f in res.findings)


def test_prescan_does_not_change_findings(repo_root, monkeypatch):
    path = os.path.join(repo_root, "fixtures")
    without = _findings(path, repo_root, monkeypatch, 10 ** 9)
    with_prescan = _findings(path, repo_root, monkeypatch, 1)
    assert without == with_prescan
    assert any(code in ("ML0701", "ML1301", "ML0902") for code, *_ in without)


def test_serving_candidates_follow_imports(make_repo):
    root = make_repo({
        "app/api.py": "from fastapi import FastAPI\nfrom app import helpers\nfrom .models import load\n",
        "app/__init__.py": "",
        "app/helpers.py": "import app.deep.util\n",
        "app/deep/__init__.py": "",
        "app/deep/util.py": "x = 1\n",
        "app/models.py": "def load():\n    pass\n",
        "train/fit.py": "import numpy\n",
        "lambda_fn.py": "def handler(event, context):\n    return 1\n",
    })
    disc = discover([str(root)], str(root))
    code = [f for f in disc.files if f.kind == "python"]
    mods = module_names([f.path for f in disc.files], disc.inventory)
    got = serving_candidates(code, mods, lambda df: open(df.abspath, encoding="utf-8").read())
    assert {"app/api.py", "app/helpers.py", "app/deep/util.py", "app/models.py", "lambda_fn.py"} <= got
    assert "train/fit.py" not in got
