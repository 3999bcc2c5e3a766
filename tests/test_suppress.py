"""In-source suppressions: `# noqa: CODE` on the line (codes, names, several), never a blanket
`# noqa`; `# mllint: ignore[...]`; file-level `# mllint: noqa[: CODES]`; notebooks, shell, YAML."""
from __future__ import annotations

import json

import pytest

from conftest import run_cli

IMPORT = "from sklearn.model_selection import train_test_split\n"
CALL = "a, b = train_test_split([1, 2, 3])"


def findings(repo, *extra):
    code, out, err = run_cli(["check", "--no-cache", "--output-format", "json", *extra, "."], cwd=str(repo))
    assert code in (0, 1), err
    return json.loads(out)


def lines_of(repo, *extra):
    return sorted((f["location"]["path"], f["location"]["line"], f["code"]) for f in findings(repo, *extra))


@pytest.mark.parametrize("comment,silenced", [
    ("# noqa: ML0301", True),
    ("# noqa:ML0301", True),
    ("# NOQA: ml0301", True),
    ("# noqa: E501, ML0301", True),
    ("# noqa: E501 ML0301", True),
    ("# noqa: split-without-random-state", True),
    ("# mllint: ignore[ML0301]", True),
    ("# mllint: ignore[split-without-random-state, ML0101]", True),
    ("# noqa", False),  # blanket noqa belongs to other linters
    ("# noqa: E501", False),
    ("# noqa: ML0302", False),
    ("# noqa: ML03", False),  # prefixes do not suppress
    ("# type: ignore", False),
])
def test_line_suppression(make_repo, comment, silenced):
    repo = make_repo({"t.py": IMPORT + f"{CALL}  {comment}\n"})
    got = lines_of(repo)
    assert (got == []) is silenced, got


def test_noqa_only_on_its_line(make_repo):
    repo = make_repo({"t.py": IMPORT + f"{CALL}  # noqa: ML0301\n{CALL}\n"})
    assert lines_of(repo) == [("t.py", 3, "ML0301")]


def test_noqa_after_a_form_feed_line(make_repo):
    # a form feed (an Emacs page break) is whitespace to Python, but str.splitlines breaks there:
    # the noqa comment was read as on the next line and did not silence its own
    repo = make_repo({"t.py": IMPORT + "\x0c\n" + f"{CALL}  # noqa: ML0301\n\n{CALL}\n"})
    assert lines_of(repo) == [("t.py", 5, "ML0301")]


def test_noqa_on_last_line_of_multiline_call(make_repo):
    repo = make_repo({"t.py": IMPORT + "a, b = train_test_split(\n    [1, 2, 3],\n)  # noqa: ML0301\n"})
    assert lines_of(repo) == []


def test_file_level(make_repo):
    repo = make_repo({
        "all.py": "# mllint: noqa\n" + IMPORT + CALL + "\n",
        "some.py": IMPORT + "# mllint: noqa: ML0101\n" + CALL + "\n",
        "named.py": "# mllint: noqa: ML0301\n" + IMPORT + CALL + "\n",
        "trailing.py": IMPORT + "x = 1  # mllint: noqa\n" + CALL + "\n",
    })
    assert lines_of(repo) == [("some.py", 3, "ML0301"), ("trailing.py", 3, "ML0301")]


def test_suppressed_findings_in_sarif_only_on_request(make_repo):
    repo = make_repo({"t.py": IMPORT + f"{CALL}  # noqa: ML0301\n"})
    code, out, _ = run_cli(["check", "--no-cache", "--output-format", "sarif", "."], cwd=str(repo))
    assert code == 0 and json.loads(out)["runs"][0]["results"] == []
    code, out, _ = run_cli(["check", "--no-cache", "--output-format", "sarif", "--include-suppressed", "."],
                           cwd=str(repo))
    assert code == 0  # suppressed findings never fail the run
    results = json.loads(out)["runs"][0]["results"]
    assert len(results) == 1
    assert results[0]["suppressions"] == [{"kind": "inSource", "justification": "`# noqa: ML0301`"}]


def test_notebook_cells(make_repo):
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["%matplotlib inline\n", IMPORT, CALL + "  # noqa: ML0301\n", CALL]}]
    raw = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}, indent=1)
    repo = make_repo({"nb.ipynb": raw})
    got = findings(repo)
    assert [(f["location"]["cell"], f["location"]["cell_line"]) for f in got] == [(1, 4)]


def test_notebook_file_level(make_repo):
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["# mllint: noqa\n", IMPORT, CALL]}]
    raw = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}, indent=1)
    repo = make_repo({"nb.ipynb": raw})
    assert findings(repo) == []


def test_config_files(make_repo):
    repo = make_repo({
        "deploy.sh": "aws s3 cp model.pkl s3://b/models/model.pkl  # noqa: ML0101\n"
                     "aws s3 cp model.pkl s3://b/models/other.pkl\n",
        ".gitlab-ci.yml": "job:\n  script:\n    - aws s3 cp model.pkl s3://b/models/model.pkl  # noqa: ML0101\n",
        "scripts/off.sh": "# mllint: noqa\naws s3 cp model.pkl s3://b/models/model.pkl\n",
    })
    assert lines_of(repo) == [("deploy.sh", 2, "ML0101")]


def test_add_noqa_to_line():
    from mllint.suppress import add_noqa_to_line

    assert add_noqa_to_line("x = f()", ["ML0301"]) == "x = f()  # noqa: ML0301"
    assert add_noqa_to_line("x = f()  # noqa: E501", ["ML0301"]) == "x = f()  # noqa: E501, ML0301"
    assert add_noqa_to_line("x = f()  # noqa: ML0301", ["ML0301"]) == "x = f()  # noqa: ML0301"
    assert add_noqa_to_line("x = f()  # noqa", ["ML0301"]) == "x = f()  # noqa: ML0301"


def test_parse_text_numbers_code_lines_as_ast_does():
    from mllint.suppress import parse_text

    text = "a = 1\x0c  # noqa: ML0301\nb = '\u2028'\rc = 2  # noqa: ML0302\r\n"
    code = parse_text(text, code=True)
    assert code.suppressed("ML0301", "x", 1) and code.suppressed("ML0302", "y", 3)
    # a config file keeps str.splitlines' numbering, as the config loaders number lines
    conf = parse_text(text)
    assert conf.suppressed("ML0301", "x", 2) and conf.suppressed("ML0302", "y", 5)


def test_parse_text_units():
    from mllint.suppress import parse_text

    s = parse_text("a  # noqa: ML0301, ML0101\n# mllint: noqa: ML0302\nb\n")
    assert s.suppressed("ML0301", "x", 1) and s.suppressed("ML0101", "y", 1)
    assert not s.suppressed("ML0301", "x", 3)
    assert s.suppressed("ML0302", "z", 3)  # file-level for that code
    assert not s.suppressed("ML0303", "z", 3)
