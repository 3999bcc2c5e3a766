"""Bad input never crashes a scan: each unreadable file is one ML0000 finding (level error) plus a
SARIF toolExecutionNotification; the rest of the scan goes on; exit code 1, never 2."""
from __future__ import annotations

import json
import os
import threading

import pytest

from conftest import run_cli

GOOD = "from sklearn.model_selection import train_test_split\n\na, b = train_test_split([1, 2, 3])\n"


def nb(cells, **top) -> str:
    d = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    d.update(top)
    return json.dumps(d, indent=1)


def code_cell(*lines):
    return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": list(lines)}


BAD_FILES = {
    "syntax_error.py": "def f(:\n    pass\n",
    "py2.py": "import sys\nprint \"hello\", sys.argv\n",
    "py2_except.py": "try:\n    x = 1\nexcept Exception, e:\n    pass\n",
    "broken.ipynb": '{"cells": [',
    "old_format.ipynb": json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                    "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1"}]}]}),
    "not_a_dict.ipynb": "[1, 2, 3]",
    "empty.ipynb": "",
    "latin1.py": "x = 'caf\xe9'\n".encode("latin-1"),
    "binary.py": bytes(range(256)) * 4,
    "nul.py": b"x = 1\x00\n",
    "png.ipynb": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "conf/params.yaml": "a: [1, 2\nb: {\n",
    ".github/workflows/ci.yml": "jobs:\n  build:\n    steps:\n      - run: echo\n     bad-indent: x\n",
    "sub/pyproject.toml": "[project\nname = 1\n",
    "requirements.txt": b"torch\xff\xfe\n",
    "deep.py": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
}


@pytest.fixture
def bad_repo(make_repo, tmp_path):
    files = dict(BAD_FILES)
    files["good/train.py"] = GOOD
    files["empty.py"] = ""
    files["empty.yaml"] = ""
    files["cellbad.ipynb"] = nb([code_cell("x = (\n"), code_cell(
        "from sklearn.model_selection import train_test_split\n", "a, b = train_test_split([1, 2])")])
    root = make_repo(files)
    # a dangling symlink, a symlink loop, a FIFO, a directory that looks like a Python file
    os.symlink(str(root / "nowhere.py"), str(root / "dangling.py"))
    os.symlink(str(root / "loop_b.py"), str(root / "loop_a.py"))
    os.symlink(str(root / "loop_a.py"), str(root / "loop_b.py"))
    os.mkfifo(str(root / "pipe.py"))
    (root / "pkg.py").mkdir()
    (root / "pkg.py" / "inside.py").write_text("y = 2\n")
    # a directory symlink loop must not make the walk recurse forever
    os.symlink(str(root), str(root / "good" / "loop_dir"))
    return root


EXPECTED_ML0000 = set(BAD_FILES) | {"dangling.py", "loop_a.py", "loop_b.py", "pipe.py", "cellbad.ipynb"}


def _run_with_timeout(args, cwd, timeout=120):
    box = {}

    def target():
        box["res"] = run_cli(args, cwd=cwd)

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "the scan hung (a FIFO or a symlink loop?)"
    return box["res"]


@pytest.mark.parametrize("fmt", ["json", "sarif", "full", "concise", "github"])
def test_bad_files_become_ml0000(bad_repo, fmt):
    code, out, err = _run_with_timeout(["check", "--no-cache", "--output-format", fmt, "."], str(bad_repo))
    assert code == 1, err
    assert "Traceback" not in out and "Traceback" not in err
    if fmt == "json":
        findings = json.loads(out)
        bad = {f["location"]["path"] for f in findings if f["code"] == "ML0000"}
        assert bad == EXPECTED_ML0000
        for f in findings:
            if f["code"] == "ML0000":
                assert f["level"] == "error" and f["name"] == "unreadable-file" and f["message"]
        # the rest of the scan went on: the good file and the good cell are still analysed
        ml0301 = {(f["location"]["path"], f["location"].get("cell")) for f in findings if f["code"] == "ML0301"}
        assert ("good/train.py", None) in ml0301
        assert ("cellbad.ipynb", 2) in ml0301
        assert not any(f["location"]["path"].startswith("pkg.py") and f["code"] == "ML0000" for f in findings)
    elif fmt == "sarif":
        log = json.loads(out)
        run = log["runs"][0]
        inv = run["invocations"][0]
        assert inv["executionSuccessful"] is True
        notes = inv["toolExecutionNotifications"]
        noted = {n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notes
                 if n["descriptor"]["id"] == "ML0000"}
        from urllib.parse import quote

        assert noted == {quote(p, safe="/-_.~") for p in EXPECTED_ML0000}
        assert all(n["level"] in ("error", "warning") and n["message"]["text"] for n in notes)
        results = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
                   if r["ruleId"] == "ML0000"}
        assert results == noted
        assert "ML0000" in {r["id"] for r in run["tool"]["driver"]["rules"]}
    else:
        assert "ML0000" in out and "good/train.py" in out


def test_messages_say_why(bad_repo):
    code, out, _ = _run_with_timeout(["check", "--no-cache", "--output-format", "json", "."], str(bad_repo))
    msgs = {f["location"]["path"]: f["message"] for f in json.loads(out) if f["code"] == "ML0000"}
    assert "syntax error" in msgs["syntax_error.py"]
    assert "Python 2" in msgs["py2.py"] and "Python 2" in msgs["py2_except.py"]
    assert "nbformat" in msgs["old_format.ipynb"] or "old notebook" in msgs["old_format.ipynb"]
    assert "UTF-8" in msgs["latin1.py"]
    assert "NUL" in msgs["nul.py"] or "binary" in msgs["nul.py"]
    assert "YAML" in msgs["conf/params.yaml"]
    assert "YAML" in msgs[".github/workflows/ci.yml"]
    assert "TOML" in msgs["sub/pyproject.toml"]
    assert "cell 1" in msgs["cellbad.ipynb"]
    assert "pipe.py" in msgs and "regular file" in msgs["pipe.py"]


def test_syntax_error_position(bad_repo):
    code, out, _ = _run_with_timeout(["check", "--no-cache", "--output-format", "json", "."], str(bad_repo))
    locs = {f["location"]["path"]: f["location"] for f in json.loads(out) if f["code"] == "ML0000"}
    assert locs["syntax_error.py"]["line"] == 1
    assert locs["py2.py"]["line"] == 2
    assert locs["conf/params.yaml"]["line"] in (1, 2, 3)


def test_explicit_bad_paths(bad_repo):
    """Files named on the command line (pre-commit) get the same treatment."""
    code, out, err = _run_with_timeout(["check", "--no-cache", "--output-format", "json", "pipe.py", "dangling.py",
                                        "syntax_error.py", "good/train.py"], str(bad_repo))
    assert code == 1, err
    got = {(f["location"]["path"], f["code"]) for f in json.loads(out)}
    assert got == {("pipe.py", "ML0000"), ("dangling.py", "ML0000"), ("syntax_error.py", "ML0000"),
                   ("good/train.py", "ML0301")}


def test_large_generated_file(make_repo):
    """A 5 MB generated module is analysed (no crash, no ML0000); its findings still show."""
    lines = [f"VALUE_{i} = {{'key': {i}, 'name': 'item-{i}', 'weights': [{i}, {i + 1}, {i + 2}]}}"
             for i in range(70_000)]
    text = "\n".join(lines) + "\n" + GOOD
    assert len(text) > 5_000_000
    root = make_repo({"gen/big.py": text})
    code, out, err = _run_with_timeout(["check", "--no-cache", "--output-format", "json", "."], str(root), timeout=300)
    assert code == 1, err
    findings = json.loads(out)
    assert [f["code"] for f in findings] == ["ML0301"]
    assert findings[0]["location"]["line"] == 70_003


def test_too_large_file_is_reported_not_read(make_repo):
    from mllint.sources import MAX_BYTES

    root = make_repo({"huge.py": "#" * (MAX_BYTES + 10) + "\n", "ok.py": GOOD})
    code, out, _ = _run_with_timeout(["check", "--no-cache", "--output-format", "json", "."], str(root))
    got = {(f["location"]["path"], f["code"]) for f in json.loads(out)}
    assert got == {("huge.py", "ML0000"), ("ok.py", "ML0301")}


def test_coding_cookie_is_honoured(make_repo):
    root = make_repo({"cookie.py": "# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n".encode("latin-1")})
    code, out, _ = run_cli(["check", "--no-cache", "."], cwd=str(root))
    assert code == 0, out


def test_empty_files_are_fine(make_repo):
    root = make_repo({"empty.py": "", "empty.yaml": "", "requirements.txt": "", "Dockerfile": "",
                      "run.sh": "", "README.md": ""})
    code, out, _ = run_cli(["check", "--no-cache", "."], cwd=str(root))
    assert code == 0, out


def test_rule_crash_is_a_notification_and_other_rules_run(make_repo, monkeypatch):
    from mllint import registry

    rule = registry.lookup("ML0301")

    def boom(self, node):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(rule, "visit_Call", boom)
    root = make_repo({"train.py": GOOD, "deploy.sh": "aws s3 cp model.pkl s3://b/models/model.pkl\n"})
    code, out, err = run_cli(["check", "--no-cache", "--output-format", "sarif", "."], cwd=str(root))
    assert "Traceback" not in err
    log = json.loads(out)
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("ML0301" in n["message"]["text"] and "train.py" in n["message"]["text"] and "kaboom" in n["message"]["text"]
               for n in notes)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"ML0101"}
    assert code == 1


def test_fifo_with_cache_does_not_hang(make_repo, tmp_path):
    root = make_repo({"ok.py": GOOD})
    os.mkfifo(str(root / "pipe.py"))
    args = ["check", "--cache-dir", str(tmp_path / "cache"), "--output-format", "json", "."]
    for _ in range(2):  # cold and warm cache
        code, out, err = _run_with_timeout(args, str(root), timeout=60)
        got = {(f["location"]["path"], f["code"]) for f in json.loads(out)}
        assert got == {("pipe.py", "ML0000"), ("ok.py", "ML0301")}


def test_nesting_beyond_parser_limits(make_repo):
    root = make_repo({"deep.ipynb": "[" * 100_000 + "]" * 100_000, "ok.py": GOOD})
    code, out, err = _run_with_timeout(["check", "--no-cache", "--output-format", "json", "."], str(root))
    assert code == 1, err
    got = {(f["location"]["path"], f["code"]) for f in json.loads(out)}
    assert got == {("deep.ipynb", "ML0000"), ("ok.py", "ML0301")}


def test_undecodable_pyproject_is_ml0000_not_a_crash(make_repo):
    root = make_repo({"pyproject.toml": b"[tool.mllint]\nselect = ['\xff']\n", "ok.py": GOOD})
    code, out, err = _run_with_timeout(["check", "--no-cache", "--output-format", "json", "."], str(root))
    assert code == 1, err
    got = {(f["location"]["path"], f["code"]) for f in json.loads(out)}
    assert got == {("pyproject.toml", "ML0000"), ("ok.py", "ML0301")}


def test_yaml_alias_bomb_is_refused_and_anchors_still_work(make_repo):
    lol = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    prev = "a"
    for i in range(1, 10):
        name = chr(ord("a") + i)
        lol.append(f"{name}: &{name} [" + ", ".join(["*" + prev] * 9) + "]")
        prev = name
    gitlab = (".defaults: &defaults\n  image: python:3.11\n  before_script:\n    - pip install -r requirements.txt\n"
              "train:\n  <<: *defaults\n  script:\n    - aws s3 cp model.pkl s3://b/models/model.pkl\n")
    root = make_repo({"conf/params.yaml": "\n".join(lol) + "\n", ".gitlab-ci.yml": gitlab, "ok.py": GOOD})
    code, out, err = _run_with_timeout(["check", "--no-cache", "--output-format", "json", "."], str(root), timeout=60)
    got = {(f["location"]["path"], f["code"]) for f in json.loads(out)}
    assert got == {("conf/params.yaml", "ML0000"), ("ok.py", "ML0301"), (".gitlab-ci.yml", "ML0101")}


def test_project_template_files_that_do_not_parse_are_a_note_not_a_finding(make_repo):
    """A file under a cookiecutter/copier placeholder folder holds `{{ }}` markup until it is
    rendered: it is skipped with a note (SARIF toolExecutionNotification), not an ML0000 finding.
    The same text outside a template folder is still ML0000, and a template file that parses is
    analysed."""
    jinja = "{% if cookiecutter.use_mlflow %}\nimport mlflow\n{% endif %}\n"
    root = make_repo({
        "starter/{{ cookiecutter.repo_name }}/docs/conf.py": jinja,
        "starter/{{ cookiecutter.repo_name }}/conf/catalog.yml": "a:\n  b: [1\n  c: 2\n",
        "starter/{{ cookiecutter.repo_name }}/nb.ipynb": nb([code_cell("{% if cookiecutter.gpu %}\n", "import torch\n")]),
        "starter/{{ cookiecutter.repo_name }}/src/train.py": GOOD,
        "other/conf.py": jinja,
    })
    code, out, _ = run_cli(["check", "--no-cache", "--output-format", "sarif", "."], cwd=str(root))
    assert code == 1
    run = json.loads(out)["runs"][0]
    got = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]) for r in run["results"]}
    assert got == {("other/conf.py", "ML0000"),
                   ("starter/%7B%7B%20cookiecutter.repo_name%20%7D%7D/src/train.py", "ML0301")}
    notes = [n for n in run["invocations"][0]["toolExecutionNotifications"] if n["level"] == "note"]
    noted = sorted(n["message"]["text"].split(":", 1)[0] for n in notes)
    assert noted == ["starter/{{ cookiecutter.repo_name }}/conf/catalog.yml",
                     "starter/{{ cookiecutter.repo_name }}/docs/conf.py",
                     "starter/{{ cookiecutter.repo_name }}/nb.ipynb"]
    assert all("project template" in n["message"]["text"] for n in notes)


def test_newer_python_syntax_is_named_as_such():
    """PEP 695 and PEP 701 syntax parses on Python 3.12; on an older Python it is recognised as
    newer syntax (valid code), not reported as a syntax error of the project."""
    from mllint.sources import newer_syntax

    for line in ("type FeatureDict = dict[str, Any]", "class Backtrackable[T]:", "def load[T: JsonLike](p) -> T:",
                 "    async def run[T](x):"):
        assert newer_syntax(line, "invalid syntax", (3, 11)) == "3.12", line
        assert newer_syntax(line, "invalid syntax", (3, 12)) == ""
    assert newer_syntax('x = f"{d["a"]}"', "f-string: unmatched '['", (3, 11)) == "3.12"
    assert newer_syntax("print(f'(scores: {np.sqrt(cv['mean'])})')", "f-string: unmatched '('", (3, 11)) == "3.12"
    # a replacement field never closed is an error in every Python
    assert newer_syntax("""print(f"Context: {ds['train'][0]['context']")""", "f-string: expecting '}'", (3, 11)) == ""
    for line in ("def f(:", "type = 3", "print 'x'", "class A(B):"):
        assert newer_syntax(line, "invalid syntax", (3, 11)) == "", line


def test_newer_python_syntax_is_a_warning_not_ml0000(make_repo):
    import sys

    root = make_repo({"pkg/types.py": "from typing import Any\n\ntype FeatureDict = dict[str, Any]\n",
                      "nb.ipynb": nb([code_cell("class Box[T]:\n", "    item: T\n"), code_cell("x = 1\n")]),
                      "ok.py": GOOD})
    code, out, err = run_cli(["check", "--no-cache", "--output-format", "sarif", "."], cwd=str(root))
    run = json.loads(out)["runs"][0]
    got = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]) for r in run["results"]}
    assert got == {("ok.py", "ML0301")}  # neither file is a syntax error of the project
    notes = [n for n in run["invocations"][0].get("toolExecutionNotifications", [])
             if n["descriptor"]["id"] == "newer-python-syntax"]
    if sys.version_info >= (3, 12):
        assert notes == [] and "Python 3.12 syntax" not in err
    else:
        assert sorted(n["message"]["text"].split(":", 1)[0] for n in notes) == ["nb.ipynb", "pkg/types.py"]
        assert all(n["level"] == "warning" for n in notes)
        assert "2 files use Python 3.12 syntax" in err and "nb.ipynb, pkg/types.py" in err
