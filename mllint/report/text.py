"""ruff-style human output: ``path:line:col: ML0301 [name] message`` (notebooks: ``path:cell N:line:col``)."""
from __future__ import annotations

import json
import os
from collections import Counter

from mllint.discovery import classify
from mllint.sources import regular_small


def position(f) -> str:
    loc = f.location
    if loc.cell is not None:
        return f"{loc.path}:cell {loc.cell}:{loc.cell_line}:{loc.cell_col}"
    return f"{loc.path}:{loc.line}:{loc.col}"


def render_text(result, *, full: bool = True, statistics: bool = False, fixed: int = 0,
                color: bool = False, **_) -> str:
    out = []
    # (path, in a cell) -> the lines its findings show: line numbers, or (cell, line in cell)
    wanted: dict = {}
    if full:
        for f in result.findings:
            loc = f.location
            in_cell = loc.cell is not None
            wanted.setdefault((loc.path, in_cell), set()).add((loc.cell, loc.cell_line) if in_cell else loc.line)
    sources: dict = {}
    for f in result.findings:
        mark = " [*]" if f.fix is not None else ""
        out.append(f"{position(f)}: {f.code}{mark} [{f.name}] {f.message}")
        if full:
            snippet = _snippet(result, f, wanted, sources)
            if snippet:
                out.extend(snippet)
            for r in f.related:
                where = f"{r.path}:cell {r.cell}:{r.cell_line}:{r.cell_col}" if r.cell is not None else f"{r.path}:{r.line}:{r.col}"
                out.append(f"  = related: {where}" + (f" ({r.message})" if r.message else ""))
            out.append("")
    if statistics:
        out = []
        counts = Counter((f.code, f.name, f.fix is not None) for f in result.findings)
        for (code, name, fixable), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0])):
            out.append(f"{n:>5}\t{code}\t{'[*]' if fixable else '[ ]'}\t{name}")
    n = len(result.findings)
    if n == 0 and not fixed:
        out.append("All checks passed!")
    else:
        if fixed:
            out.append(f"Found {n + fixed} error{'s' if n + fixed != 1 else ''} ({fixed} fixed, {n} remaining).")
        else:
            out.append(f"Found {n} error{'s' if n != 1 else ''}.")
        fixable = sum(1 for f in result.findings if f.fix is not None and f.fix.safe)
        unsafe = sum(1 for f in result.findings if f.fix is not None and not f.fix.safe)
        if fixable:
            out.append(f"[*] {fixable} fixable with the `--fix` option"
                       + (f" ({unsafe} hidden fix{'es' if unsafe != 1 else ''} can be enabled with the `--unsafe-fixes` option)." if unsafe else "."))
        elif unsafe:
            out.append(f"No fixes available ({unsafe} hidden fix{'es' if unsafe != 1 else ''} can be enabled with the `--unsafe-fixes` option).")
    return "\n".join(out) + "\n"


def _snippet(result, f, wanted: dict, cache: dict) -> list:
    """The finding's line with carets under its columns (not for lines over 200 characters).  The
    first finding in a file reads the lines of all its findings (``wanted``) into ``cache``, one
    line at a time (a notebook: its cell sources, without the outputs), so a large file is never
    held whole."""
    loc = f.location
    key = (loc.path, loc.cell is not None)
    if key not in cache:
        path = os.path.join(result.root, loc.path)
        cache[key] = _cell_lines(path, wanted.get(key, ())) if key[1] else \
            _read_lines(path, wanted.get(key, ()), classify(loc.path) == "python")
    lines = cache[key]
    if loc.cell is not None:
        number, col = loc.cell_line, loc.cell_col
        text, escaped = lines.get((loc.cell, loc.cell_line), (None, False))
        # the span's columns are the notebook file's: count them back through the JSON escapes
        width = _json_width(text[col - 1:], loc.end_col - loc.col, escaped) \
            if text is not None and loc.end_line == loc.line else None
    else:
        number, col = loc.line, loc.col
        text = lines.get(loc.line)
        width = loc.end_col - loc.col if loc.end_line == loc.line else None
    if text is None or len(text) > 200 or not col:
        return []
    if width is None:
        width = len(text) + 1 - col
    pad = len(str(number))
    carets = "^" * max(1, min(width, len(text) + 1 - col))
    return [f"{' ' * pad} |", f"{number} | {text}", f"{' ' * pad} | {' ' * (col - 1)}{carets}"]


def _json_width(text: str, raw_width: int, escaped: bool) -> int:
    """How many characters of ``text`` a JSON string spells in ``raw_width`` characters: a quote
    or a backslash is written with two, and a non-ASCII character with six (or twelve) where the
    file is ``escaped`` (written as ASCII)."""
    used = 0
    for n, ch in enumerate(text):
        used += len(json.dumps(ch, ensure_ascii=escaped)) - 2
        if used > raw_width:
            return n
    return len(text)


def _read_lines(path: str, wanted, code: bool) -> dict:
    """{line number: text} of the ``wanted`` lines of a file, numbered as the loaders number them:
    Python by its tokenizer's line breaks (``sources.code_lines``), the rest by ``str.splitlines``."""
    out: dict = {}
    if not wanted:
        return out
    last = max(wanted)
    try:
        if not regular_small(path):  # a FIFO would block the report
            return out
        n = 0
        # universal newlines: \r\n, \r and \n end a line, as the tokenizer has it
        with open(path, encoding="utf-8", errors="replace") as fh:
            for raw in fh:
                body = raw[:-1] if raw.endswith("\n") else raw
                for piece in (body,) if code else (body.splitlines() or [""]):
                    n += 1
                    if n in wanted:
                        out[n] = piece
                if n >= last:
                    break
    except (OSError, ValueError):
        pass
    return out


def _cell_lines(path: str, wanted) -> dict:
    """{(cell, line in cell): (text, escaped)} of a notebook's ``wanted`` cell lines (cells
    numbered as on disk, lines as the loader numbers them).  ``escaped``: the file is ASCII, so it
    writes any other character as a ``\\u`` escape (one writer does not mix the two)."""
    from mllint.sources import Unreadable
    from mllint.sources.notebook import cell_sources

    out: dict = {}
    try:
        if not regular_small(path):
            return out
        with open(path, "rb") as fh:
            data = fh.read()
        escaped = data.isascii()
        sources = cell_sources(data)
        del data
    except (OSError, ValueError, Unreadable, RecursionError):
        return out
    for cell, line in wanted:
        src = sources[cell - 1] if 0 < cell <= len(sources) else None
        lines = src.splitlines() if src else []
        if 0 < line <= len(lines):
            out[(cell, line)] = (lines[line - 1], escaped)
    return out
