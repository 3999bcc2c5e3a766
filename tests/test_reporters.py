"""Reporters over the one Finding model: github annotations (escaping, multi-line regions,
levels), full/concise text, json and json-lines shapes."""
from __future__ import annotations

import json
from types import SimpleNamespace

from mllint.finding import Edit, Finding, Fix, Location
from mllint.report import render
from mllint.report.github import escape_data, escape_property, render_github


def result(findings, root="/nonexistent-root"):
    return SimpleNamespace(findings=findings, root=root, rules=[], notifications=[], suppressed=[])


def f(path="src/a.py", line=3, col=5, end_line=3, end_col=9, code="ML0301", name="split-without-random-state",
      level="warning", message="msg", **kw):
    return Finding(code=code, name=name, message=message, level=level,
                   location=Location(path, line, col, end_line, end_col, kw.pop("cell", None), kw.pop("cell_line", None),
                                     kw.pop("cell_col", None)), checkpoint=int(code[2:4]), **kw)


# --------------------------------------------------------------------------------- github
def test_escaping_functions():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"


def test_github_single_line():
    out = render_github(result([f(message="50% of 1,2: bad\nsecond line")]))
    assert out == ("::warning title=mllint (ML0301),file=src/a.py,line=3,col=5,endLine=3,endColumn=9::"
                   "src/a.py:3:5: ML0301 [split-without-random-state] 50%25 of 1,2: bad%0Asecond line\n")


def test_github_multiline_drops_columns():
    out = render_github(result([f(line=3, end_line=5, end_col=2)]))
    head = out.split("::")[1]
    assert "col=" not in head and "endColumn=" not in head
    assert "line=3" in head and "endLine=5" in head


def test_github_levels_and_property_escaping():
    out = render_github(result([f(level="note"), f(level="error", path="we,ird:dir/a b.py")]))
    lines = out.splitlines()
    assert lines[0].startswith("::notice ")
    assert lines[1].startswith("::error ")
    assert "file=we%2Cird%3Adir/a b.py," in lines[1]
    # the data part is not property-escaped
    assert "::we,ird:dir/a b.py:3:5: ML0301" in lines[1]


def test_github_notebook_uses_raw_line_and_cell_in_message():
    out = render_github(result([f(path="nb.ipynb", line=40, col=12, end_col=20, cell=3, cell_line=2, cell_col=5)]))
    assert "file=nb.ipynb,line=40,col=12" in out
    assert "::nb.ipynb:cell 3:2:5: ML0301" in out


def test_github_empty():
    assert render_github(result([])) == ""


# --------------------------------------------------------------------------------- text
def test_concise_shape():
    out = render("concise", result([f(), f(path="nb.ipynb", line=9, cell=2, cell_line=1, cell_col=3, code="ML0101",
                                           name="s3-overwrite-deploy")]))
    lines = out.splitlines()
    assert lines[0] == "src/a.py:3:5: ML0301 [split-without-random-state] msg"
    assert lines[1] == "nb.ipynb:cell 2:1:3: ML0101 [s3-overwrite-deploy] msg"
    assert lines[2] == "Found 2 errors."


def test_concise_clean_and_fix_marker():
    assert render("concise", result([])) == "All checks passed!\n"
    fx = Fix("add random_state", True, [Edit(3, 5, 3, 9, "x")])
    out = render("concise", result([f(fix=fx)]))
    assert "ML0301 [*] [split" in out
    assert "[*] 1 fixable with the `--fix` option." in out


def test_full_has_code_frame(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("import x\n\nsplit = tts(data)\n")
    out = render("full", result([f(line=3, col=9, end_col=18)], root=str(tmp_path)))
    lines = out.splitlines()
    assert lines[0] == "src/a.py:3:9: ML0301 [split-without-random-state] msg"
    assert lines[1] == "  |"
    assert lines[2] == "3 | split = tts(data)"
    assert lines[3] == "  |         ^^^^^^^^^"
    assert lines[-1] == "Found 1 error."


def test_full_code_frame_counts_lines_as_the_loaders_do(tmp_path):
    # Python: the tokenizer's line breaks (\n, \r\n, \r), not a form feed's; a config file:
    # str.splitlines, as its loader numbers lines.  Only the wanted lines are kept.
    (tmp_path / "a.py").write_bytes(b"import x\n\x0c\r\nsplit = tts(data)\rz = 1\n")
    (tmp_path / "c.yaml").write_bytes(b"a: 1\x0cb: 2\nc: 3\n")
    out = render("full", result([f(path="a.py", line=3, col=9, end_col=18), f(path="a.py", line=4, col=1, end_col=2),
                                 f(path="c.yaml", line=3, col=1, end_col=2)], root=str(tmp_path)))
    assert "3 | split = tts(data)" in out and "4 | z = 1" in out and "3 | c: 3" in out


def test_full_without_source_or_for_a_cell(tmp_path):
    (tmp_path / "n.ipynb").write_text("{}")
    out = render("full", result([f(path="gone.py"), f(path="n.ipynb", line=2, cell=1, cell_line=2, cell_col=1),
                                 f(path="a.py", line=9)], root=str(tmp_path)))
    assert " | " not in out
    assert "gone.py:3:5: ML0301" in out and "n.ipynb:cell 1:2:1: ML0301" in out


def test_full_related_locations(tmp_path):
    rel = [Location("src/b.py", 7, 1, 7, 2, message="training copy")]
    out = render("full", result([f(related=rel)], root=str(tmp_path)))
    assert "  = related: src/b.py:7:1 (training copy)" in out


def test_statistics_shape():
    out = render("concise", result([f(), f(line=4), f(code="ML0101", name="s3-overwrite-deploy")]), statistics=True)
    lines = out.splitlines()
    assert [c.strip() for c in lines[0].split("\t")] == ["2", "ML0301", "[ ]", "split-without-random-state"]
    assert [c.strip() for c in lines[1].split("\t")] == ["1", "ML0101", "[ ]", "s3-overwrite-deploy"]
    assert lines[2] == "Found 3 errors."


# --------------------------------------------------------------------------------- json
FIELDS = {"code", "name", "message", "level", "checkpoint", "location", "related_locations", "fix"}


def test_json_shape():
    fx = Fix("add random_state", False, [Edit(3, 5, 3, 9, "x")])
    out = render("json", result([f(fix=fx, related=[Location("b.py", 2, 1, 2, 5, message="m")]),
                                 f(path="nb.ipynb", cell=1, cell_line=2, cell_col=3, properties={"k": "v"})]))
    data = json.loads(out)
    assert isinstance(data, list) and len(data) == 2
    a, b = data
    assert FIELDS <= set(a)
    assert a["location"] == {"path": "src/a.py", "line": 3, "column": 5, "end_line": 3, "end_column": 9}
    assert a["fix"] == {"title": "add random_state", "applicability": "unsafe",
                        "edits": [{"line": 3, "column": 5, "end_line": 3, "end_column": 9, "content": "x"}]}
    assert a["related_locations"] == [{"path": "b.py", "line": 2, "column": 1, "end_line": 2, "end_column": 5,
                                       "message": "m"}]
    assert a["checkpoint"] == 3 and a["level"] == "warning"
    assert b["location"]["cell"] == 1 and b["location"]["cell_line"] == 2 and b["location"]["cell_column"] == 3
    assert b["properties"] == {"k": "v"} and b["fix"] is None
    assert render("json", result([])) == "[]\n"


def test_json_lines_shape():
    out = render("json-lines", result([f(), f(line=9)]))
    lines = out.splitlines()
    assert len(lines) == 2 and out.endswith("\n")
    assert [json.loads(l)["location"]["line"] for l in lines] == [3, 9]
    assert all(FIELDS <= set(json.loads(l)) for l in lines)
    assert render("json-lines", result([])) == ""


def test_json_keeps_unicode():
    out = render("json", result([f(message="café ✓")]))
    assert "café ✓" in out
