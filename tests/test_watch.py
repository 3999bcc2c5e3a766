"""`mllint check --watch`: the loop re-runs on relevant changes; tests bound it with ``max_runs``
or a finite ``changes`` iterable instead of sleeping forever."""
from __future__ import annotations

import os
import re
import threading

import pytest

from conftest import run_cli

BAD = "from sklearn.model_selection import train_test_split\n\ntrain_test_split([1], [2])\n"
GOOD = "from sklearn.model_selection import train_test_split\n\ntrain_test_split([1], [2], random_state=0)\n"


def _settings(root):
    from mllint.config import load_settings

    return load_settings([str(root)], str(root))


def test_relevant(tmp_path):
    from mllint.watch import relevant

    root = str(tmp_path)
    def j(*p):
        return os.path.join(root, *p)

    assert relevant(j("src", "train.py"), root)
    assert relevant(j("nb.ipynb"), root)
    assert relevant(j("pyproject.toml"), root)
    assert relevant(j("requirements.txt"), root)
    assert relevant(j(".github", "workflows", "ci.yml"), root)
    assert relevant(j(".gitignore"), root)
    assert not relevant(j(".git", "index"), root)
    assert not relevant(j(".mllint_cache", "x.py"), root)
    assert not relevant(j("src", "__pycache__", "m.cpython-312.pyc"), root)
    assert not relevant(j(".venv", "lib", "m.py"), root)
    assert not relevant(j("notes.bin"), root)
    assert not relevant(j("src", "train.py~"), root)


def test_watch_roots(tmp_path):
    from mllint.watch import watch_roots

    (tmp_path / "src").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "src" / "a.py").write_text("")
    root = str(tmp_path)
    assert watch_roots([str(tmp_path / "src" / "a.py")], root) == [root]  # files only: the project
    assert watch_roots([str(tmp_path / "src")], root) == [str(tmp_path / "src"), str(tmp_path / "pyproject.toml")]


def test_loop_reruns_on_change_with_synthetic_events(make_repo):
    from mllint.watch import watch_loop

    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": BAD})
    out: list = []

    def changes():
        # an irrelevant batch triggers nothing
        yield {(2, str(root / ".git" / "index"))}
        (root / "train.py").write_text(GOOD)
        yield {(2, str(root / "train.py"))}
        (root / "train.py").write_text(BAD)
        yield {(2, str(root / "train.py")), (1, str(root / "notes.txt~"))}
        raise AssertionError("the loop should have stopped after max_runs")

    code = watch_loop([str(root)], _settings(root), "concise", changes=changes(), max_runs=3, echo=out.append,
                      clear=False)
    text = "".join(out)
    assert code == 1
    runs = re.split(r"(?m)^\[\d\d:\d\d:\d\d\] ", text)[1:]
    assert len(runs) == 3, text
    assert "ML0301" in runs[0] and "ML0301" not in runs[1] and "ML0301" in runs[2]
    assert "File change detected (train.py)" in runs[1]


def test_loop_ends_when_changes_end(make_repo):
    from mllint.watch import watch_loop

    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": GOOD})
    out: list = []
    assert watch_loop([str(root)], _settings(root), "concise", changes=iter(()), echo=out.append, clear=False) == 0
    assert "Starting mllint in watch mode" in "".join(out)


def test_loop_survives_keyboard_interrupt(make_repo):
    from mllint.watch import watch_loop

    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": BAD})

    def changes():
        raise KeyboardInterrupt
        yield  # pragma: no cover

    assert watch_loop([str(root)], _settings(root), "concise", changes=changes(), echo=lambda s: None,
                      clear=False) == 0


def test_loop_with_real_watchfiles(make_repo):
    """The real watcher: a file written from another thread triggers exactly one re-run."""
    pytest.importorskip("watchfiles")
    from mllint.watch import watch_loop

    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": BAD})
    out: list = []
    stop = threading.Event()

    done = threading.Event()

    def edit():
        # keep writing until the loop has seen it: the watcher may start late on a slow machine
        while not done.wait(0.5):
            (root / "train.py").write_text(GOOD)

    writer = threading.Thread(target=edit)
    safety = threading.Timer(30, stop.set)  # never hang the suite
    writer.start()
    safety.start()
    try:
        code = watch_loop([str(root)], _settings(root), "concise", max_runs=2, echo=out.append, clear=False,
                          stop_event=stop)
    finally:
        done.set()
        safety.cancel()
        writer.join()
    text = "".join(out)
    assert not stop.is_set(), "timed out waiting for the change: " + text
    assert code == 0, text
    assert "File change detected (train.py)" in text


def test_cli_watch_flag(make_repo, monkeypatch):
    import mllint.watch as w

    seen = {}

    def fake_changes(roots, root, stop_event=None):
        seen["roots"] = roots
        return iter(())

    monkeypatch.setattr(w, "_default_changes", fake_changes)
    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": BAD})
    code, out, _ = run_cli(["check", "--watch", "--no-cache"], cwd=root)
    assert code == 1
    assert "Starting mllint in watch mode" in out and "train.py:3:1: ML0301" in out
    assert seen["roots"] == [os.path.realpath(str(root))] or seen["roots"] == [str(root)]


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, mllint.watch; assert 'watchfiles' not in sys.modules, 'watchfiles imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_watch_reloads_the_configuration(make_repo, monkeypatch):
    """Editing pyproject.toml during --watch re-reads it (CLI options still apply); a broken
    configuration keeps the previous one."""
    import mllint.watch as w

    root = make_repo({"pyproject.toml": "[tool.mllint]\nselect = [\"ML0301\"]\n", "train.py": BAD})

    def fake_changes(roots, root_, stop_event=None):
        def gen():
            (root / "pyproject.toml").write_text("[tool.mllint]\nno-such-key = 1\n")
            yield {(2, str(root / "pyproject.toml"))}
            (root / "pyproject.toml").write_text("[tool.mllint]\nselect = [\"ML0301\"]\nignore = [\"ML0301\"]\n")
            yield {(2, str(root / "pyproject.toml"))}
        return gen()

    monkeypatch.setattr(w, "_default_changes", fake_changes)
    code, out, _ = run_cli(["check", "--watch", "--no-cache", "--output-format", "concise"], cwd=root)
    runs = re.split(r"(?m)^\[\d\d:\d\d:\d\d\] ", out)[1:]
    assert len(runs) == 3, out
    assert "ML0301" in runs[0]
    assert "no-such-key" in runs[1] and "keeping the previous configuration" in runs[1] and "ML0301" in runs[1]
    assert "ML0301" not in runs[2] and "All checks passed" in runs[2], out
    assert code == 0
