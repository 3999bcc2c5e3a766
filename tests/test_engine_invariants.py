"""Invariants the engine's speed relies on: a scan leaves no cyclic garbage (so the collector can
stay paused), and serving data flow read again at project time is only used for unchanged
files."""
import gc
import shutil
from pathlib import Path

from mllint import engine
from mllint.config import load_settings
from mllint.discovery import find_root

REPO = Path(__file__).resolve().parents[1] / "fixtures" / "repos" / "churn-platform"


def _settings(path):
    root = find_root(str(path))
    st = load_settings([str(path)], root)
    st.jobs = 1
    return st


def test_scan_leaves_no_cyclic_garbage():
    st = _settings(REPO)
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        engine._scan([str(REPO)], st, keep_text=False, overlays=None, use_cache=False, result_cache=False)  # warm imports
        gc.collect()
        result = engine._scan([str(REPO)], st, keep_text=False, overlays=None, use_cache=False, result_cache=False)
        assert result.findings
        del result
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


def test_scan_restores_the_collector():
    st = _settings(REPO)
    assert gc.isenabled()
    engine.scan([str(REPO)], st)
    assert gc.isenabled()
    gc.disable()
    try:
        engine.scan([str(REPO)], st)
        assert not gc.isenabled()
    finally:
        gc.enable()


SERVICE = '''\
import joblib
from fastapi import FastAPI, Request

app = FastAPI()
model = joblib.load("model.joblib")


@app.post("/predict")
async def predict(request: Request):
    body = await request.json()
    return {"y": model.predict([body["x"]]).tolist()}
'''


def test_request_path_flow_is_read_again_at_project_time(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='svc'\n")
    (tmp_path / "app.py").write_text(SERVICE)
    st = _settings(tmp_path)
    codes = [f.code for f in engine.scan([str(tmp_path)], st).findings]
    # ML0701: raw request JSON reaches the model (needs the handler's data flow);
    # ML0902: synchronous inference in an async handler (needs the offloaded-call positions)
    assert "ML0701" in codes and "ML0902" in codes


def test_changed_file_between_phases_keeps_flow_rules_silent(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='svc'\n")
    app = tmp_path / "app.py"
    app.write_text(SERVICE)
    st = _settings(tmp_path)
    from mllint import graph

    build = graph.Project.build

    def build_then_edit(*a, **k):
        project = build(*a, **k)
        app.write_text(SERVICE.replace("body = await", "\\n\\nbody = await"))  # lines move
        return project

    monkeypatch.setattr(graph.Project, "build", build_then_edit)
    codes = [f.code for f in engine.scan([str(tmp_path)], st).findings]
    assert "ML0701" not in codes and "ML0902" not in codes
