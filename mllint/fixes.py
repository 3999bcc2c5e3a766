"""Autofix: ``mllint check --fix / --unsafe-fixes / --diff / --show-fixes / --add-noqa``.

Design (see docs/fixes.md):

* The analysis path never builds a libcst tree.  After a scan, ``mark_fixable`` attaches a
  ``Fix`` *without edits* to findings whose rule has a fixer (cheap: code + a look at the
  finding's line at most), so text output shows ``[*]``.
* Edits are computed lazily, per file, only for files with fixable findings (``--fix``,
  ``--diff``, SARIF, the language server): each fixer is keyed by rule code and works from the
  finding's location and the file's text, whatever the rule's internals.
* Syntactic transforms use libcst on the smallest piece of code that changes (format
  preserving); inserted statements are formatted with ruff-api and re-indented to the block
  they go into.  Nothing else in the file changes.
* Fixes apply in passes (at most ``MAX_PASSES``), re-scanning the fixed text in memory, until no
  fix applies.  A fix whose result does not parse (Python, notebook cells, TOML) is discarded
  and reported.
* Notebooks are edited cell by cell and written back as nbformat JSON with the file's own
  indentation; outputs and metadata are untouched.

Edits produced by fixers are ``TEdit``s in *edit coordinates*: for Python and config files the
file's own lines; for notebooks the virtual module's lines (each line carrying the original cell
text, magics included).  ``Doc.file_edits`` turns them into file-coordinate ``Edit``s (raw JSON
for notebooks) for SARIF and the LSP.
"""
from __future__ import annotations

import ast
import difflib
import io
import json
import os
import re
import sys
import tokenize
from dataclasses import dataclass, field
from typing import Callable, Optional

from mllint.finding import Edit, Fix
from mllint.summary import dotted

MAX_PASSES = 10
SEED_NAMES = ("SEED", "RANDOM_STATE", "RANDOM_SEED")
DEFAULT_SEED = "42"


# ---------------------------------------------------------------------------------- edits
@dataclass(slots=True)
class TEdit:
    """Replace [start, end) in edit coordinates (1-based line, 1-based code-point column)."""

    line: int
    col: int
    end_line: int
    end_col: int
    content: str


@dataclass
class Candidate:
    code: str
    title: str
    safe: bool
    edits: list  # TEdits
    finding: object = None


# ----------------------------------------------------------------------------- documents
def _split(text: str) -> list:
    """Lines without their ``\\n`` (a ``\\r`` stays), as ``ast``/tokenize count them."""
    return text.split("\n")


def _offsets(lines: list) -> list:
    out, pos = [], 0
    for ln in lines:
        out.append(pos)
        pos += len(ln) + 1
    return out


def apply_text_edits(text: str, edits: list) -> str:
    """Apply non-overlapping TEdits (line/col in ``text``'s own lines) to ``text``."""
    lines = _split(text)
    offs = _offsets(lines)

    def off(line: int, col: int) -> int:
        if line > len(lines):
            return len(text)
        return min(offs[line - 1] + col - 1, offs[line - 1] + len(lines[line - 1]))

    spans = sorted(((off(e.line, e.col), off(e.end_line, e.end_col), e.content) for e in edits), reverse=True)
    out = text
    for s, e, content in spans:
        out = out[:s] + content + out[e:]
    return out


def _edit_span(text: str, e: TEdit) -> tuple:
    lines = _split(text)
    offs = _offsets(lines)

    def off(line: int, col: int) -> int:
        if line > len(lines):
            return len(text)
        return offs[line - 1] + col - 1

    return off(e.line, e.col), off(e.end_line, e.end_col)


def _common_prefix_len(a: str, b: str) -> int:
    """Length of the common prefix of ``a`` and ``b``, found by halving with slice comparisons (C
    speed): compared one character at a time in Python, a multi-megabyte notebook took 40 ms."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo], and they differ at an index in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _minimal_edit(old: str, new: str) -> Optional[Edit]:
    """One file-coordinate Edit turning ``old`` into ``new`` (common prefix/suffix trimmed)."""
    if old == new:
        return None
    p = _common_prefix_len(old, new)
    s = _common_prefix_len(old[p:][::-1], new[p:][::-1])  # the common suffix, not overlapping the prefix
    a, b = p, len(old) - s

    def pos(i: int) -> tuple:
        line = old.count("\n", 0, i) + 1
        col = i - (old.rfind("\n", 0, i) + 1) + 1
        return line, col

    (l1, c1), (l2, c2) = pos(a), pos(b)
    return Edit(l1, c1, l2, c2, new[p: len(new) - s])


class Doc:
    """One file being fixed: its current text and how edits map onto it."""

    def __init__(self, path: str, kind: str, raw: str):
        self.path = path
        self.kind = kind
        self.raw = raw
        self._tree = None
        self.nb = None
        if kind == "notebook":
            from mllint.sources.notebook import load_notebook

            self.nb = json.loads(raw)
            src = load_notebook(path, raw.encode("utf-8"))
            self.text = src.text  # the virtual module (parses)
            self.entries = (src.line_map.entries or []) if src.line_map else []
            self.cells = {num: (first, n) for num, first, n in src.cells}
            self.cell_src = {}
            for num, cell in enumerate(self.nb.get("cells", []), start=1):
                s = cell.get("source", "") if isinstance(cell, dict) else ""
                self.cell_src[num] = "".join(s) if isinstance(s, list) else (s if isinstance(s, str) else "")
            elines = []
            for cell, cell_line, *_rest in self.entries:
                clines = _split(self.cell_src.get(cell, ""))
                _first, n = self.cells.get(cell, (0, 0))
                elines.append(clines[cell_line - 1] if cell_line <= n and cell_line <= len(clines) else "")
            self.lines = elines
            self.n_errors = len(src.errors)
        else:
            self.text = raw
            self.lines = _split(raw)
            self.n_errors = 0

    # --- helpers for fixers
    def tree(self):
        if self._tree is None:
            self._tree = ast.parse(self.text)
        return self._tree

    def line(self, n: int) -> str:
        """The edit-coordinate line ``n`` (notebooks: the cell's own text, magics included)."""
        return self.lines[n - 1] if 0 < n <= len(self.lines) else ""

    def code_line(self, n: int) -> str:
        """The analysed text's line ``n`` (notebook magics blanked)."""
        lines = _split(self.text)
        return lines[n - 1] if 0 < n <= len(lines) else ""

    def position(self, finding) -> tuple:
        """(line, col) of a finding in edit coordinates."""
        loc = finding.location
        if self.kind == "notebook":
            if loc.cell is None or loc.cell not in self.cells:
                return 0, 0
            first, _n = self.cells[loc.cell]
            return first + (loc.cell_line or 1) - 1, loc.cell_col or 1
        return loc.line, loc.col

    def cell_of(self, line: int) -> Optional[tuple]:
        """(cell, line in cell, n lines) of an edit-coordinate line (notebooks)."""
        if not (0 < line <= len(self.entries)):
            return None
        cell, cell_line = self.entries[line - 1][0], self.entries[line - 1][1]
        return cell, cell_line, self.cells.get(cell, (0, 0))[1]

    # --- applying
    def apply(self, edits: list) -> str:
        """The new file text with ``edits`` applied (raises ValueError if they cannot be)."""
        if self.kind != "notebook":
            return apply_text_edits(self.raw, edits)
        per_cell: dict = {}
        for e in edits:
            a, b = self.cell_of(e.line), self.cell_of(e.end_line)
            if a is None or b is None or a[0] != b[0]:
                raise ValueError("an edit spans notebook cells")
            per_cell.setdefault(a[0], []).append(TEdit(a[1], e.col, b[1], e.end_col, e.content))
        nb = json.loads(self.raw)
        cells = nb.get("cells", [])
        for num, cedits in per_cell.items():
            cell = cells[num - 1]
            src = self.cell_src[num]
            n = len(_split(src))
            fixed = []
            for e in cedits:
                # An insertion after the last line of a cell that has no final newline.
                if e.line > n and not src.endswith("\n") and src and e.content.endswith("\n"):
                    e = TEdit(e.line, e.col, e.end_line, e.end_col, "\n" + e.content[:-1])
                fixed.append(e)
            new_src = apply_text_edits(src, fixed)
            if isinstance(cell.get("source"), list):
                cell["source"] = new_src.splitlines(keepends=True)
            else:
                cell["source"] = new_src
        return dump_notebook(nb, self.raw)

    def file_edits(self, edits: list, applied: Optional[str] = None) -> list:
        """File-coordinate ``Edit``s for SARIF and the LSP (``applied``: ``self.apply(edits)``, when
        the caller has it)."""
        if self.kind != "notebook":
            return [Edit(e.line, e.col, e.end_line, e.end_col, e.content) for e in edits]
        e = _minimal_edit(self.raw, self.apply(edits) if applied is None else applied)
        return [e] if e else []


def dump_notebook(nb: dict, like: str) -> str:
    """nbformat JSON in the style of ``like``: same indentation, escaping and final newline."""
    indent = 1
    m = re.search(r"\n( +)\"", like)
    if m:
        indent = len(m.group(1))
    elif "\n" not in like.strip():
        indent = None
    ensure_ascii = bool(re.search(r"\\u[0-9a-fA-F]{4}", like)) and not any(ord(c) > 127 for c in like)
    out = json.dumps(nb, indent=indent, ensure_ascii=ensure_ascii)
    if like.endswith("\n"):
        out += "\n"
    if "\r\n" in like:
        out = out.replace("\n", "\r\n")
    return out


def parses(doc: Doc, new_text: str) -> bool:
    """Does the fixed text still parse (and, for notebooks, parse as well as before)?"""
    try:
        if doc.kind == "python":
            ast.parse(new_text)
        elif doc.kind == "notebook":
            nd = Doc(doc.path, "notebook", new_text)
            if nd.n_errors > doc.n_errors:
                return False
            ast.parse(nd.text)
        elif doc.kind == "pyproject" or doc.path.endswith(".toml"):
            try:
                import tomllib
            except ImportError:  # pragma: no cover
                import tomli as tomllib
            tomllib.loads(new_text)
        elif doc.kind in ("yaml", "conda-env", "params", "github-workflow", "gitlab-ci", "dvc", "mlproject"):
            import yaml

            list(yaml.safe_load_all(new_text))
    except Exception:
        return False
    return True


# ---------------------------------------------------------------------- formatting helpers
def ruff_format(code: str, line_width: int = 88) -> str:
    """Format inserted code with ruff-api (falls back to the code as given)."""
    try:
        import ruff_api

        opts = ruff_api.FormatOptions(line_width=line_width)
        out = ruff_api.format_string("inserted.py", code, opts)
        return out if out.strip() else code
    except Exception:
        return code


def indent_unit(doc: Doc) -> str:
    for ln in doc.lines:
        s = ln.lstrip(" \t")
        if s and ln != s and not s.startswith("#"):
            ws = ln[: len(ln) - len(s)]
            return ws if ws.startswith("\t") else " " * len(ws) if len(ws) <= 8 else "    "
    return "    "


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def statements(code: str, indent: str, newline: str = "\n") -> str:
    """``code`` formatted by ruff, every line indented with ``indent``, newline-terminated."""
    formatted = ruff_format(code)
    out = []
    for ln in formatted.splitlines():
        out.append((indent + ln) if ln.strip() else "")
    return newline.join(out) + newline


def _newline(doc: Doc) -> str:
    return "\r\n" if doc.kind != "notebook" and "\r\n" in doc.raw else "\n"


def byte_to_cp(line: str, byte_col: int) -> int:
    """0-based byte offset in a UTF-8 line -> 0-based code point offset."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def node_start(doc: Doc, node) -> tuple:
    """(line, 1-based code point col) of an ast node's start."""
    return node.lineno, byte_to_cp(doc.code_line(node.lineno), node.col_offset) + 1


def node_end(doc: Doc, node) -> tuple:
    return node.end_lineno, byte_to_cp(doc.code_line(node.end_lineno), node.end_col_offset) + 1


def segment(doc: Doc, node) -> str:
    (l1, c1), (l2, c2) = node_start(doc, node), node_end(doc, node)
    lines = _split(doc.text)
    if l1 == l2:
        return lines[l1 - 1][c1 - 1: c2 - 1]
    parts = [lines[l1 - 1][c1 - 1:]] + lines[l1: l2 - 1] + [lines[l2 - 1][: c2 - 1]]
    return "\n".join(parts)


# ------------------------------------------------------------------------- ast helpers


def _parents(tree) -> dict:
    out = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[child] = node
    return out


def calls_at(doc: Doc, line: int, col: int) -> list:
    """Calls starting at (line, col) (ast columns), innermost first; else calls covering it."""
    tree = doc.tree()
    exact, covering = [], []
    c0 = col - 1
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if node.lineno == line and node.col_offset == c0:
            exact.append(node)
        elif (node.lineno, node.col_offset) <= (line, c0) < (node.end_lineno, node.end_col_offset):
            covering.append(node)

    def size(n):
        return (n.end_lineno - n.lineno, n.end_col_offset - n.col_offset if n.end_lineno == n.lineno else 0)

    if exact:
        return sorted(exact, key=size)
    # The func-name position of a call (``self.model(x)`` anchored at ``model``)
    return sorted(covering, key=size)


def module_seed_constant(doc: Doc, before_line: int) -> Optional[str]:
    """A module-level ``SEED``/``RANDOM_STATE``/``RANDOM_SEED`` int constant defined before a line."""
    found = {}
    for st in doc.tree().body:
        if isinstance(st, (ast.Assign, ast.AnnAssign)) and st.lineno < before_line:
            targets = st.targets if isinstance(st, ast.Assign) else [st.target]
            val = st.value
            if val is None:
                continue
            for t in targets:
                if isinstance(t, ast.Name) and t.id in SEED_NAMES:
                    if isinstance(val, ast.Constant) and isinstance(val.value, int) and not isinstance(val.value, bool):
                        found[t.id] = True
                    elif t.id in found:
                        del found[t.id]
    for name in SEED_NAMES:
        if name in found:
            return name
    return None


def module_bindings(doc: Doc) -> dict:
    """Top-level import bindings: local name -> module (``import numpy as np`` -> np: numpy)."""
    out = {}
    for st in ast.walk(doc.tree()):
        if isinstance(st, ast.Import):
            for a in st.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    out[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(st, ast.ImportFrom) and st.module and not st.level:
            for a in st.names:
                out[a.asname or a.name] = f"{st.module}.{a.name}"
    return out


def alias_for(doc: Doc, module: str, before: int = 0) -> Optional[str]:
    """The local name bound to ``module`` by a top-level ``import`` (ending before line ``before``)."""
    for st in doc.tree().body:
        if before and st.end_lineno >= before:
            break
        if isinstance(st, ast.Import):
            for a in st.names:
                if a.name == module:
                    return a.asname or module
        if isinstance(st, ast.Try):  # try: import torch / except ImportError
            for s in st.body:
                if isinstance(s, ast.Import):
                    for a in s.names:
                        if a.name == module:
                            return a.asname or module
    return None


def _is_header_stmt(st, first: bool) -> bool:
    if isinstance(st, (ast.Import, ast.ImportFrom)):
        return True
    if first and isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant) and isinstance(st.value.value, str):
        return True
    if isinstance(st, (ast.Assign, ast.AnnAssign)):
        v = st.value
        return v is not None and not any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.NamedExpr))
                                         for n in ast.walk(v))
    return False


def header_end(doc: Doc) -> int:
    """Last line of the module's header (docstring, imports, constants); 0 if none."""
    end = 0
    for i, st in enumerate(doc.tree().body):
        if not _is_header_stmt(st, i == 0):
            break
        end = st.end_lineno
    return end


def last_import_end(doc: Doc) -> int:
    end = 0
    for i, st in enumerate(doc.tree().body):
        if isinstance(st, (ast.Import, ast.ImportFrom)):
            end = st.end_lineno
        elif not _is_header_stmt(st, i == 0):
            break
    if end == 0:
        body = doc.tree().body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            end = body[0].end_lineno
    return end


def import_edit(doc: Doc, stmts: list) -> Optional[TEdit]:
    """Insert import statements after the module's top-level imports."""
    if not stmts:
        return None
    after = last_import_end(doc)
    nl = _newline(doc)
    text = statements("\n".join(stmts), "", nl)
    return TEdit(after + 1, 1, after + 1, 1, text)


# -------------------------------------------------------------------------- the registry
@dataclass
class Fixer:
    code: str
    name: str
    safe: bool
    title: str
    compute: Callable  # (doc, finding, ctx) -> Optional[(title, [TEdit])]
    available: Callable = None  # (finding, ctx) -> bool, cheap; None = always
    kinds: tuple = ("python", "notebook")


FIXERS: dict = {}


def fixer_for(code: str) -> Optional[Fixer]:
    """The fixer of a rule, unless the registered rule declares ``fix="none"`` (its owner's opt-out)."""
    fx = FIXERS.get(code)
    if fx is None:
        return None
    if _declared_fix().get(code, "unsafe") == "none":
        return None
    return fx


_DECLARED: dict = {}


def _declared_fix() -> dict:
    """rule code -> meta.fix of the registered rules (read once per process)."""
    if not _DECLARED:
        try:
            from mllint import registry

            _DECLARED.update({r.meta.code: getattr(r.meta, "fix", "none") for r in registry.all_rules()})
        except Exception:  # pragma: no cover - a broken rule pack must not break fixing
            pass
        _DECLARED.setdefault("", "none")  # mark as loaded
    return _DECLARED


def fixer(code: str, name: str, safe: bool, title: str, kinds=("python", "notebook"), available=None):
    def deco(fn):
        FIXERS[code] = Fixer(code, name, safe, title, fn, available, kinds)
        return fn

    return deco


class Context:
    """What fixers may look at besides the file: the project root, other files, the project."""

    def __init__(self, root: str, result=None, texts: Optional[dict] = None):
        self.root = root
        self.result = result
        self.texts = texts if texts is not None else {}
        self._versions = None
        self._lines_cache: dict = {}

    def read(self, rel: str) -> Optional[str]:
        if rel in self.texts:
            return self.texts[rel]
        try:
            with open(os.path.join(self.root, rel), encoding="utf-8", newline="") as fh:
                return fh.read()
        except (OSError, UnicodeDecodeError):
            return None

    def finding_line(self, finding) -> str:
        """The finding's source line (cell line for notebooks), read lazily."""
        loc = finding.location
        key = loc.path
        if key not in self._lines_cache:
            text = self.read(loc.path)
            if text is not None and loc.path.endswith(".ipynb"):
                try:
                    nb = json.loads(text)
                    cells = []
                    for c in nb.get("cells", []):
                        s = c.get("source", "") if isinstance(c, dict) else ""
                        cells.append(_split("".join(s) if isinstance(s, list) else s))
                    self._lines_cache[key] = cells
                except Exception:
                    self._lines_cache[key] = None
            else:
                self._lines_cache[key] = _split(text) if text is not None else None
        data = self._lines_cache[key]
        if data is None:
            return ""
        if loc.cell is not None:
            cl = data[loc.cell - 1] if 0 < loc.cell <= len(data) else []
            return cl[loc.cell_line - 1] if loc.cell_line and 0 < loc.cell_line <= len(cl) else ""
        return data[loc.line - 1] if 0 < loc.line <= len(data) else ""

    def inventory(self) -> list:
        if self.result is not None and getattr(self.result, "discovery", None) is not None:
            return list(self.result.discovery.inventory)
        out = []
        for dp, dns, fns in os.walk(self.root):
            dns[:] = [d for d in dns if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
            for f in fns:
                out.append(os.path.relpath(os.path.join(dp, f), self.root).replace(os.sep, "/"))
        return out

    def versions(self):
        if self._versions is None:
            self._versions = VersionResolver(self)
        return self._versions


# ------------------------------------------------------------- ML0301 / ML0305 random_state
def _add_kwarg_cst(call_src: str, name: str, value: str, replace_none: bool) -> Optional[str]:
    """libcst: add (or fill an explicit ``None``) keyword argument to one call's source."""
    import libcst as cst

    try:
        expr = cst.parse_expression(call_src)
    except Exception:
        try:
            expr = cst.parse_expression("(" + call_src + ")").value  # type: ignore[attr-defined]
        except Exception:
            return None
    if not isinstance(expr, cst.Call):
        return None
    args = list(expr.args)
    if any(a.star for a in args):
        return None
    value_node = cst.parse_expression(value)
    for i, a in enumerate(args):
        if a.keyword is not None and a.keyword.value == name:
            if replace_none and isinstance(a.value, cst.Name) and a.value.value == "None":
                args[i] = a.with_changes(value=value_node)
                return cst.Module([]).code_for_node(expr.with_changes(args=args))
            return None
    new_arg = cst.Arg(value=value_node, keyword=cst.Name(name),
                      equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                            whitespace_after=cst.SimpleWhitespace("")))
    if not args:
        args = [new_arg]
    else:
        last = args[-1]
        has_trailing = not isinstance(last.comma, cst.MaybeSentinel)
        if len(args) >= 2 and not isinstance(args[-2].comma, cst.MaybeSentinel):
            between = args[-2].comma
        elif has_trailing and isinstance(expr.whitespace_before_args, cst.ParenthesizedWhitespace):
            between = cst.Comma(whitespace_after=expr.whitespace_before_args)
        else:
            between = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        if has_trailing:
            new_arg = new_arg.with_changes(comma=last.comma)
        # the whitespace before ``)`` moves to the new last argument
        new_arg = new_arg.with_changes(whitespace_after_arg=last.whitespace_after_arg)
        inner_ws = args[-2].whitespace_after_arg if len(args) >= 2 else cst.SimpleWhitespace("")
        args[-1] = last.with_changes(comma=between, whitespace_after_arg=inner_ws)
        args.append(new_arg)
    return cst.Module([]).code_for_node(expr.with_changes(args=args))


def _named_calls_on_line(doc: Doc, line: int, message: str) -> list:
    """Calls starting on ``line`` whose callee is the first name in backticks in ``message``."""
    m = re.search(r"`([A-Za-z_][\w.]*)`", message or "")
    if not m:
        return []
    name = m.group(1).rsplit(".", 1)[-1]
    return [n for n in ast.walk(doc.tree()) if isinstance(n, ast.Call) and n.lineno == line
            and (dotted(n.func) or "").rsplit(".", 1)[-1] == name]


def _random_state_fix(doc: Doc, finding, ctx) -> Optional[tuple]:
    line, col = doc.position(finding)
    calls = calls_at(doc, line, col) or _named_calls_on_line(doc, line, getattr(finding, "message", ""))
    if len(calls) > 1 and not any(c.col_offset == col - 1 for c in calls):
        calls = calls[:1] if len({(c.col_offset) for c in calls}) == 1 else []
    if not calls:
        return None
    call = calls[0]
    for k in call.keywords:
        if k.arg is None:
            return None  # **kwargs may carry it
        if k.arg == "shuffle" and isinstance(k.value, ast.Constant) and k.value.value is False:
            return None  # never seed a split that does not shuffle
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None
    fname = dotted(call.func) or ""
    if fname.rsplit(".", 1)[-1] in ("KFold", "StratifiedKFold", "GroupKFold") and len(call.args) >= 2:
        a1 = call.args[1]
        if isinstance(a1, ast.Constant) and a1.value is False:
            return None
    value = module_seed_constant(doc, call.lineno) or DEFAULT_SEED
    # the keyword the rule asks for (``seed``/``random_seed`` for some boosters)
    km = re.search(r"pass `(\w+)=", getattr(finding, "message", "") or "")
    kw = km.group(1) if km and km.group(1) in ("random_state", "seed", "random_seed") else "random_state"
    if kw != "random_state" and any(k.arg == "random_state" for k in call.keywords):
        kw = "random_state"
    src = segment(doc, call)
    new = _add_kwarg_cst(src, kw, ruff_format(value).strip(), replace_none=True)
    if new is None or new == src:
        return None
    (l1, c1), (l2, c2) = node_start(doc, call), node_end(doc, call)
    return f"Add `{kw}={value}`", [TEdit(l1, c1, l2, c2, new)]


fixer("ML0301", "split-without-random-state", False, "Add `random_state=`")(_random_state_fix)
fixer("ML0305", "estimator-without-random-state", False, "Add `random_state=`")(_random_state_fix)


# --------------------------------------------------------------------- ML0303 seed calls
FRAMEWORK_OF = {
    "random": "random", "numpy": "numpy", "sklearn": "numpy", "pandas": None,
    "torch": "torch", "torchvision": "torch", "lightning": "torch", "pytorch_lightning": "torch",
    "transformers": "torch", "tensorflow": "tensorflow", "keras": "tensorflow", "tf_keras": "tensorflow",
}
SEED_ORDER = ("random", "numpy", "torch", "tensorflow")
SEED_CALL = {  # framework -> (module to import, preferred alias, call template, already-seeded markers)
    "random": ("random", "random", "{a}.seed({s})", (r"\brandom\.seed\(", r"\bseed_everything\(", r"\bset_seed\(",
                                                      r"\bset_random_seed\(")),
    "numpy": ("numpy", "np", "{a}.random.seed({s})", (r"\.random\.seed\(", r"\bseed_everything\(", r"\bset_seed\(",
                                                       r"\bset_random_seed\(")),
    "torch": ("torch", "torch", "{a}.manual_seed({s})", (r"\bmanual_seed\(", r"\bseed_everything\(", r"\bset_seed\(")),
    "tensorflow": ("tensorflow", "tf", "{a}.random.set_seed({s})", (r"\bset_seed\(", r"\bset_random_seed\(")),
}


def _frameworks(doc: Doc, ctx) -> list:
    mods = set()
    for st in ast.walk(doc.tree()):
        if isinstance(st, ast.Import):
            mods.update(a.name.split(".")[0] for a in st.names)
        elif isinstance(st, ast.ImportFrom) and st.module and not st.level:
            mods.add(st.module.split(".")[0])
    # modules of the project this file imports (one level is enough for the usual train.py -> model.py)
    project = getattr(ctx.result, "project", None) if ctx is not None else None
    summaries = getattr(project, "summaries", None) or {}
    if summaries:
        by_module = {getattr(s, "module", None): s for s in summaries.values()}
        me = summaries.get(doc.path)
        seen = set()
        todo = [i.module for i in (getattr(me, "imports", None) or [])]
        while todo:
            m = todo.pop()
            if m in seen:
                continue
            seen.add(m)
            s = by_module.get(m)
            if s is None:
                continue
            for imp in s.imports:
                mods.add(imp.module.split(".")[0])
                todo.append(imp.module)
    out = []
    for fw in SEED_ORDER:
        if any(FRAMEWORK_OF.get(m) == fw for m in mods):
            out.append(fw)
    return out


def _first_line(st) -> int:
    return min([st.lineno] + [d.lineno for d in getattr(st, "decorator_list", ())])


def _main_block(doc: Doc):
    for st in doc.tree().body:
        if isinstance(st, ast.If) and isinstance(st.test, ast.Compare):
            sides = [st.test.left] + list(st.test.comparators)
            if any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and \
                    any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides):
                return st
    return None


def _seed_fix(doc: Doc, finding, ctx) -> Optional[tuple]:
    if doc.kind not in ("python", "notebook"):
        return None
    fws = _frameworks(doc, ctx)
    # the rule names the unseeded generators: "uses the `torch`, `numpy` random generators"
    mm = re.search(r"uses the (.*?) random generator", getattr(finding, "message", "") or "")
    if mm:
        named = re.findall(r"`([\w-]+)`", mm.group(1))
        fws = [fw for fw in SEED_ORDER if fw in named]
    if not fws:
        return None
    text = doc.text
    nl = _newline(doc)
    main = _main_block(doc) if doc.kind == "python" else None
    tree = doc.tree()
    # Seed in the main block only when nothing at module level runs before it.
    use_main = main is not None and all(
        st is main or isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or _is_header_stmt(st, i == 0)
        for i, st in enumerate(tree.body))
    if use_main:
        at_line = main.body[0].lineno
        indent = _indent_of(doc.line(at_line))
        before = main.lineno + 1
    else:
        at_line = header_end(doc) + 1
        nxt = [st for st in tree.body if st.lineno >= at_line]
        if nxt and _first_line(nxt[0]) < at_line:
            return None
        if at_line == 1 and nxt:
            at_line = _first_line(nxt[0])  # keep a shebang / coding line / leading comments on top
        indent = ""
        before = at_line
    seed = module_seed_constant(doc, before) or DEFAULT_SEED
    calls, imports = [], []
    bound = module_bindings(doc)
    for fw in fws:
        module, pref, template, markers = SEED_CALL[fw]
        if any(re.search(m, text) for m in markers):
            continue
        alias = alias_for(doc, module, before)
        if alias is None:
            if pref not in bound:
                alias = pref
                imports.append(f"import {module}" + (f" as {pref}" if pref != module else ""))
            elif module not in bound:
                alias = module
                imports.append(f"import {module}")
            else:
                continue
        calls.append(template.format(a=alias, s=seed))
    if not calls:
        return None
    edits = []
    imp = import_edit(doc, imports)
    seed_text = statements("\n".join(calls), indent, nl)
    if imp is not None and not use_main and imp.line == at_line:
        edits.append(TEdit(at_line, 1, at_line, 1, imp.content + seed_text))
    else:
        if imp is not None:
            edits.append(imp)
        edits.append(TEdit(at_line, 1, at_line, 1, seed_text))
    names = ", ".join(c.split("(")[0] for c in calls)
    return f"Seed the run ({names})", edits


fixer("ML0303", "unseeded-training", False, "Insert seed calls")(_seed_fix)


# ------------------------------------------------------------------- ML1102 .eval()
def _stmt_of(parents: dict, node):
    while node is not None and not isinstance(node, ast.stmt):
        node = parents.get(node)
    return node


def _body_of(parents: dict, stmt):
    """(parent node, the list holding ``stmt``)."""
    p = parents.get(stmt)
    if p is None:
        return None, None
    for fld in ("body", "orelse", "finalbody", "handlers"):
        seq = getattr(p, fld, None)
        if isinstance(seq, list) and stmt in seq:
            return p, seq
    return p, None


def _targets(st) -> list:
    if isinstance(st, ast.Assign):
        return [dotted(t) for t in st.targets]
    if isinstance(st, ast.AnnAssign):
        return [dotted(st.target)]
    return []


def _enclosing(parents: dict, node, types):
    node = parents.get(node)
    while node is not None and not isinstance(node, types):
        node = parents.get(node)
    return node


def _eval_fix(doc: Doc, finding, ctx) -> Optional[tuple]:
    line, col = doc.position(finding)
    tree = doc.tree()
    parents = _parents(tree)
    calls = calls_at(doc, line, col)
    target = None
    load_stmt = None
    stmt = None
    if calls:
        call = calls[0]
        stmt = _stmt_of(parents, call)
        tgts = _targets(stmt) if stmt is not None else []
        fname = (dotted(call.func) or "").rsplit(".", 1)[-1]
        is_load = fname in ("load", "from_pretrained", "load_from_checkpoint", "load_model") or fname[:1].isupper()
        if is_load and tgts and len(tgts) == 1 and tgts[0]:
            target, load_stmt = tgts[0], stmt  # anchored at the load: ``model = torch.load(p)``
        else:
            f = call.func
            if isinstance(f, ast.Attribute) and f.attr in ("forward", "__call__", "predict", "generate"):
                f = f.value
            target = dotted(f)
    else:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.lineno == line:
                tg = _targets(node)
                if len(tg) == 1 and tg[0]:
                    target, load_stmt, stmt = tg[0], node, node
                    break
    if not target:
        return None
    if load_stmt is None:
        # the last assignment of the target before the inference, in the same function, or in
        # the class for ``self.x``
        if target.startswith("self."):
            scope = _enclosing(parents, stmt, (ast.ClassDef,))
        else:
            scope = _enclosing(parents, stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or tree
        if scope is None:
            return None
        cands = [n for n in ast.walk(scope) if isinstance(n, (ast.Assign, ast.AnnAssign)) and target in _targets(n)
                 and (target.startswith("self.") or n.lineno < line)]
        if not cands and scope is not tree and not target.startswith("self."):
            # a module-level model used inside a handler
            cands = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign)) and target in _targets(n)
                     and _enclosing(parents, n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)) is None]
        if not cands:
            return None
        load_stmt = max(cands, key=lambda n: n.lineno) if not target.startswith("self.") else cands[-1]
    # already put in eval mode right after?
    _parent, body = _body_of(parents, load_stmt)
    if body is None:
        return None
    i = body.index(load_stmt)
    last = load_stmt
    for nxt in body[i + 1:]:
        src = segment(doc, nxt)
        if re.match(re.escape(target) + r"\s*\.\s*(eval|train)\s*\(", src) or \
                re.match(re.escape(target) + r"\s*=\s*" + re.escape(target) + r"\s*\.\s*eval\s*\(", src):
            return None
        if isinstance(nxt, ast.Expr) and re.match(re.escape(target) + r"\s*\.\s*(load_state_dict|to|cuda|cpu|half|float|"
                                                    r"requires_grad_|share_memory)\s*\(", src):
            last = nxt
            continue
        if isinstance(nxt, ast.Assign) and _targets(nxt) == [target] and re.match(
                re.escape(target) + r"\s*=\s*" + re.escape(target) + r"\s*\.", src):
            last = nxt
            continue
        break
    # the statement must own its lines
    end_line = last.end_lineno
    tail = doc.code_line(end_line)[byte_to_cp(doc.code_line(end_line), last.end_col_offset):]
    if tail.strip() and not tail.strip().startswith("#"):
        return None
    first_line = doc.line(load_stmt.lineno)
    if byte_to_cp(first_line, load_stmt.col_offset) != len(_indent_of(first_line)):
        return None
    indent = _indent_of(first_line)
    code = statements(f"{target}.eval()", indent, _newline(doc))
    return f"Call `{target}.eval()` after loading", [TEdit(end_line + 1, 1, end_line + 1, 1, code)]


fixer("ML1102", "inference-without-eval-mode", True, "Insert `.eval()` after the load")(_eval_fix)


# -------------------------------------------------------------- ML1101 torch.no_grad()
def _string_continuation_lines(text: str) -> set:
    """Lines that start inside a multi-line string (their indentation is string content)."""
    out = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                out.update(range(tok.start[0] + 1, tok.end[0] + 1))
            elif getattr(tokenize, "FSTRING_MIDDLE", None) == tok.type and tok.end[0] > tok.start[0]:
                out.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return set(range(1, text.count("\n") + 2))
    return out


def _no_grad_fix(doc: Doc, finding, ctx) -> Optional[tuple]:
    line, col = doc.position(finding)
    calls = calls_at(doc, line, col)
    if not calls:
        return None
    tree = doc.tree()
    parents = _parents(tree)
    stmt = _stmt_of(parents, calls[0])
    if not isinstance(stmt, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)):
        return None  # a call in an `if`/`for` header: wrapping would change the block
    _parent, body = _body_of(parents, stmt)
    if body is None:
        return None
    first_line = doc.line(stmt.lineno)
    if byte_to_cp(first_line, stmt.col_offset) != len(_indent_of(first_line)):
        return None  # not the first statement on its line
    idx = body.index(stmt)
    if idx + 1 < len(body) and body[idx + 1].lineno == stmt.end_lineno:
        return None  # ``a = m(x); b = 2``
    if idx > 0 and body[idx - 1].end_lineno == stmt.lineno:
        return None
    torch = alias_for(doc, "torch")
    edits = []
    if torch is None:
        if "torch" in module_bindings(doc):
            return None
        torch = "torch"
        edits.append(import_edit(doc, ["import torch"]))
    indent = _indent_of(first_line)
    unit = indent_unit(doc)
    skip = _string_continuation_lines(doc.text)
    nl = _newline(doc)
    header = statements(f"with {torch}.no_grad():\n    pass", indent, nl).split(nl)[0] + nl
    new_lines = []
    for n in range(stmt.lineno, stmt.end_lineno + 1):
        ln = doc.line(n)
        new_lines.append(ln if (n in skip or not ln.strip()) else unit + ln)
    if edits and edits[0].line > stmt.lineno:
        return None
    body_text = header + "\n".join(new_lines)  # the lines keep their own "\r"
    last = doc.line(stmt.end_lineno)
    edits.append(TEdit(stmt.lineno, 1, stmt.end_lineno, len(last) + 1, body_text))
    return f"Wrap in `with {torch}.no_grad():`", edits


fixer("ML1101", "inference-without-no-grad", False, "Wrap in `with torch.no_grad():`")(_no_grad_fix)


# ------------------------------------------------------------------ versions for pins
def canon_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_LOCK_KEY = re.compile(r'^(name|version)\s*=\s*"([^"\\]*)"\s*(?:#.*)?$')


def lock_packages(text: str) -> list:
    """[(name, version)] of the ``[[package]]`` tables of a poetry/uv/pdm lock file, in order.
    Those tables are flat, one ``key = value`` per line, so a line scan reads them: parsing a
    multi-MB lock file as TOML took seconds, on every scan that marks fixable findings."""
    out = []
    name = version = None
    in_pkg = False
    for line in text.splitlines():
        if line.startswith("["):
            if in_pkg and name and version:
                out.append((name, version))
            in_pkg = line.strip() == "[[package]]"
            name = version = None
            continue
        if in_pkg and line[:1] in ("n", "v"):
            m = _LOCK_KEY.match(line)
            if m:
                if m.group(1) == "name":
                    name = m.group(2)
                else:
                    version = m.group(2)
    if in_pkg and name and version:
        out.append((name, version))
    return out


class VersionResolver:
    """Exact versions from the project's lock files, else from the installed environment."""

    LOCK_TOML = ("poetry.lock", "uv.lock", "pdm.lock")

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._locked = None
        self._installed = None  # read once per resolver (a scan or a fix run), not once per process

    def locked(self) -> dict:
        if self._locked is not None:
            return self._locked
        out: dict = {}
        for rel in sorted(self.ctx.inventory()):
            base = rel.rsplit("/", 1)[-1]
            try:
                if base in self.LOCK_TOML:
                    for name, version in lock_packages(self.ctx.read(rel) or ""):
                        out.setdefault(canon_name(name), version)
                elif base == "Pipfile.lock":
                    data = json.loads(self.ctx.read(rel) or "{}")
                    for sect in ("default", "develop"):
                        for name, spec in (data.get(sect) or {}).items():
                            v = (spec or {}).get("version", "") if isinstance(spec, dict) else ""
                            if v.startswith("=="):
                                out.setdefault(canon_name(name), v[2:])
                elif base.endswith((".lock", ".txt")) and ("requirements" in base or "constraints" in base
                                                           or base.endswith(".lock")):
                    text = self.ctx.read(rel) or ""
                    if "# via" in text or "--hash" in text or base.endswith(".lock") or "constraints" in base:
                        for ln in text.splitlines():
                            m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;#\\]+)", ln)
                            if m:
                                out.setdefault(canon_name(m.group(1)), m.group(2))
            except Exception:
                continue
        self._locked = out
        return out

    def version(self, name: str) -> Optional[str]:
        v = self.locked().get(canon_name(name))
        if v:
            return v
        if self._installed is None:
            self._installed = installed_versions()
        v = self._installed.get(canon_name(name))
        # a local build tag (``2.3.1+cu121``) is not on the index: pin the public version
        return v.split("+", 1)[0] if v else None


def installed_versions() -> dict:
    """{canonical name: version} of the distributions installed on ``sys.path`` (the first one
    found wins, as for imports).  Read from the ``{name}-{version}.dist-info`` (and ``.egg-info``)
    folder names the packaging specifications prescribe, without opening a metadata file:
    ``importlib.metadata`` imports the ``email`` package to parse them (1.2 MB, for the ``[*]``
    marks of a scan)."""
    out: dict = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for n in names:
            stem, dot, ext = n.rpartition(".")
            if not dot or ext not in ("dist-info", "egg-info"):
                continue
            name, sep, version = stem.partition("-")
            if ext == "egg-info":
                version = version.split("-py", 1)[0]  # ``name-1.0-py3.11.egg-info``
            if sep and version and version[0].isdigit():
                out.setdefault(canon_name(name), version)
    return out


def _poetry_to_pep440(spec: str) -> str:
    """``^1.2`` -> ``>=1.2,<2``; ``~1.2`` -> ``>=1.2,<1.3``; ``*`` -> ``""``; others unchanged."""
    spec = spec.strip()
    if spec in ("*", ""):
        return ""
    m = re.fullmatch(r"([\^~])\s*(\d+(?:\.\d+)*)", spec)
    if not m:
        return spec
    parts = [int(x) for x in m.group(2).split(".")]
    if m.group(1) == "^":
        i = next((k for k, x in enumerate(parts) if x != 0), len(parts) - 1)
        upper = parts[: i + 1]
    else:
        upper = parts[:2] if len(parts) >= 2 else parts[:1]
    upper = upper[:-1] + [upper[-1] + 1]
    return f">={m.group(2)},<{'.'.join(map(str, upper))}"


def _satisfies(version: str, spec: str) -> bool:
    spec = spec.strip()
    if not spec:
        return True
    try:
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(spec).contains(version, prereleases=True)
    except Exception:
        return False


_REQ_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?(?P<spec>\s*[<>=!~][^;#@]*)?(?P<rest>.*)$",
                     re.S)


def pin_requirement(req: str, ctx) -> Optional[str]:
    """``torch>=2`` -> ``torch==2.3.1`` when the version is known and satisfies the range."""
    m = _REQ_RE.match(req)
    if not m:
        return None
    spec = (m.group("spec") or "").strip()
    rest = m.group("rest") or ""
    if rest.strip().startswith("@"):
        return None  # a direct URL reference
    if "==" in spec or "===" in spec:
        return None
    version = ctx.versions().version(m.group("name"))
    if not version or not _satisfies(version, spec):
        return None
    sep = " " if rest and not rest.startswith((" ", "\t")) and rest.strip() else ""
    return f"{m.group('name')}{m.group('extras') or ''}=={version}{sep if rest.strip() else ''}{rest}"


# ------------------------------------------------------------ ML0306 notebook pip install
_OPTS_WITH_VALUE = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
                    "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
                    "--src", "--upgrade-strategy", "--platform", "--python-version", "--implementation",
                    "--abi", "--progress-bar", "--trusted-host", "--proxy", "--timeout", "--cache-dir",
                    "--log", "--retries", "--exists-action", "--only-binary", "--no-binary"}


_PIP_ANY = re.compile(r"(?:python[\d.]*\s+-m\s+)?(?:uv\s+)?pip[\d.]*\s+install\b")


def _pin_args(args: str, ctx) -> tuple:
    parts = re.split(r"(\s+)", args)
    changed = False
    skip_next = False
    for i, tok in enumerate(parts):
        if not tok or tok.isspace():
            continue
        if skip_next:
            skip_next = False
            continue
        if tok.startswith("-"):
            if tok in _OPTS_WITH_VALUE:
                skip_next = True
            continue
        quote = tok[0] if tok[0] in "'\"" and tok.endswith(tok[0]) and len(tok) > 1 else ""
        req = tok[1:-1] if quote else tok
        if "/" in req or req.endswith((".whl", ".tar.gz", ".zip")) or "$" in req or "{" in req or req == ".":
            continue
        new = pin_requirement(req, ctx)
        if new and new != req:
            if not quote and any(c in new for c in "<>; "):
                new = f'"{new}"'
            parts[i] = f"{quote}{new}{quote}"
            changed = True
    return "".join(parts), changed


def pin_pip_line(line: str, ctx) -> Optional[str]:
    """Pin every unpinned package of each ``pip install`` on one line (notebook magics, RUN, shell)."""
    out, pos, changed = [], 0, False
    for m in _PIP_ANY.finditer(line):
        if m.start() < pos:
            continue
        if m.start() > 0 and line[m.start() - 1] not in " \t!%;&|(":
            continue
        stop = re.compile(r"\s#|[;&|]|\\\s*$|\)").search(line, m.end())
        end = stop.start() if stop else len(line)
        new_args, ch = _pin_args(line[m.end(): end], ctx)
        out.append(line[pos: m.end()])
        out.append(new_args)
        pos = end
        changed = changed or ch
    out.append(line[pos:])
    return "".join(out) if changed else None


def _notebook_pin_fix(doc: Doc, finding, ctx) -> Optional[tuple]:
    line, _col = doc.position(finding)
    text = doc.line(line)
    new = pin_pip_line(text, ctx)
    if new is None or new == text:
        return None
    return "Pin the installed versions", [TEdit(line, 1, line, len(text) + 1, new)]


fixer("ML0306", "notebook-unpinned-install", False, "Pin to the locked/installed version",
      kinds=("notebook",))(_notebook_pin_fix)


# ----------------------------------------------------------- ML0302 requirement lines
def pin_config_line(line: str, col: int, kind: str, ctx) -> Optional[str]:
    """Pin the requirement on one line of requirements.txt / pyproject / conda env / shell."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if kind in ("dockerfile", "shell") or _PIP_ANY.search(line) and kind not in ("requirements", "pyproject"):
        return pin_pip_line(line, ctx)
    if kind == "requirements":
        if stripped.startswith("-"):
            return None
        body, comment = line, ""
        cm = re.search(r"\s+#", line)
        if cm:
            body, comment = line[: cm.start()], line[cm.start():]
        lead = _indent_of(body)
        new = pin_requirement(body.strip(), ctx)
        return lead + new + comment if new else None
    # poetry: ``torch = "^2.0"``
    pm = re.match(r"^(\s*)([A-Za-z0-9][A-Za-z0-9._-]*)(\s*=\s*)(\"|')([^\"']*)\4(.*)$", line)
    if pm and kind == "pyproject":
        spec = pm.group(5).strip()
        if pm.group(2) == "python" or spec.startswith("==") or re.fullmatch(r"\d[\w.]*", spec):
            return None
        if spec not in ("*", "") and spec[0] not in "^~<>=!":
            return None
        version = ctx.versions().version(pm.group(2))
        if not version or not _satisfies(version, _poetry_to_pep440(spec)):
            return None
        return f"{pm.group(1)}{pm.group(2)}{pm.group(3)}{pm.group(4)}{version}{pm.group(4)}{pm.group(6)}"
    # quoted requirement strings (pyproject dependencies, setup.cfg-ish lists)
    strings = list(re.finditer(r"(\"|')([A-Za-z0-9][^\"']*)\1", line))
    if strings:
        pick = None
        for s in strings:
            if s.start() <= col - 1 < s.end():
                pick = s
                break
        if pick is None:
            pick = next((s for s in strings if s.start() >= col - 1), strings[0])
        new = pin_requirement(pick.group(2), ctx)
        if not new:
            return None
        return line[: pick.start(2)] + new + line[pick.end(2):]
    # YAML list items: ``  - torch>=2`` (conda env pip section)
    ym = re.match(r"^(\s*-\s+)([A-Za-z0-9][^#]*?)(\s*(?:#.*)?)$", line)
    if ym:
        new = pin_requirement(ym.group(2), ctx)
        return ym.group(1) + new + ym.group(3) if new else None
    return None


def _config_pin_fix(doc: Doc, finding, ctx) -> Optional[tuple]:
    line, col = doc.position(finding)
    text = doc.line(line)
    if doc.kind == "notebook":
        new = pin_pip_line(text, ctx)
    else:
        new = pin_config_line(text, col, doc.kind, ctx)
    if new is None or new == text:
        return None
    return "Pin to the locked/installed version", [TEdit(line, 1, line, len(text) + 1, new)]


fixer("ML0302", "unpinned-ml-dependency", False, "Pin to the locked/installed version",
      kinds=("requirements", "pyproject", "conda-env", "yaml", "shell", "dockerfile", "notebook", "python"))(
    _config_pin_fix)


# --------------------------------------------------------------- ML0308 Dockerfile FROM
_FROM_RE = re.compile(r"^(?P<lead>\s*FROM\s+(?:--platform=\S+\s+)?)(?P<image>[^\s:@]+(?::\d+/[^\s:@]+)?)"
                      r"(?::(?P<tag>[^\s@]+))?(?P<digest>@\S+)?(?P<rest>\s.*)?$", re.I)


def _known_tags(ctx, image: str) -> set:
    tags = set()
    for rel in ctx.inventory():
        base = rel.rsplit("/", 1)[-1].lower()
        if not (base == "dockerfile" or base.startswith("dockerfile.") or base.endswith(".dockerfile")
                or base in ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")):
            continue
        text = ctx.read(rel) or ""
        for m in re.finditer(r"(?:^\s*FROM\s+(?:--platform=\S+\s+)?|image:\s*[\"']?)" + re.escape(image)
                             + r":([A-Za-z0-9_.\-]+)", text, re.M | re.I):
            t = m.group(1)
            if re.match(r"^\d+\.\d+", t) and "latest" not in t:
                tags.add(t)
    return tags


def _docker_from_fix(doc: Doc, finding, ctx) -> Optional[tuple]:
    line, _col = doc.position(finding)
    text = doc.line(line)
    res = docker_line_fix(text, ctx)
    if res is None:
        return None
    title, new = res
    return title, [TEdit(line, 1, line, len(text) + 1, new)]


def docker_line_fix(text: str, ctx) -> Optional[tuple]:
    """(title, new line) for a ``FROM`` with a known tag or a ``RUN pip install`` line."""
    m = _FROM_RE.match(text)
    if not m:
        new = pin_pip_line(text, ctx)
        if new is None or new == text:
            return None
        return "Pin the installed versions", new
    if m.group("digest") or "$" in text:
        return None
    image, tag = m.group("image"), m.group("tag") or ""
    floating = re.match(r"^(latest|\d+)?(?:-(?P<variant>[A-Za-z0-9_.\-]+))?$", tag) if tag else None
    if tag and not floating and tag not in ("latest",):
        if not re.match(r"^[A-Za-z][A-Za-z0-9_.\-]*$", tag):
            return None  # an already specific tag
        floating = re.match(r"^(?P<variant>[A-Za-z][A-Za-z0-9_.\-]*)$", tag)
        major, variant = None, floating.group("variant")
    else:
        major = floating.group(1) if floating and floating.group(1) not in (None, "latest") else None
        variant = floating.group("variant") if floating and "variant" in floating.groupdict() else None
    new_tag = None
    known = set()
    for t in _known_tags(ctx, image):
        km = re.match(r"^(\d+(?:\.\d+)+)(?:-(.+))?$", t)
        if km and (km.group(2) or None) == (variant or None) and (major is None or km.group(1).split(".")[0] == major):
            known.add(t)
    if len(known) == 1:
        new_tag = known.pop()
    elif image.rsplit("/", 1)[-1] == "python" and image in ("python", "library/python", "docker.io/library/python"):
        pv = (ctx.read(".python-version") or "").strip().splitlines()
        pv = pv[0].strip() if pv else ""
        if re.fullmatch(r"\d+\.\d+\.\d+", pv) and (major is None or pv.split(".")[0] == major):
            new_tag = pv + (f"-{variant}" if variant else "")
    if not new_tag:
        return None
    new = f"{m.group('lead')}{image}:{new_tag}{m.group('rest') or ''}"
    return f"Pin the base image to `{image}:{new_tag}`", new


fixer("ML0308", "dockerfile-unpinned-base", False, "Pin the base image tag", kinds=("dockerfile",))(
    _docker_from_fix)


# ------------------------------------------------------------ availability (cheap, no cst)
def _avail_pin(finding, ctx) -> bool:
    """Would the pin fixer change the finding's line?  (A lock-file read and a metadata lookup.)"""
    line = ctx.finding_line(finding)
    if not line:
        return False
    path = finding.location.path
    if finding.code == "ML0308":
        return docker_line_fix(line, ctx) is not None
    if path.endswith(".ipynb"):
        return pin_pip_line(line, ctx) is not None
    return pin_config_line(line, finding.location.col, _file_kind(None, path), ctx) is not None


def _has_libcst(_finding=None, _ctx=None) -> bool:
    if "libcst" not in _FOUND:
        import importlib.util

        _FOUND["libcst"] = importlib.util.find_spec("libcst") is not None
    return _FOUND["libcst"]


_FOUND: dict = {}
FIXERS["ML0301"].available = _has_libcst
FIXERS["ML0305"].available = _has_libcst
FIXERS["ML0306"].available = _avail_pin
FIXERS["ML0302"].available = _avail_pin
FIXERS["ML0308"].available = _avail_pin


def file_kinds(result) -> dict:
    """path -> kind of every file the scan analysed."""
    return {fr.path: fr.kind for fr in getattr(result, "files", None) or ()}


def _file_kind(result, path: str, kinds: Optional[dict] = None) -> str:
    """(``kinds``: ``file_kinds(result)``, for a caller that asks for many files: searching the
    files for each was quadratic.)"""
    kind = (kinds if kinds is not None else file_kinds(result)).get(path)
    if kind is not None:
        return kind
    from mllint.discovery import classify

    return classify(path) or ("notebook" if path.endswith(".ipynb") else "python" if path.endswith(".py") else "other")


def mark_fixable(findings: list, root: str, result=None) -> None:
    """Attach an edit-less ``Fix`` to findings a fixer can handle (for ``[*]`` and counts)."""
    if not findings:
        return
    ctx = None
    for f in findings:
        fx = fixer_for(f.code)
        if fx is None or f.fix is not None or f.suppressed is not None:
            continue
        if fx.available is not None:
            if ctx is None:
                ctx = Context(root, result)
            try:
                if not fx.available(f, ctx):
                    continue
            except Exception:
                continue
        f.fix = Fix(title=fx.title, safe=fx.safe, edits=[])
    if ctx is not None:
        ctx._versions = None  # Context <-> VersionResolver: no reference cycle left behind by a scan


# ---------------------------------------------------------------- computing candidates
def candidates_for(doc: Doc, findings: list, ctx: Context, unsafe: bool) -> tuple:
    """([Candidate], [(finding, reason)]) for one file."""
    out, failed = [], []
    for f in findings:
        fx = fixer_for(f.code)
        if fx is None or (not fx.safe and not unsafe):
            continue
        if doc.kind not in fx.kinds:
            continue
        try:
            res = fx.compute(doc, f, ctx)
        except ImportError as exc:  # the `fix` extra (libcst) is not installed
            failed.append((f, f"{exc}; install `mllint-arch[fix]`"))
            continue
        except Exception as exc:  # a fixer bug costs its fix, never the run
            failed.append((f, f"{type(exc).__name__}: {exc}"))
            continue
        if not res:
            continue
        title, edits = res
        edits = [e for e in edits if e is not None]
        if edits:
            out.append(Candidate(f.code, title, fx.safe, edits, f))
    return out, failed


def _overlaps(spans: list, new: list) -> bool:
    """Conservative: touching or overlapping edits wait for the next pass."""
    return any(a <= d and c <= b for a, b in new for c, d in spans)


def apply_candidates(doc: Doc, cands: list) -> tuple:
    """Apply non-conflicting candidates one at a time, each checked to parse.

    Returns (new raw text, applied candidates, discarded candidates)."""
    applied, discarded, taken = [], [], []
    current_edits: list = []
    text = doc.raw
    etext = "\n".join(doc.lines)
    for c in sorted(cands, key=lambda c: (c.edits[0].line, c.edits[0].col)):
        spans = [_edit_span(etext, e) for e in c.edits]
        if _overlaps(taken, spans):
            continue  # next pass
        try:
            trial = doc.apply(current_edits + c.edits)
        except (ValueError, IndexError, KeyError):
            discarded.append(c)
            continue
        if not parses(doc, trial):
            discarded.append(c)
            continue
        text = trial
        current_edits += c.edits
        taken += spans
        applied.append(c)
    return text, applied, discarded


def iter_fixes(result, *, unsafe: bool = True, paths: Optional[set] = None, texts: Optional[dict] = None):
    """(path, Doc, [Candidate]) for each file with fixable findings, one file at a time: a caller
    that keeps only the fixes holds one file's text and notebook JSON at a time (all of them at
    once held 320 MB for the 1,100 fixable notebooks of huggingface/notebooks)."""
    ctx = Context(result.root, result, texts)
    by_path: dict = {}
    for f in result.findings:
        if f.code in FIXERS and (paths is None or f.path in paths):
            by_path.setdefault(f.path, []).append(f)
    kinds = file_kinds(result)
    for path, fs in by_path.items():
        text = ctx.read(path)
        if text is None:
            continue
        try:
            doc = Doc(path, _file_kind(result, path, kinds), text)
        except Exception:
            continue
        cands, _failed = candidates_for(doc, fs, ctx, unsafe)
        yield path, doc, cands


def checked_fix(doc: Doc, cand: Candidate) -> Optional[Fix]:
    """The candidate as a ``Fix`` in file coordinates, or None when its edits cannot be applied or
    the fixed file does not parse."""
    try:
        new = doc.apply(cand.edits)
        if not parses(doc, new):
            return None
        edits = doc.file_edits(cand.edits, new)
    except Exception:
        return None
    return Fix(title=cand.title, safe=cand.safe, edits=edits)


def attach_edits(result, *, unsafe: bool = True, paths: Optional[set] = None, texts: Optional[dict] = None) -> None:
    """Fill ``Finding.fix`` with file-coordinate edits (SARIF ``fixes``, JSON, LSP quick fixes)."""
    for _path, doc, cands in iter_fixes(result, unsafe=unsafe, paths=paths, texts=texts):
        for c in cands:
            fix = checked_fix(doc, c)
            if fix is not None:
                c.finding.fix = fix
    for f in result.findings:  # a [*] that no fixer could honour is dropped
        if f.fix is not None and not f.fix.edits and f.code in FIXERS:
            f.fix = None


def fix_texts(paths: list, settings, *, unsafe: bool = False, overlays: Optional[dict] = None,
              max_passes: int = MAX_PASSES) -> "FixRun":
    """Run the fix loop in memory; nothing is written.  (The LSP's ``source.fixAll.mllint``.)"""
    from mllint.engine import scan

    run = FixRun()
    texts: dict = dict(overlays or {})
    result = scan(list(paths), settings, keep_text=True, overlays=texts or None)
    run.first = result
    discarded_keys = set()
    for _ in range(max_passes):
        ctx = Context(result.root, result, texts)
        by_path: dict = {}
        for f in result.findings:
            if f.code in FIXERS:
                by_path.setdefault(f.path, []).append(f)
        changed = False
        kinds = file_kinds(result)
        for path, fs in sorted(by_path.items()):
            text = ctx.read(path)
            if text is None:
                continue
            if path not in run.original:
                run.original[path] = text
            try:
                doc = Doc(path, _file_kind(result, path, kinds), text)
            except Exception:
                continue
            cands, failed = candidates_for(doc, fs, ctx, unsafe)
            for f, why in failed:
                key = (path, f.code, f.location.line, why)
                if key not in discarded_keys:
                    discarded_keys.add(key)
                    run.failed.append((path, f, why))
            if not cands:
                continue
            new_text, applied, discarded = apply_candidates(doc, cands)
            for c in discarded:
                key = (path, c.code, doc.line(c.edits[0].line))
                if key not in discarded_keys:
                    discarded_keys.add(key)
                    run.discarded.append((path, c))
            if applied and new_text != text:
                texts[path] = new_text
                changed = True
                for c in applied:
                    run.applied.append((path, c))
        if not changed:
            break
        run.passes += 1
        result = scan(list(paths), settings, keep_text=True, overlays=texts)
    run.result = result
    run.texts = {p: t for p, t in texts.items() if p in run.original and t != run.original[p]}
    return run


@dataclass
class FixRun:
    first: object = None
    result: object = None
    original: dict = field(default_factory=dict)  # path -> text before
    texts: dict = field(default_factory=dict)  # path -> fixed text (changed files only)
    applied: list = field(default_factory=list)  # (path, Candidate)
    discarded: list = field(default_factory=list)  # (path, Candidate)
    failed: list = field(default_factory=list)  # (path, Finding, reason): the fixer itself failed
    passes: int = 0


# ---------------------------------------------------------------------- writing, diffs
def _write(root: str, rel: str, text: str) -> None:
    path = os.path.join(root, rel)
    bom = b""
    try:
        with open(path, "rb") as fh:
            if fh.read(3) == b"\xef\xbb\xbf":
                bom = b"\xef\xbb\xbf"
    except OSError:
        pass
    tmp = path + ".mllint-fix.tmp"
    with open(tmp, "wb") as fh:
        fh.write(bom + text.encode("utf-8"))
    try:
        os.chmod(tmp, os.stat(path).st_mode & 0o7777)
    except OSError:
        pass
    os.replace(tmp, path)


def unified_diff(rel: str, old: str, new: str) -> str:
    if rel.endswith(".ipynb"):
        try:
            a, b = json.loads(old).get("cells", []), json.loads(new).get("cells", [])
            out = []
            for i, (ca, cb) in enumerate(zip(a, b), start=1):
                sa = "".join(ca.get("source", "")) if isinstance(ca.get("source"), list) else ca.get("source", "")
                sb = "".join(cb.get("source", "")) if isinstance(cb.get("source"), list) else cb.get("source", "")
                if sa != sb:
                    out.extend(_terminate(difflib.unified_diff(sa.splitlines(keepends=True),
                                                               sb.splitlines(keepends=True),
                                                               f"a/{rel}:cell {i}", f"b/{rel}:cell {i}")))
            return "".join(out)
        except Exception:
            pass
    return "".join(_terminate(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                                   f"a/{rel}", f"b/{rel}")))


def _terminate(lines) -> list:
    # difflib leaves a last line without a newline unterminated
    return [ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n" for ln in lines]


# ------------------------------------------------------------------------------ noqa
def _noqa_safe_lines(text: str) -> set:
    """Python lines whose end may take a comment (not inside a string, no ``\\`` continuation)."""
    bad = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                bad.update(range(tok.start[0], tok.end[0]))
            elif getattr(tokenize, "FSTRING_START", None) == tok.type:
                pass
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return set()
    lines = _split(text)
    return {i for i, ln in enumerate(lines, start=1) if i not in bad and not ln.rstrip().endswith("\\")}


def _yaml_block_lines(lines: list) -> set:
    """YAML lines inside block scalars (``key: |``) where ``#`` is content, not a comment."""
    out, block_indent, parent = set(), None, None
    for i, ln in enumerate(lines, start=1):
        ind = len(ln) - len(ln.lstrip())
        if block_indent is not None:
            if not ln.strip() or ind > parent:
                out.add(i)
                continue
            block_indent = None
        if re.search(r":\s*[|>][-+0-9]*\s*(#.*)?$", ln) or re.match(r"^\s*-\s*[|>][-+0-9]*\s*$", ln):
            block_indent, parent = True, ind
    return out


def noqa_edits(doc: Doc, findings: list) -> tuple:
    """(TEdits adding ``# noqa: CODES``, [(finding, reason skipped)])."""
    from mllint.suppress import add_noqa_to_line

    per_line: dict = {}
    skipped = []
    if doc.kind in ("python", "notebook"):
        safe = _noqa_safe_lines(doc.text)
    elif doc.kind in ("yaml", "conda-env", "params", "github-workflow", "gitlab-ci", "dvc", "dvc-lock", "mlproject"):
        safe = set(range(1, len(doc.lines) + 1)) - _yaml_block_lines(doc.lines)
    elif doc.kind in ("requirements", "shell", "pyproject"):
        safe = {i for i, ln in enumerate(doc.lines, start=1) if not ln.rstrip().endswith("\\")}
        if doc.kind == "pyproject":
            inside = False
            for i, ln in enumerate(doc.lines, start=1):
                if inside:
                    safe.discard(i)
                if (ln.count('"""') + ln.count("'''")) % 2 == 1:
                    inside = not inside
                    safe.discard(i)
    elif doc.kind == "dockerfile":
        # A trailing comment is only legal where a shell reads it: one-line shell-form RUN.
        safe = {i for i, ln in enumerate(doc.lines, start=1)
                if re.match(r"^\s*RUN\s+(?!\[)", ln, re.I) and not ln.rstrip().endswith("\\")}
    else:
        safe = set()
    for f in findings:
        if doc.kind == "notebook":
            line, _ = doc.position(f)
        else:
            line = f.location.line
        loc_end = f.location.end_line if doc.kind != "notebook" else line
        target = None
        for cand in (line, loc_end):
            if cand in safe and not doc.line(cand).startswith("#!") and 0 < cand <= len(doc.lines):
                target = cand
                break
        if target is None:
            skipped.append((f, f"a comment cannot go on line {line}"))
            continue
        codes = per_line.setdefault(target, [])
        if f.code not in codes:
            codes.append(f.code)
    edits = []
    for line, codes in sorted(per_line.items()):
        old = doc.line(line)
        cr = "\r" if old.endswith("\r") else ""
        body = old[:-1] if cr else old
        new = add_noqa_to_line(body, codes) + cr
        if new != old:
            edits.append(TEdit(line, 1, line, len(old) + 1, new))
    return edits, skipped


# -------------------------------------------------------------------------------- CLI
def run_fixes(paths, settings, *, fix: bool = False, unsafe: bool = False, diff: bool = False,
              show_fixes: bool = False, exit_non_zero_on_fix: bool = False, add_noqa: bool = False,
              output_format: str = "full", quiet: bool = False, silent: bool = False,
              exit_zero: bool = False, overlays: Optional[dict] = None) -> int:
    import click

    from mllint.report import render

    if overlays:
        return _run_fix_stdin(list(paths), settings, overlays, unsafe=unsafe, diff=diff, silent=silent,
                              exit_non_zero_on_fix=exit_non_zero_on_fix, exit_zero=exit_zero)
    if add_noqa:
        return _run_add_noqa(list(paths), settings, silent=silent)
    run = fix_texts(list(paths), settings, unsafe=unsafe)
    result = run.result
    root = result.root
    n_fixed = len(run.applied)
    for path, c in run.discarded:
        if not silent:
            click.echo(f"mllint: warning: discarded the fix for {c.code} in {path}: "
                       f"the fixed code would not parse", err=True)
    for path, f, why in run.failed:
        if not silent:
            click.echo(f"mllint: warning: could not compute the fix for {f.code} in {path}:{f.location.line}: {why}",
                       err=True)
    if diff:
        out = []
        for path in sorted(run.texts):
            out.append(unified_diff(path, run.original[path], run.texts[path]))
        text = "".join(out)
        if text and not silent:
            click.echo(text, nl=False)
        if not silent:
            remaining = len(result.findings)
            mark_fixable(result.findings, root, result)
            hidden = 0 if unsafe else sum(1 for f in result.findings if f.fix is not None and not f.fix.safe)
            more = f"; {hidden} more fixable with `--unsafe-fixes`" if hidden else ""
            click.echo(f"Would fix {n_fixed} error{'s' if n_fixed != 1 else ''}"
                       f" ({remaining} remaining{more}).", err=True)
        return 1 if text else 0
    for path, text in run.texts.items():
        _write(root, path, text)
    mark_fixable(result.findings, root, result)
    for f in result.findings:  # every applicable fix was tried until stable: what is left is not fixable
        if f.fix is not None and (f.fix.safe or unsafe):
            f.fix = None
    if not silent:
        if output_format in ("full", "concise"):
            report = render(output_format, result, fixed=n_fixed)
            if quiet:
                report = "\n".join(l for l in report.splitlines()
                                   if not l.startswith(("Found ", "All checks passed", "[*]", "No fixes"))) + "\n"
                report = "" if not report.strip() else report
        else:
            if output_format in ("sarif", "json", "json-lines"):
                attach_edits(result, unsafe=True)
            report = render(output_format, result)
        if report:
            click.echo(report, nl=False)
        if show_fixes:
            click.echo(show_fixes_text(run), nl=False)
    if exit_non_zero_on_fix and n_fixed:
        return 1
    if exit_zero:
        return 0
    return 1 if result.findings else 0


def _run_fix_stdin(paths: list, settings, overlays: dict, *, unsafe: bool, diff: bool, silent: bool,
                   exit_non_zero_on_fix: bool, exit_zero: bool) -> int:
    """``mllint check - --stdin-filename x.py --fix``: the fixed source goes to stdout (as ruff does),
    the findings left to stderr; nothing is written."""
    import click

    from mllint.report import render

    run = fix_texts(paths, settings, unsafe=unsafe, overlays=overlays)
    (rel, original), = list(overlays.items())[:1]
    fixed = run.texts.get(rel, original)
    if diff:
        text = unified_diff(rel, original, fixed) if fixed != original else ""
        if not silent and text:
            click.echo(text, nl=False)
        return 1 if text else 0
    if not silent:
        click.echo(fixed, nl=False)
        mark_fixable(run.result.findings, run.result.root, run.result)
        click.echo(render("concise", run.result, fixed=len(run.applied)), nl=False, err=True)
    if exit_non_zero_on_fix and run.applied:
        return 1
    if exit_zero:
        return 0
    return 1 if run.result.findings else 0


def show_fixes_text(run: FixRun) -> str:
    from collections import Counter

    if not run.applied:
        return "No errors fixed.\n" if run.first is not None and run.first.findings else ""
    n = len(run.applied)
    out = [f"\nFixed {n} error{'s' if n != 1 else ''}:"]
    by_path: dict = {}
    for path, c in run.applied:
        by_path.setdefault(path, Counter())[(c.code, FIXERS[c.code].name)] += 1
    for path in sorted(by_path):
        out.append(f"- {path}:")
        for (code, name), k in sorted(by_path[path].items()):
            out.append(f"    {k} × {code} ({name})")
    return "\n".join(out) + "\n"


def _run_add_noqa(paths: list, settings, *, silent: bool = False) -> int:
    import click

    from mllint.engine import scan

    result = scan(paths, settings, keep_text=True)
    ctx = Context(result.root, result)
    by_path: dict = {}
    for f in result.findings:
        by_path.setdefault(f.path, []).append(f)
    added = 0
    skipped_all = []
    kinds = file_kinds(result)
    for path, fs in sorted(by_path.items()):
        text = ctx.read(path)
        if text is None:
            continue
        kind = _file_kind(result, path, kinds)
        try:
            doc = Doc(path, kind, text)
        except Exception:
            skipped_all.extend((f, "cannot read the file") for f in fs)
            continue
        if kind == "markdown":
            skipped_all.extend((f, "no line comments in Markdown") for f in fs)
            continue
        edits, skipped = noqa_edits(doc, fs)
        skipped_all.extend(skipped)
        if not edits:
            continue
        try:
            new = doc.apply(edits)
        except Exception:
            continue
        if doc.kind in ("python", "notebook") and not parses(doc, new):
            skipped_all.extend((f, "the result would not parse") for f in fs)
            continue
        _write(result.root, path, new)
        added += len(edits)
    if not silent:
        for f, why in skipped_all:
            loc = f.location
            where = f"{loc.path}:cell {loc.cell}:{loc.cell_line}" if loc.cell is not None else f"{loc.path}:{loc.line}"
            click.echo(f"mllint: warning: {where}: no `# noqa: {f.code}` added ({why}); use per-file-ignores "
                       f"or a file-level `# mllint: noqa: {f.code}`", err=True)
        click.echo(f"Added {added} noqa directive{'s' if added != 1 else ''}.", err=True)
    return 0
