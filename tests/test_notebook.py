"""Notebooks as one virtual module: magics blanked (line count kept), cell/line mapping, the raw
.ipynb line and column of every source line."""
from __future__ import annotations

import json

import pytest

from conftest import run_cli
from mllint.sources import Unreadable
from mllint.sources.notebook import load_notebook


def code(*lines):
    return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": list(lines)}


def md(*lines):
    return {"cell_type": "markdown", "metadata": {}, "source": list(lines)}


def make(cells, indent=1, ensure_ascii=True, **meta) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": meta, "cells": cells}, indent=indent,
                      ensure_ascii=ensure_ascii)


def test_magics_are_blanked_and_lines_kept():
    raw = make([code("%matplotlib inline\n", "!pip install -q xgboost\n", "files = !ls data\n", "import os\n",
                     "os.getcwd?\n", "x = 1"),
                code("%%bash\n", "echo hi\n", "ls -l"),
                code("%%time\n", "y = 2\n", "if y:\n", "    %timeit y + 1\n", "    z = 3")])
    src = load_notebook("nb.ipynb", raw.encode())
    lines = src.text.split("\n")
    # cell 1: 6 lines, a separator; cell 2: 3 lines, separator; cell 3: 5 lines, separator
    assert lines[:6] == ["", "", "", "import os", "", "x = 1"]
    assert lines[7:10] == ["", "", ""]  # a bash cell is not Python
    assert lines[11:16] == ["", "y = 2", "if y:", "    pass", "    z = 3"]  # indentation kept valid
    import ast

    ast.parse(src.text)
    magic_texts = [t for _, t in src.magics]
    assert "%matplotlib inline" in magic_texts and "!pip install -q xgboost" in magic_texts
    assert "files = !ls data" in magic_texts and "%%bash" in magic_texts


def test_cell_and_raw_line_mapping():
    cells = [md("# Title\n", "Some text\n"), code("import numpy as np\n", "x = np.arange(3)"),
             md("more\n"), code("y = x + 1\n", "\n", "z = y * 2")]
    raw = make(cells)
    src = load_notebook("nb.ipynb", raw.encode())
    raw_lines = raw.splitlines()
    lm = src.line_map
    expected = {  # virtual line -> (cell, line in cell, source text)
        1: (2, 1, "import numpy as np"), 2: (2, 2, "x = np.arange(3)"),
        4: (4, 1, "y = x + 1"), 6: (4, 3, "z = y * 2"),
    }
    for vline, (cell, cline, text) in expected.items():
        assert src.line_text(vline) == text
        line, col, c, cl, cc = lm.map(vline, 1)
        assert (c, cl, cc) == (cell, cline, 1)
        assert json.dumps(text)[1:-1] in raw_lines[line - 1], (vline, raw_lines[line - 1])
        assert raw_lines[line - 1][col - 1:].startswith(json.dumps(text)[1:-1])
    assert src.cells == [(2, 1, 2), (4, 4, 3)]


def test_columns_through_json_escapes():
    line = 's = "caf\u00e9 \\"q\\""; t = len(s)'
    for ensure_ascii in (True, False):
        raw = make([code(line)], ensure_ascii=ensure_ascii)
        src = load_notebook("nb.ipynb", raw.encode())
        col_in_source = line.index("len(") + 1
        rline, rcol, cell, cline, ccol = src.line_map.map(1, col_in_source)
        assert (cell, cline, ccol) == (1, 1, col_in_source)
        assert raw.splitlines()[rline - 1][rcol - 1:].startswith("len(s)"), ensure_ascii


def test_single_string_source():
    raw = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                      "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                 "source": "import os\nx = os.sep\n"}]}, indent=1)
    src = load_notebook("nb.ipynb", raw.encode())
    assert src.line_text(2) == "x = os.sep"
    rline, rcol, cell, cline, _ = src.line_map.map(2, 1)
    assert (cell, cline) == (1, 2)
    assert raw.splitlines()[rline - 1][rcol - 1:].startswith("x = os.sep")


def test_identical_lines_in_different_cells_map_to_their_own_raw_lines():
    raw = make([code("x = 1\n", "print(x)"), code("x = 1\n", "print(x)")])
    src = load_notebook("nb.ipynb", raw.encode())
    first = src.line_map.map(1, 1)[0]
    second = src.line_map.map(4, 1)[0]
    assert second > first


def test_non_python_kernel_is_empty():
    raw = make([code("library(ggplot2)")], kernelspec={"language": "R", "name": "ir"})
    src = load_notebook("nb.ipynb", raw.encode())
    assert src.text.strip() == "" and not src.errors


@pytest.mark.parametrize("raw,why", [
    ("{", "not valid JSON"),
    ("[]", "not an object"),
    (json.dumps({"nbformat": 3, "worksheets": [{"cells": []}]}), "nbformat 3"),
    (json.dumps({"nbformat": 4}), "cells"),
])
def test_unreadable_notebooks(raw, why):
    with pytest.raises(Unreadable) as e:
        load_notebook("nb.ipynb", raw.encode())
    assert why in e.value.message


def test_cell_syntax_error_blanks_only_that_cell():
    raw = make([code("import os\n"), code("def broken(:\n", "    pass"), code("x = os.sep")])
    src = load_notebook("nb.ipynb", raw.encode())
    assert len(src.errors) == 1 and "cell 2" in src.errors[0].message and not src.errors[0].fatal
    assert "import os" in src.text and "x = os.sep" in src.text and "broken" not in src.text


def test_end_to_end_human_and_json_positions(make_repo):
    raw = make([md("# x\n"), code("%load_ext autoreload\n", "from sklearn.model_selection import train_test_split\n",
                                  "a, b = train_test_split([1, 2])")])
    repo = make_repo({"nb.ipynb": raw})
    code_, out, _ = run_cli(["check", "--no-cache", "--output-format", "concise", "."], cwd=str(repo))
    assert code_ == 1 and "nb.ipynb:cell 2:3:8: ML0301" in out
    _, out, _ = run_cli(["check", "--no-cache", "--output-format", "json", "."], cwd=str(repo))
    loc = json.loads(out)[0]["location"]
    assert (loc["cell"], loc["cell_line"], loc["cell_column"]) == (2, 3, 8)
    raw_line = raw.splitlines()[loc["line"] - 1]
    assert raw_line[loc["column"] - 1:].startswith("train_test_split(")


def test_shell_escape_with_backslash_continuation():
    raw = make([code("!pip install -q \\\n", "    transformers \\\n", "    accelerate\n", "import os\n",
                     "%env A=1 \\\n", "B=2\n", "if os:\n", "    !ls \\\n", "      -l\n", "    x = 1")])
    src = load_notebook("nb.ipynb", raw.encode())
    assert not src.errors
    lines = src.text.split("\n")
    assert lines[:6] == ["", "", "", "import os", "", ""]
    assert lines[6:10] == ["if os:", "    pass", "", "    x = 1"]


def test_line_magic_with_open_brackets_and_automagics():
    raw = make([code("%timeit np.fromiter((xi for xi in x),\n", "                    dtype=x.dtype, count=len(x))\n",
                     "pip install torchvision onnx\n", "cd data\n", "conda activate base\n",
                     "pip if True else None\n", "y = 1")])
    src = load_notebook("nb.ipynb", raw.encode())
    assert not src.errors
    assert src.text.split("\n")[:7] == ["", "", "", "", "", "pip if True else None", "y = 1"]


def test_databricks_language_cells_are_not_python():
    import json

    from mllint.sources.notebook import load_notebook

    nb = {"cells": [{"cell_type": "code", "source": ["%sql\n", "SELECT a,\n", "  SUM(b) OVER (PARTITION BY a) FROM t\n"],
                     "metadata": {}, "outputs": []},
                    {"cell_type": "code", "source": ["%md\n", "# Title\n"], "metadata": {}, "outputs": []},
                    {"cell_type": "code", "source": ["import pandas as pd\n"], "metadata": {}, "outputs": []}],
          "nbformat": 4, "metadata": {}}
    src = load_notebook("db.ipynb", json.dumps(nb).encode())
    assert src.errors == []
    assert "SELECT" not in src.text and "import pandas as pd" in src.text


def _output(text):
    return {"output_type": "stream", "name": "stdout", "text": [text]}


def _assert_same_as_decoded(raw: bytes):
    """The notebook read bytewise (one character per byte) gives what decoding it gives."""
    fast, slow = load_notebook("nb.ipynb", raw), load_notebook("nb.ipynb", raw, decoded=True)
    assert not slow.raw_bytewise
    assert fast.text == slow.text and fast.magics == slow.magics and fast.cells == slow.cells
    for vline in range(1, len(fast.text.split("\n"))):
        for col in (1, 3, 8):
            assert fast.line_map.map(vline, col) == slow.line_map.map(vline, col), (vline, col)
    return fast


@pytest.mark.parametrize("indent", [1, None])  # None: the whole notebook on one raw line
def test_wide_outputs_read_bytewise_with_the_same_lines_and_columns(indent):
    # a progress bar and an emoji in the outputs would make the decoded text 4 bytes a character
    cells = [code("x = 'héllo'  # naïve\n", "y = len(x)"), code("print('✓ done')\n", "z = 3")]
    cells[0]["outputs"] = [_output("100%|██████████| 3/3 🚀\n")]
    raw = make(cells, indent=indent, ensure_ascii=False).encode()
    src = _assert_same_as_decoded(raw)
    assert src.raw_bytewise and src.line_text(1) == "x = 'héllo'  # naïve"
    rline, rcol, *_ = src.line_map.map(4, 1)  # 'print(...)' in the second cell
    text = raw.decode().splitlines()[rline - 1]
    assert text[rcol - 1:].startswith("print('✓ done')")
    if indent is None:  # found after the wide characters earlier on the same raw line
        assert rcol - 1 == raw.decode().index("print('✓")


def test_escaped_wide_characters_fall_back_to_decoding():
    # a source line mixing an escaped "é" with a raw "ü": read bytewise, the escape and the bytes
    # could not be told apart
    cells = [code("s = 'é' + 'ü'\n", "t = s"), code("u = 1")]
    cells[0]["outputs"] = [_output("\u0100 and ü")]
    raw = make(cells, ensure_ascii=False).replace("Ā", "\\u0100").replace("é", "\\u00e9").encode()
    assert b"\\u00e9" in raw and "ü".encode() in raw
    src = _assert_same_as_decoded(raw)
    assert not src.raw_bytewise and src.line_text(1) == "s = 'é' + 'ü'"
    # ...but a notebook whose sources are ASCII stays bytewise even then
    cells[0]["source"] = ["s = 'e'\n", "t = s"]
    src = _assert_same_as_decoded(make(cells, ensure_ascii=False).replace("Ā", "\\u0100").encode())
    assert src.raw_bytewise


def test_outputs_are_not_kept_and_the_tree_is_handed_over(tmp_path):
    cells = [code("import os\n", "x = os.sep")]
    cells[0]["outputs"] = [_output("é" * 1000)]
    src = load_notebook("nb.ipynb", make(cells, ensure_ascii=False).encode())
    assert src.tree is not None and src.tree.body[0].names[0].name == "os"
    # a scan that keeps texts (editor, fixes) still gets the notebook's characters, not its bytes
    from mllint.config import Settings
    from mllint.engine import scan

    (tmp_path / "nb.ipynb").write_text(make(cells, ensure_ascii=False), encoding="utf-8")
    res = scan([str(tmp_path)], Settings(root=str(tmp_path)), keep_text=True)
    (fr,) = [f for f in res.files if f.path == "nb.ipynb"]
    assert fr.text == make(cells, ensure_ascii=False)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_full_output_shows_the_cell_line(make_repo, ensure_ascii):
    # the finding's columns are the .ipynb file's, where each quote is written \" : the carets
    # still end where the call does, on the line as the cell holds it
    call = 'train_test_split(["é", "b"], test_size=0.2)'
    nb = make([md("# data ✓\n"), code("from sklearn.model_selection import train_test_split\n", "\n",
                                     f"a, b = {call}  # split\n")], ensure_ascii=ensure_ascii)
    repo = make_repo({"nb.ipynb": nb})
    code_, out, _ = run_cli(["check", "--no-cache", "nb.ipynb"], cwd=str(repo))
    assert code_ == 1
    lines = out.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith("nb.ipynb:cell 2:3:8: ML0301"))
    assert lines[i + 1:i + 4] == ["  |", f"3 | a, b = {call}  # split", "  |        " + "^" * len(call)]


def test_cell_sources_bytewise_escaped_and_markdown():
    from mllint.sources.notebook import cell_sources

    # raw UTF-8 in one cell, a \u escape in another: read as the characters stored, either way
    raw = make([md("# ✓ done\n"), code("x = 'ü'\n", "y = 'é'")], ensure_ascii=False).replace("é", "\\u00e9")
    assert cell_sources(raw.encode()) == [None, "x = 'ü'\ny = 'é'"]
    plain = make([code("s = '✓'")], ensure_ascii=False)
    assert cell_sources(plain.encode()) == ["s = '✓'"]
    with pytest.raises(ValueError):
        cell_sources(b"[1, 2]")


@pytest.mark.parametrize("escaped", [False, True])
def test_handed_over_bytes_load_the_same_notebook(escaped):
    """The engine hands the bytes over in a one-item list (freed once decoded) and keeps no raw
    text: the virtual module, its mapping and its tree are those of a plain load, also when a
    non-ASCII output forces the decoded path (an escaped ``\\u`` beside raw UTF-8)."""
    cells = [code("import numpy as np\n", "title = 'données'\n", "x = np.arange(3)")]
    nb = json.loads(make(cells))
    nb["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                  "text": ["\u00e9t\u00e9 \u2713\n"]}]
    raw = json.dumps(nb, indent=1, ensure_ascii=escaped).replace("\\u00e9t", "\u00e9t") if escaped else \
        json.dumps(nb, indent=1, ensure_ascii=False)
    data = raw.encode("utf-8")
    plain = load_notebook("nb.ipynb", data)
    box = [data]
    owned = load_notebook("nb.ipynb", box, keep_raw=False)
    assert box == [] and owned.raw_text == "" and plain.raw_text
    assert owned.text == plain.text and "données" in owned.text
    assert [e[:3] for e in owned.line_map.entries] == [e[:3] for e in plain.line_map.entries]
    assert [owned.line_map.map(2, c) for c in (1, 10, 12)] == [plain.line_map.map(2, c) for c in (1, 10, 12)]
    assert owned.tree is not None and owned.raw_bytewise == plain.raw_bytewise
    assert plain.raw_bytewise is (not escaped)  # the escaped file took the decoded path


def test_cells_vscode_holds_in_another_language_are_not_python():
    """A code cell whose VS Code metadata names another language (a YAML snippet) is not run as
    Python: it is left out of the virtual module rather than reported as a syntax error."""
    cells = [code("import os\n"), code("apiVersion: v1\n", "kind: ConfigMap\n"), code("x = 1")]
    cells[1]["metadata"] = {"vscode": {"languageId": "yaml"}}
    src = load_notebook("nb.ipynb", make(cells).encode())
    assert src.errors == [] and "apiVersion" not in src.text and "x = 1" in src.text


def test_a_cell_indented_as_a_whole_is_dedented_as_ipython_does():
    """IPython removes the first line's indentation from the cell (``leading_indent``): such a cell
    runs, so it parses here, and positions map back to the indented cell and raw lines."""
    raw = make([code("    import os\n", "    x = os.getcwd()\n", "    if x:\n", "        y = 1")])
    src = load_notebook("nb.ipynb", raw.encode())
    assert src.errors == [] and src.text.startswith("import os\nx = os.getcwd()\nif x:\n    y = 1")
    line, col, cell, cell_line, cell_col = src.line_map.map(2, 5)  # `os` in `x = os.getcwd()`
    assert (cell, cell_line, cell_col) == (1, 2, 9)
    raw_lines = raw.splitlines()
    assert raw_lines[line - 1][col - 1:].startswith("os.getcwd()")


def test_lines_after_a_large_output_map_to_their_source():
    """A cell's lines are searched from its own ``"source"`` key: past a base64 image of the cell
    before (nbformat writes "outputs" first) that is larger than the search window, and past an
    output key that merely contains the text of a short line (``"image/png"`` for ``image``)."""
    big = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "A" * 300_000}}
    first = code("image\n")
    first["outputs"] = [big]
    second = code("x = 1\n", "y = x +\n")  # a syntax error on the second line
    second["outputs"] = [dict(big)]
    raw = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                      "cells": [first, second]}, indent=1, sort_keys=True)
    src = load_notebook("nb.ipynb", raw.encode())
    raw_lines = raw.splitlines()
    line, *_ = src.line_map.map(1, 1)
    assert raw_lines[line - 1].strip() == '"image\\n"'
    (err,) = src.errors
    line, _col, cell, cell_line, _cell_col = src.line_map.map(err.line, err.col)
    assert raw_lines[line - 1].strip().startswith('"y = x +') and (cell, cell_line) == (2, 2)


def test_ipython_shell_aliases_are_magics_and_python_names_are_not():
    raw = make([code("ls ./data/\n", "mkdir -p out\n", "cat requirements.txt\n", "ls = [1, 2]\n", "cat(ls)")])
    src = load_notebook("nb.ipynb", raw.encode())
    assert src.errors == []
    assert src.text.split("\n")[:5] == ["", "", "", "ls = [1, 2]", "cat(ls)"]


def test_a_cell_that_does_not_parse_is_reported_in_cell_coordinates(make_repo):
    """ML0000 for a bad cell carries the cell, its line and the raw JSON line, as every other
    notebook finding does."""
    from mllint.config import Settings
    from mllint.engine import scan

    raw = make([code("import os\n"), code("x = 1\n", "print 'python 2'\n")])
    root = make_repo({"nb.ipynb": raw})
    (f,) = [f for f in scan([str(root)], Settings(root=str(root), jobs=1)).findings if f.code == "ML0000"]
    loc = f.location
    assert (loc.cell, loc.cell_line, loc.cell_col) == (2, 2, 1) and f.properties["cell"] == 2
    assert raw.splitlines()[loc.line - 1].strip().startswith("\"print 'python 2'")


def test_python_2_cells_are_reported_once_for_the_notebook():
    raw = make([code("print 'a'\n"), code("x = 1\n"), code("y = 2\n", "print y\n"), code("z = (\n")])
    src = load_notebook("nb.ipynb", raw.encode())
    msgs = [e.message for e in src.errors]
    assert msgs[0] == "2 cells (1, 3): Python 2 code (`print` statements); these cells were skipped"
    assert len(msgs) == 2 and msgs[1].startswith("cell 4: syntax error")  # other errors stay per cell
    assert src.line_map.map(src.errors[0].line, 1)[2:4] == (1, 1)


def test_percent_and_bang_continuing_a_python_statement_are_operators_not_magics():
    raw = make([code("raise ValueError(\n", '    "region %s"\n', "    % (region,)\n", ")\n",
                     "same = (a\n", "    != b)\n",
                     "total = 'n=%d' \\\n", "% 3\n",
                     'doc = """\n', "!important\n", '"""\n',
                     "if x:\n", "    !ls -l\n", "%time y = 2")])
    src = load_notebook("nb.ipynb", raw.encode())
    assert src.errors == []
    lines = src.text.split("\n")
    assert lines[2] == "    % (region,)" and lines[5] == "    != b)"  # operators of the open statement
    assert lines[7] == "% 3" and lines[9] == "!important"  # after a backslash; inside a string
    assert lines[12] == "    pass" and lines[13] == ""  # escapes at the start of a logical line
    assert [m[1] for m in src.magics] == ["    !ls -l", "%time y = 2"]


def test_shell_capture_into_unpacked_and_attribute_targets_is_a_magic():
    raw = make([code("[run_dir] = !ls -td ./mlruns/0/* | head -1\n", "self.out = !echo hi\n", "a, b = %who_ls\n",
                     "ok = x != 1\n", "y = z % 2")])
    src = load_notebook("nb.ipynb", raw.encode())
    assert src.errors == []
    assert src.text.split("\n")[:5] == ["", "", "", "ok = x != 1", "y = z % 2"]


def test_ipython_help_lines_are_magics():
    """``obj?``, ``obj??`` (show the source), ``?obj`` and ``np.*load*?`` are IPython help, not
    syntax errors (the Full Stack Deep Learning labs use ``MLP.forward??``)."""
    raw = make([code("BaseDataset??\n", "MLP.forward??\n", "np.*load*?\n", "?len\n", "x = len('a?')\n", "y = 1")])
    src = load_notebook("nb.ipynb", raw.encode())
    assert src.errors == []
    assert src.text.split("\n")[:6] == ["", "", "", "", "x = len('a?')", "y = 1"]
    bad = load_notebook("nb.ipynb", make([code("x = y ?\n")]).encode())
    assert [e.message[:25] for e in bad.errors] == ["cell 1: syntax error: inv"]


def test_databricks_source_notebooks_blank_escapes_and_keep_positions(make_repo):
    from mllint.config import Settings
    from mllint.engine import scan
    from mllint.sources.notebook import databricks_source

    text = ("# Databricks notebook source\n!pip install tabulate\n\n# COMMAND ----------\n\n"
            "# MAGIC %md ## Score\n\n# COMMAND ----------\n\n"
            " data = load()\n print(data)\n\n# COMMAND ----------\n\n"
            "from sklearn.model_selection import train_test_split\n"
            "if True:\n    %run ./Common\n    a, b = train_test_split([1, 2, 3, 4])\n")
    virtual, magics = databricks_source(text)
    lines = virtual.split("\n")
    assert len(lines) == len(text.split("\n"))
    assert lines[1] == "" and lines[7] == "if 1:" and lines[9] == " data = load()"  # columns kept
    assert lines[16] == "    pass" and [m[0] for m in magics] == [2, 17]
    assert databricks_source("import os\n") is None
    root = make_repo({"notebooks/Score.py": text})
    result = scan([str(root)], Settings(root=str(root), select=["ML0000", "ML0301"], jobs=1))
    codes = [(f.code, f.location.line, f.location.col) for f in result.findings]
    assert codes == [("ML0301", 18, 12)]


def test_messages_name_a_notebook_line_by_its_cell(make_repo):
    from mllint.config import Settings
    from mllint.engine import scan

    root = make_repo({"leak.ipynb": make([
        code("import pandas as pd\n", "from sklearn.model_selection import train_test_split\n",
             "from sklearn.preprocessing import StandardScaler\n", "df = pd.read_csv('d.csv')\n"),
        code("X = StandardScaler().fit_transform(df[['a', 'b']])"),
        code("# split\n", "X_train, X_test = train_test_split(X, random_state=0)")])})
    result = scan([str(root)], Settings(root=str(root), select=["ML0601"], jobs=1))
    [f] = result.findings
    assert "`train_test_split` (cell 3, line 2)" in f.message


def test_line_entries_read_like_the_list_of_tuples_they_store():
    """``LineEntries`` keeps a notebook's line map as arrays: indexing (also negative and sliced),
    iteration, length and a pickle round trip give the tuples it was built from, mappers included."""
    import pickle

    from mllint.sources import LineEntries
    from mllint.sources.notebook import _CELL_END, _RawCol

    col = _RawCol(4, 'x = "a"', True)
    rows = [(1, 1, 10, 6), (1, 2, 11, col), (1, 3, 11, _CELL_END), (2, 1, 70_000, 0)]
    e = LineEntries(rows)
    assert len(e) == 4 and list(e) == rows and e[-1] == rows[-1] and e[1:3] == rows[1:3]
    assert e == rows and bool(LineEntries()) is False
    back = pickle.loads(pickle.dumps(e, pickle.HIGHEST_PROTOCOL))
    assert [r[:3] for r in back] == [r[:3] for r in rows] and back[0][3] == 6
    assert back[1][3](3) == col(3) and back[2][3](5) == 1
    with pytest.raises(IndexError):
        e[4]
