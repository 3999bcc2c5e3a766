"""Loading files into sources.

Every file becomes either a ``CodeSource`` (Python module or notebook: text analysed with the
stdlib ``ast``) or one or more ``ConfigDocument`` objects (YAML documents, TOML, requirements,
Dockerfile, shell script, Markdown).  Bad input never raises out of here: it becomes a
``LoadError`` that the engine turns into an ``ML0000`` finding, and the scan goes on.
"""
from __future__ import annotations

import codecs
import io
from array import array
import os
import re
import sys
import tokenize
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional

MAX_BYTES = 20 * 1024 * 1024  # larger files are skipped with a notification


@dataclass(slots=True)
class LoadError:
    path: str
    message: str
    line: int = 1
    col: int = 1
    fatal: bool = True  # False: the rest of the file was still analysed (e.g. one bad cell)
    newer: str = ""  # the syntax is valid in this newer Python (``newer_syntax``)


class Unreadable(Exception):
    def __init__(self, message: str, line: int = 1, col: int = 1, newer: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.newer = newer


# Syntax that a newer Python parses and the one running mllint does not: (version, the line's pattern
# or None, the start of the parser's message or None).  PEP 695 type aliases and type parameters and
# PEP 701 f-strings (quotes reused inside, 3.12).
_NEWER_SYNTAX = (
    ((3, 12), re.compile(r"\s*type\s+[A-Za-z_]\w*\s*(\[[^=]*\])?\s*="), None),
    ((3, 12), re.compile(r"\s*(async\s+)?def\s+[A-Za-z_]\w*\s*\["), None),
    ((3, 12), re.compile(r"\s*class\s+[A-Za-z_]\w*\s*\["), None),
    # an f-string whose replacement field reuses the string's own quote and is closed
    ((3, 12), re.compile(r""".*[fF][rR]?(["'])[^\n]*?\{[^}]*\1[^}]*\}"""), "f-string: "),
)


def newer_syntax(line_text: str, message: str, running: tuple = sys.version_info[:2]) -> str:
    """``"3.12"`` when a line the running Python cannot parse uses syntax of that newer Python
    (``type Alias = ...``, ``def f[T](...)``, an f-string reusing its quotes), else ``""``: valid
    code for a project that requires a newer Python, not a syntax error of the project."""
    for version, line_re, msg_start in _NEWER_SYNTAX:
        if running >= version:
            continue
        if (line_re is None or line_re.match(line_text)) and (msg_start is None or message.startswith(msg_start)):
            return ".".join(map(str, version))
    return ""


def decode(data: bytes) -> str:
    """Decode Python-ish text: UTF-8 (with BOM), else a PEP 263 coding cookie."""
    if b"\x00" in data:
        raise Unreadable("file contains NUL bytes (binary file?)")
    try:
        text = data.decode("utf-8")
        return text[1:] if text.startswith("\ufeff") else text
    except UnicodeDecodeError as exc:
        try:
            enc, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            if codecs.lookup(enc).name != "utf-8":
                return data.decode(enc)
        except (SyntaxError, LookupError, UnicodeDecodeError):
            pass
        line = data[: exc.start].count(b"\n") + 1
        raise Unreadable(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", line)


def decode_text(data: bytes) -> str:
    """Decode a config/text file: UTF-8 only."""
    if b"\x00" in data:
        raise Unreadable("file contains NUL bytes (binary file?)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise Unreadable(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", line)
    return text[1:] if text.startswith("\ufeff") else text


class LineEntries:
    """A notebook's line map: per analysed line, (cell, line in the cell, raw line, raw column
    mapper), read like a list of tuples.  Stored as one array per field, with the few mappers that
    are objects (lines JSON escapes) in a dict: a tuple per line took 13 MB of huggingface/notebooks'
    180 k lines, the arrays 2.9 MB."""

    __slots__ = ("_cells", "_cell_lines", "_raw_lines", "_bases", "_fns")

    def __init__(self, entries=()):
        cells, cell_lines, raw_lines, bases = array("I"), array("I"), array("I"), array("q")
        fns: dict = {}
        for i, (cell, cell_line, raw_line, col_of) in enumerate(entries):
            cells.append(cell)
            cell_lines.append(cell_line)
            raw_lines.append(raw_line)
            if type(col_of) is int and col_of >= 0:
                bases.append(col_of)
            else:
                bases.append(-1)  # the mapper is in ``fns``
                fns[i] = col_of
        self._cells, self._cell_lines, self._raw_lines, self._bases, self._fns = cells, cell_lines, raw_lines, bases, fns

    def __len__(self) -> int:
        return len(self._cells)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self._cells)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("line map index out of range")
        base = self._bases[i]
        return self._cells[i], self._cell_lines[i], self._raw_lines[i], (base if base >= 0 else self._fns[i])

    def __iter__(self):
        return map(self.__getitem__, range(len(self._cells)))

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    __hash__ = None

    def __reduce__(self):
        return _load_line_entries, (self._cells, self._cell_lines, self._raw_lines, self._bases, self._fns)


def _load_line_entries(cells, cell_lines, raw_lines, bases, fns) -> LineEntries:
    e = LineEntries.__new__(LineEntries)
    e._cells, e._cell_lines, e._raw_lines, e._bases, e._fns = cells, cell_lines, raw_lines, bases, fns
    return e


@dataclass
class LineMap:
    """Maps analysed-text lines to the stored file.  Identity for plain files."""

    # For notebooks: virtual line (1-based) -> (cell 1-based, line in cell, raw line, raw col offset);
    # a ``LineEntries`` (a list in tests)
    entries: Optional[Any] = None

    def map(self, line: int, col: int) -> tuple:
        """-> (file line, file col, cell, cell_line, cell_col)."""
        if self.entries is None:
            return line, col, None, None, None
        if not self.entries:
            return 1, 1, None, None, None
        idx = min(max(line, 1), len(self.entries)) - 1
        cell, cell_line, raw_line, raw_col_of = self.entries[idx]
        if callable(raw_col_of):  # (a dedented line's mapper also shifts the cell column)
            return raw_line, raw_col_of(col), cell, cell_line, col + getattr(raw_col_of, "shift", 0)
        return raw_line, raw_col_of + col, cell, cell_line, col


@dataclass
class CodeSource:
    path: str  # repository-relative
    kind: str  # "python" | "notebook"
    text: str  # analysed text (notebooks: the virtual module)
    raw_text: str  # the file as stored
    line_map: LineMap = field(default_factory=LineMap)
    magics: list = field(default_factory=list)  # notebooks: (virtual line, raw magic text)
    errors: list = field(default_factory=list)  # non-fatal LoadErrors
    cells: list = field(default_factory=list)  # notebooks: (cell number, first virtual line, n lines)
    tree: Any = None  # notebooks: the parsed virtual module, for the caller to take
    raw_bytewise: bool = False  # notebooks: raw_text holds the file's bytes, one per character

    _lines: Optional[list] = None

    @property
    def lines(self) -> list:
        if self._lines is None:
            # the tokenizer's line breaks only (str.splitlines also breaks at \f, \x1c, \u2028...)
            self._lines = _NEWLINES.split(self.text)
        return self._lines

    def line_text(self, line: int) -> str:
        lines = self.lines
        return lines[line - 1] if 0 < line <= len(lines) else ""


_NEWLINES = re.compile(r"\r\n|\r|\n")


def regular_small(path: str, limit: int = MAX_BYTES) -> bool:
    """A regular file of at most ``limit`` bytes: safe to open and read whole (a FIFO would block,
    a huge file is not analysed)."""
    try:
        return os.path.isfile(path) and os.path.getsize(path) <= limit
    except OSError:
        return False


def code_lines(text: str) -> list:
    """The lines of Python source as its tokenizer (and ``ast``'s line numbers) counts them: broken
    at ``\\n``, ``\\r\\n`` and ``\\r`` only, and like ``str.splitlines`` without a last empty line.
    ``str.splitlines`` also breaks at form feeds, vertical tabs, ``\\x1c``-``\\x1e``, ``\\x85`` and
    U+2028/2029: a form feed on a line of its own (an Emacs page break) shifted every later line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines[-1]:
        lines.pop()
    return lines


_LINES: dict = {}  # id(text) -> (text, its lines), most recent last; holding the text keeps the id valid
_LINES_MAX = 8


def forget_lines() -> None:
    """Drop the cached line lists and texts read again (``reread_text``): a file's own are of no
    use once it is processed (a worker kept eight multi-megabyte install scripts' lines, kserve:
    85 MB a worker), nor a scan's once it is over."""
    _LINES.clear()
    reread_text.cache_clear()


_LINES_MAX_CHARS = 1 << 20  # ...and older entries only while the texts total at most this


def split_lines_cached(text: str) -> list:
    key = id(text)
    hit = _LINES.get(key)
    if hit is not None and hit[0] is text:
        return hit[1]
    lines = text.splitlines()
    _LINES[key] = (text, lines)
    # bounded in texts and in characters: eight multi-megabyte install scripts' lines (kserve)
    # held 40 MB during the project phase
    while len(_LINES) > _LINES_MAX or (len(_LINES) > 1 and sum(len(t) for t, _ in _LINES.values()) > _LINES_MAX_CHARS):
        try:
            del _LINES[next(iter(_LINES))]
        except (KeyError, StopIteration, RuntimeError):  # another thread got there first
            break
    return lines


@dataclass
class ConfigDocument:
    """One parsed config document.

    ``data`` is the parsed value: for YAML a ``YMap``/``YList`` tree whose ``line_of(key)``
    gives the line of every key; for other kinds a kind-specific structure (see each loader).
    """

    path: str
    kind: str  # see discovery.CONFIG_KINDS
    data: Any
    text: str
    index: int = 0  # document index in a multi-document YAML file
    line: int = 1  # first line of the document
    subkind: str = ""  # YAML: k8s kind (Deployment, InferenceService, ...)

    @property
    def lines(self) -> list:
        """``text.splitlines()``, shared by the documents of one multi-document YAML file (they
        share the text) and kept for the few most recent texts only: cached on each document, a
        repository of large generated manifests held its text a dozen times over as line lists
        (kserve: 95 MB)."""
        return split_lines_cached(self.text)

    def line_text(self, line: int) -> str:
        lines = self.lines
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def line_length(self, line: int) -> int:
        return len(self.line_text(line))

    def evidence(self, rx) -> bool:
        """Does the text match ``rx`` (a compiled pattern)?  Rules search config texts for evidence
        that silences them: a text that cannot be read again (``UNREAD``: the file changed since it
        was analysed) counts as a match, an unknown being no reason to report."""
        text = self.text
        return text is UNREAD or (bool(text) and rx.search(text) is not None)

    def __getstate__(self):
        state = dict(self.__dict__)
        if self.kind == "markdown":
            # a Markdown file is kept as its headings: its text (most of a documentation-heavy
            # repository's config memory) is read again by the one rule that needs it, through
            # ``Project.doc_text``
            state["text"] = None
        elif state.get("reread") is not None:
            state.pop("text", None)  # read again on access: see __getattr__
        return state

    def __getattr__(self, name: str):
        """Only reached for an attribute that is not set: the text of a large config file, which
        leaves a worker (and the cache) without it (``reread``: its absolute path and digest; a
        cache hit names the path it is read from now).  Generated install scripts and manifests
        held most of a config-heavy repository's memory as text (kserve: 100 MB) that only a few
        rules read, so it is read again from disk when one does.  A file that changed since it
        was analysed reads as ``UNREAD`` (empty; ``evidence`` counts it as a match)."""
        if name == "text":
            reread = self.__dict__.get("reread")
            if reread is not None:
                return reread_text(*reread)
        raise AttributeError(name)


# config files at least this large travel without their text.  Few rules read a config text (they
# read the parsed data), so the cost of reading one again is small; what they save is not: kserve's
# 143 install scripts under 64 KB held 5.6 MB as text (PSS 77 -> 72 MB at 4 KB, no change in time)
LAZY_TEXT_MIN = 4 * 1024


class _Unread(str):
    __slots__ = ()


UNREAD = _Unread()  # the text of a file that changed or vanished since it was analysed: "", told apart by identity


@lru_cache(maxsize=2)  # the texts read again most recently (``forget_lines`` clears them)
def reread_text(abspath: str, digest: str) -> str:
    from mllint._hash import blake2b

    try:
        with open(abspath, "rb") as fh:
            data = fh.read()
    except OSError:
        return UNREAD
    if blake2b(data, digest_size=16).hexdigest() != digest:
        return UNREAD
    try:
        return decode_text(data)
    except Unreadable:
        return UNREAD


_COMMENT_RE = re.compile(r"#.*$")
