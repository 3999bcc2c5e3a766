"""Jupyter notebooks (nbformat 4) as one virtual Python module.

Code cells are joined in order.  IPython magics, shell escapes (``!cmd``) and help syntax are
blanked (the line count is kept), so positions stay valid.  Every virtual line maps back to
(cell, line in cell, raw line in the ``.ipynb`` JSON, column offset in that raw line).
"""
from __future__ import annotations

import ast
import codecs
import json
import re
from typing import Optional

from mllint.sources import CodeSource, LineEntries, LineMap, LoadError, Unreadable, decode_text, newer_syntax

# Databricks notebooks: a cell whose first line is one of these is written in that language.
DATABRICKS_LANGUAGE_MAGICS = {"%sql", "%scala", "%r", "%sh", "%fs", "%md", "%md-sandbox"}
# Cell magics whose body is still Python.
PY_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "memit", "tensorflow_version"}


def _is_magic_line(stripped: str) -> bool:
    if not stripped:
        return False
    if stripped[0] in "%!":
        return True
    if _AUTOMAGIC_RE.match(stripped):
        return True  # IPython automagics and aliases: `pip install x`, `cd dir`, `ls ./data/`
    if stripped.startswith("?") or (stripped.endswith("?") and _HELP_TARGET_RE.fullmatch(stripped)):
        return True  # IPython help: ``obj?``, ``obj??`` (source), ``np.*load*?`` (search)
    # ``files = !ls`` / ``x = %who_ls`` / ``[path] = !ls -td runs/* | head -1`` / ``self.out = !cmd``
    if "=" in stripped:
        rhs = stripped.split("=", 1)[1].lstrip()
        lhs = stripped.split("=", 1)[0].rstrip()
        if rhs[:1] in ("!", "%") and lhs and _ASSIGN_TARGET_RE.fullmatch(lhs):
            return True
    return False


_HELP_TARGET_RE = re.compile(r"[\w.*]+\?\??")
# an assignment target IPython accepts before ``= !cmd``: names, attributes, and tuple/list unpacking
_ASSIGN_TARGET_RE = re.compile(r"[\w.,\s()\[\]*]+")


_STRING_RE = re.compile(r"'[^'\\]*(?:\\.[^'\\]*)*'|\"[^\"\\]*(?:\\.[^\"\\]*)*\"")
_AUTOMAGIC_RE = re.compile(r"^(pip|conda|mamba)\s+(?!(if|else|and|or|not|in|is|for)\b)[a-z][\w-]*(\s|$)|^cd\s+[^=(]+$"
                           # IPython's default shell aliases, with shell-like arguments (``ls ./data/``)
                           r"|^(ls|ll|pwd|cat|mkdir|rmdir|rm|cp|mv)(\s+[-./~*\w\"'][^=()]*)?$")


def _continues_statement(cell_lines: list) -> bool:
    """Do a cell's Python lines so far (magics blanked) end inside an open bracket, a backslash
    continuation or a multi-line string?  Then the next line continues that statement, and a ``%``
    or ``!`` at its start is an operator (``% (a, b)``, ``!= b``), not a magic: IPython reads escapes
    at the start of a logical line only."""
    opened = sum(_bracket_balance(l) for l in cell_lines) > 0
    tail = next((l for l in reversed(cell_lines) if l.strip()), "")
    joined = "\n".join(cell_lines)
    if not (opened or tail.rstrip().endswith("\\") or '"""' in joined or "'''" in joined):
        return False  # cheap: nothing can be open
    import io
    import tokenize

    try:
        for _ in tokenize.generate_tokens(io.StringIO(joined + "\n").readline):
            pass
    except tokenize.TokenError:
        return True  # EOF in a multi-line statement or string
    except (SyntaxError, ValueError):
        return False
    return False


DATABRICKS_HEADER = "# Databricks notebook source"
_DATABRICKS_SEPARATOR = "# COMMAND ----------"


def databricks_source(text: str) -> Optional[tuple]:
    """A Databricks notebook exported as a ``.py`` source file (first line ``# Databricks notebook
    source``, cells separated by ``# COMMAND ----------``, markdown and magics as ``# MAGIC``
    comments) -> (the text to analyse, magics as (line, text)), else None.  Cells may still hold
    IPython escapes (``!pip install x``, ``%run ./Common``): they are blanked as in ``.ipynb``
    notebooks.  A cell indented as a whole (IPython strips the indent) becomes the body of an
    ``if 1:`` written over the separator line above it, so lines and columns stay the file's."""
    if not text.startswith(DATABRICKS_HEADER):
        return None
    lines = text.split("\n")
    out = list(lines)
    magics = []
    cell: list = []  # the current cell's lines as analysed so far
    header = 0  # index of the separator (or header) line above the current cell
    for i, line in enumerate(lines):
        stripped = line.strip()
        if i == 0 or stripped == _DATABRICKS_SEPARATOR:
            cell, header = [], i
            continue
        if not cell or not any(l.strip() for l in cell):
            if stripped and line[:1] in " \t" and not stripped.startswith("#"):
                out[header] = "if 1:"  # a cell indented as a whole
        if _is_magic_line(stripped) and not _continues_statement(cell):
            magics.append((i + 1, line))
            indent = line[: len(line) - len(line.lstrip())]
            out[i] = indent + "pass" if indent and any(l.strip() for l in cell) else ""
        cell.append(out[i])
    return "\n".join(out), magics


def _bracket_balance(text: str) -> int:
    t = _STRING_RE.sub("", text).split("#", 1)[0]
    return sum(t.count(c) for c in "([{") - sum(t.count(c) for c in ")]}")


class _LineCounter:
    """Line number of a position in ``raw``, counted incrementally: the positions asked for only
    move forward (counting from the start of the file for every line was quadratic on notebooks
    with large outputs)."""

    __slots__ = ("raw", "pos", "line")

    def __init__(self, raw: str):
        self.raw, self.pos, self.line = raw, 0, 1

    def __call__(self, pos: int) -> int:
        if pos >= self.pos:
            self.line += self.raw.count("\n", self.pos, pos)
        else:
            self.line = self.raw.count("\n", 0, pos) + 1
        self.pos = pos
        return self.line


class _CharColumn:
    """Character offset of a byte position within its raw line, for a notebook read bytewise
    (``_bytewise``).  Counted on from the last position asked for on the same line, so a notebook
    stored as one long line is not decoded again for every source line."""

    __slots__ = ("raw", "line_start", "pos", "chars")

    def __init__(self, raw: str):
        self.raw, self.line_start, self.pos, self.chars = raw, -1, 0, 0

    def __call__(self, line_start: int, pos: int) -> int:
        if line_start != self.line_start or pos < self.pos:
            self.line_start, self.pos, self.chars = line_start, line_start, 0
        seg = self.raw[self.pos:pos]
        self.chars += len(seg) if seg.isascii() else len(seg.encode("latin-1").decode("utf-8", "replace"))
        self.pos = pos
        return self.chars


def _locate_lines(raw: str, cell_lines: list, start: int, counter=None, columns=None) -> tuple:
    """Find each source line's JSON-encoded text in ``raw`` from ``start``.  ``columns`` is a
    ``_CharColumn`` when ``raw`` holds the file's bytes one per character (``_bytewise``).

    Returns (list of (raw_line, raw_col_offset_function), new cursor)."""
    out = []
    cursor = start
    line_at = counter if counter is not None else _LineCounter(raw)
    for text in cell_lines:
        found = -1
        enc_variants = (json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1])
        if columns is not None and not enc_variants[1].isascii():
            enc_variants = (enc_variants[0], enc_variants[1].encode("utf-8").decode("latin-1"))
        if text.strip():
            for enc in enc_variants:
                # Only accept a match reasonably close (sources precede outputs in a cell); the
                # window bounds the search instead of scanning the outputs to the end of the file.
                pos = raw.find(enc, cursor, cursor + 199_999 + len(enc))
                if pos != -1:
                    found = pos
                    used = enc
                    break
        if found == -1:
            # Blank or not found: stay at the cursor's line.
            line_no = line_at(cursor)
            out.append((line_no, _offset_fn(0, text, True)))
            continue
        line_start = raw.rfind("\n", 0, found) + 1
        line_no = line_at(found)
        base = found - line_start if columns is None else columns(line_start, found)
        out.append((line_no, _offset_fn(base, text, used is enc_variants[0])))
        cursor = found + len(used)
    return out, cursor


_PLAIN_LINE = re.compile(r'[ !#-\[\]-~]*\r?\n?\Z')  # printable ASCII but `"` and `\\`: stored as is in JSON


def _offset_fn(base: int, text: str, ascii_only: bool):
    """A line's column mapper: for a line JSON stores verbatim (most code), the raw column is
    ``base + col`` and the int ``base`` is kept (``LineMap.map`` adds it) rather than an object
    holding a copy of the line."""
    if _PLAIN_LINE.match(text):
        return base
    return _RawCol(base, text, ascii_only)


class _RawCol:
    """Picklable column mapper: 1-based column in the source line -> 1-based raw JSON column."""

    __slots__ = ("base", "text", "ascii_only")

    def __init__(self, base: int, text: str, ascii_only: bool):
        self.base = base
        self.text = text
        self.ascii_only = ascii_only

    def __call__(self, col: int) -> int:
        prefix = self.text[: max(col - 1, 0)]
        return self.base + len(json.dumps(prefix, ensure_ascii=self.ascii_only)) - 2 + 1


class _Shifted:
    """The column mapper of a line IPython dedents (``leading_indent``): analysed column ``col`` is
    column ``col + shift`` of the cell line."""

    __slots__ = ("inner", "shift")

    def __init__(self, inner, shift: int):
        self.inner, self.shift = inner, shift

    def __call__(self, col: int) -> int:
        c = col + self.shift
        return self.inner(c) if callable(self.inner) else self.inner + c


_LEADING_INDENT = re.compile(r"[ \t]+")
_CELL_END = _RawCol(0, "", True)  # the blank line closing each cell maps to column 1
_DROPPED = {}


def _drop_outputs(obj: dict) -> dict:
    """json ``object_hook``: an output (images, tables, logs) is dropped as soon as it is decoded,
    so a notebook's outputs never all sit in memory at once; nothing reads them."""
    return _DROPPED if "output_type" in obj else obj


_WIDE_ESCAPE = re.compile(rb"\\u(?!00[0-7])")  # a JSON escape of a non-ASCII character (or a literal backslash-u)


def _bytewise(data: bytes) -> Optional[str]:
    """The notebook's bytes as a str of one character per byte (latin-1), or None to decode it.

    A notebook with one emoji or progress-bar block in its outputs decodes to 2 or 4 bytes per
    character for the whole file (a 4 MB notebook: 16 MB).  JSON's syntax is ASCII, so the
    bytewise text parses to the same structure.  A parsed string that is ASCII is exact; any other
    is its own UTF-8 bytes (``_fix`` decodes them) unless the file holds a ``\\u`` escape of a
    non-ASCII character, which could be mixed in (``_WIDE_ESCAPE``: ``load_notebook`` then decodes
    the file after all).  None for pure ASCII, which decodes compactly anyway, and for bytes that
    are not UTF-8, which ``decode_text`` reports."""
    if data.isascii() or b"\x00" in data:
        return None
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        for i in range(0, len(data), 1 << 16):
            dec.decode(data[i:i + (1 << 16)])
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return data[3:].decode("latin-1") if data.startswith(codecs.BOM_UTF8) else data.decode("latin-1")


_WIDE_ESCAPE_STR = re.compile(_WIDE_ESCAPE.pattern.decode("ascii"))  # the same search in a bytewise text


def _bytes_of(raw: str) -> bytes:
    """The bytes a bytewise text holds (without a UTF-8 byte order mark, which ``decode_text``
    drops anyway)."""
    return raw.encode("latin-1")


def _fix(s: str) -> str:
    """A string parsed from a bytewise notebook, as the characters it stores."""
    return s if s.isascii() else s.encode("latin-1").decode("utf-8", "replace")


def load_notebook(path: str, data, *, decoded: bool = False, keep_raw: bool = True) -> CodeSource:
    """The notebook as a virtual module.  ``tree`` is the module's syntax tree when it was parsed
    here (every cell parses); the caller takes it rather than parsing the text again.  ``raw_text``
    may hold the file's bytes one per character (``raw_bytewise``; see ``_bytewise``), unless
    ``decoded``; it is empty unless ``keep_raw``.

    ``data`` is the file's bytes, or a one-item list holding them that is emptied: the bytes are
    then freed once decoded, and the decoded text once the cells are located, before the parse
    (a notebook of megabytes of outputs peaked at three times its size, now once or twice)."""
    if data.__class__ is list:
        data = data.pop()
    raw = None if decoded else _bytewise(data)
    bytewise = raw is not None
    try:
        if raw is None:
            raw = decode_text(data)
        data = None  # what else needs the bytes reads them back from ``raw`` (see ``_bytes_of``)
        nb = json.loads(raw, object_hook=_drop_outputs)
    except json.JSONDecodeError as exc:
        if bytewise:  # columns in characters
            return load_notebook(path, _bytes_of(raw), decoded=True, keep_raw=keep_raw)
        raise Unreadable(f"notebook is not valid JSON: {exc.msg}", exc.lineno, exc.colno)
    if not isinstance(nb, dict):
        raise Unreadable("notebook JSON is not an object")
    major = nb.get("nbformat")
    cells = nb.get("cells")
    if cells is None and isinstance(nb.get("worksheets"), list):
        raise Unreadable(f"old notebook format (nbformat {major}); convert it with `jupyter nbconvert --to notebook`")
    if not isinstance(cells, list):
        raise Unreadable("notebook has no 'cells' list (not nbformat 4)")
    lang = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("language") or \
        ((nb.get("metadata") or {}).get("language_info") or {}).get("name") or "python"
    if isinstance(lang, str) and lang.lower() not in ("python", "python3", "ipython", "ipython3", ""):
        # An R/Julia/Scala notebook: nothing for a Python analysis to read.
        return CodeSource(path=path, kind="notebook", text="", raw_text=raw if keep_raw else "", line_map=LineMap([]), raw_bytewise=bytewise)
    virtual: list[str] = []
    entries: list = []
    magics: list = []
    cell_spans: list = []
    errors: list = []
    cursor = 0
    counter = _LineCounter(raw)
    columns = _CharColumn(raw) if bytewise else None
    wide = None  # bytewise: does the file escape a non-ASCII character anywhere?
    # Each cell's ``"source":`` key, in order (a key's quotes are never escaped, as they are in a
    # string): the search for a cell's lines starts there, past the outputs a writer puts first
    # (nbformat sorts "outputs" before "source"; a base64 image can exceed the search window).
    key_pos = -1
    for number, cell in enumerate(cells, start=1):
        if key_pos is not None:
            found_key = raw.find('"source":', key_pos + 1)
            key_pos = found_key if found_key != -1 else None
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if key_pos is not None and key_pos > cursor:
            cursor = key_pos
        vscode = (cell.get("metadata") or {}).get("vscode") if isinstance(cell.get("metadata"), dict) else None
        if isinstance(vscode, dict) and vscode.get("languageId") not in (None, "python"):
            continue  # a code cell VS Code holds in another language (yaml, sql, markdown): not run as Python
        src = cell.get("source", "")
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if not isinstance(src, str):
            continue
        if bytewise and not src.isascii():
            if wide is None:
                wide = _WIDE_ESCAPE_STR.search(raw) is not None
            if wide:
                return load_notebook(path, _bytes_of(raw), decoded=True, keep_raw=keep_raw)
            src = _fix(src)
        lines = src.splitlines()
        located, cursor = _locate_lines(raw, [l for l in _raw_pieces(src)], cursor, counter, columns)
        # IPython removes the first line's indentation from every line of the cell that has it
        # (``leading_indent``): a cell pasted from inside a block runs
        m = _LEADING_INDENT.match(lines[0]) if lines else None
        shifts = None
        if m:
            n = len(m.group(0))
            shifts = [n if l.startswith(m.group(0)) else 0 for l in lines]
            lines = [l[k:] for l, k in zip(lines, shifts)]
        first_virtual = len(virtual) + 1
        body_is_python = True
        if lines and lines[0].lstrip().startswith("%%"):
            magic = lines[0].lstrip()[2:].split(None, 1)[0] if lines[0].lstrip()[2:].strip() else ""
            body_is_python = magic in PY_CELL_MAGICS
        elif lines and lines[0].strip().split(None, 1)[0:1] and \
                lines[0].strip().split(None, 1)[0] in DATABRICKS_LANGUAGE_MAGICS:
            body_is_python = False  # Databricks: a first-line %sql/%scala/%sh/%md makes the cell that language
        continued = False  # the previous line was a magic or shell escape ending in a backslash
        depth = 0  # open brackets of a line magic (IPython reads on until they close)
        for i, text in enumerate(lines):
            stripped = text.strip()
            vline = len(virtual) + 1
            continuation = continued
            is_magic = continued or (i == 0 and stripped.startswith("%%")) or not body_is_python or _is_magic_line(stripped)
            if is_magic and not continued and body_is_python and i > 0 and \
                    _continues_statement(virtual[first_virtual - 1:]):
                is_magic = False
            if is_magic and body_is_python:
                depth = max(depth + _bracket_balance(text), 0) if (continuation or stripped[:1] == "%") else 0
                continued = text.rstrip().endswith("\\") or depth > 0
            else:
                continued, depth = False, 0
            if is_magic:
                if stripped:
                    magics.append((vline, text))
                indent = text[: len(text) - len(text.lstrip())]
                keep_block = indent and body_is_python and i > 0 and not continuation
                virtual.append(indent + "pass" if keep_block else "")
            else:
                virtual.append(text)
            raw_line, colfn = located[i] if i < len(located) else (located[-1] if located else (1, _CELL_END))
            if shifts is not None and shifts[i]:
                colfn = _Shifted(colfn, shifts[i])
            entries.append((number, i + 1, raw_line, colfn))
        cell_spans.append((number, first_virtual, len(lines)))
        # Cell boundary: a blank line so that a dangling block in one cell can't swallow the next.
        virtual.append("")
        entries.append((number, len(lines) + 1, entries[-1][2] if entries else 1, _CELL_END))
    if not keep_raw:
        raw = counter = columns = None  # the cells are located: the parse does not need the file
    text = "\n".join(virtual) + "\n"
    # Cells that do not parse are blanked (and reported), so the rest is still analysed.
    tree = None
    py2: list = []  # (cell, virtual line) of Python 2 print statements: reported once for the notebook
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        for number, first, n in cell_spans:
            chunk = "\n".join(virtual[first - 1: first - 1 + n])
            try:
                ast.parse(chunk)
            except SyntaxError as exc:
                lineno = (exc.lineno or 1)
                vline = first + min(lineno, max(n, 1)) - 1  # the engine maps it to the cell and raw line
                if exc.msg and "Missing parentheses in call to 'print'" in exc.msg:
                    py2.append((number, vline))
                else:
                    newer = newer_syntax(virtual[vline - 1] if vline <= len(virtual) else "", exc.msg or "")
                    errors.append(LoadError(path, f"cell {number}: syntax error: {exc.msg} (line {lineno} of the cell); "
                                                  f"the cell was skipped", vline, 1, fatal=False, newer=newer))
                for k in range(first - 1, first - 1 + n):
                    virtual[k] = ""
            except (ValueError, RecursionError, MemoryError) as exc:
                errors.append(LoadError(path, f"cell {number}: cannot parse: {exc}; the cell was skipped", first, 1, fatal=False))
                for k in range(first - 1, first - 1 + n):
                    virtual[k] = ""
        text = "\n".join(virtual) + "\n"
    if py2:
        cells_text = ", ".join(str(c) for c, _ in py2[:8]) + (" ..." if len(py2) > 8 else "")
        what = f"cell {py2[0][0]}" if len(py2) == 1 else f"{len(py2)} cells ({cells_text})"
        errors.insert(0, LoadError(path, f"{what}: Python 2 code (`print` statements); "
                                         f"{'the cell was' if len(py2) == 1 else 'these cells were'} skipped",
                                   py2[0][1], 1, fatal=False))
    return CodeSource(path=path, kind="notebook", text=text, raw_text=raw if keep_raw else "",
                      line_map=LineMap(LineEntries(entries)), magics=magics, errors=errors, cells=cell_spans, tree=tree,
                      raw_bytewise=bytewise)


def cell_sources(data: bytes, *, decoded: bool = False) -> list:
    """Every code cell's source as stored (index: cell number - 1; None for other cells), read
    with the loader's care for memory: bytewise where it can be (see ``_bytewise``), outputs
    dropped while parsing.  Raises ``ValueError`` for a file that is not a notebook."""
    raw = None if decoded else _bytewise(data)
    bytewise = raw is not None
    if raw is None:
        raw = decode_text(data)
    nb = json.loads(raw, object_hook=_drop_outputs)
    del raw
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise ValueError("no cells")
    out = []
    for cell in cells:
        src = cell.get("source") if isinstance(cell, dict) and cell.get("cell_type") == "code" else None
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        out.append(src if isinstance(src, str) else None)
    if bytewise and any(src and not src.isascii() for src in out):
        if _WIDE_ESCAPE.search(data) is not None:
            return cell_sources(data, decoded=True)  # escaped and raw characters could mix
        out = [_fix(src) if src else src for src in out]
    return out


def _raw_pieces(src: str) -> list:
    """The source split as nbformat stores it: one JSON string per line, newline included."""
    return [l for l in src.splitlines(keepends=True)][: len(src.splitlines())]


def cell_of(source: CodeSource, line: int) -> Optional[int]:
    entries = source.line_map.entries
    if not entries or line < 1 or line > len(entries):
        return None
    return entries[line - 1][0]
