"""ruff-style human output: ``path:line:col: ML0301 [name] message`` (notebooks: ``path:cell N:line:col``)."""
from __future__ import annotations

import os
from collections import Counter

from mllint.discovery import classify
from mllint.sources import MAX_BYTES


def position(f) -> str:
    loc = f.location
    if loc.cell is not None:
        return f"{loc.path}:cell {loc.cell}:{loc.cell_line}:{loc.cell_col}"
    return f"{loc.path}:{loc.line}:{loc.col}"


def render_text(result, *, full: bool = True, statistics: bool = False, fixed: int = 0,
                color: bool = False, **_) -> str:
    out = []
    wanted: dict = {}  # path -> the line numbers its findings show
    if full:
        for f in result.findings:
            if f.location.cell is None:
                wanted.setdefault(f.location.path, set()).add(f.location.line)
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
    """The finding's line with carets under its columns (not for notebook cells, nor lines over 200
    characters).  The first finding in a file reads the lines of all its findings (``wanted``) into
    ``cache``, one line at a time, so a large file is never held whole."""
    loc = f.location
    if loc.cell is not None:
        return []
    if loc.path not in cache:
        cache[loc.path] = _read_lines(os.path.join(result.root, loc.path), wanted.get(loc.path, ()),
                                      classify(loc.path) == "python")
    text = cache[loc.path].get(loc.line)
    if text is None or len(text) > 200:
        return []
    width = len(str(loc.line))
    end = loc.end_col if loc.end_line == loc.line else len(text) + 1
    carets = "^" * max(1, min(end, len(text) + 1) - loc.col)
    return [f"{' ' * width} |", f"{loc.line} | {text}", f"{' ' * width} | {' ' * (loc.col - 1)}{carets}"]


def _read_lines(path: str, wanted: set, code: bool) -> dict:
    """{line number: text} of the ``wanted`` lines of a file, numbered as the loaders number them:
    Python by its tokenizer's line breaks (``sources.code_lines``), the rest by ``str.splitlines``."""
    out: dict = {}
    if not wanted:
        return out
    last = max(wanted)
    try:
        # only regular files of a sane size: a FIFO would block the report
        if not os.path.isfile(path) or os.path.getsize(path) > MAX_BYTES:
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
