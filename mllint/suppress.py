"""In-source suppressions.

* ``# noqa: ML0301`` (several codes, comma or space separated) on the finding's line, also in
  notebook cells, YAML, Dockerfiles, requirements and shell scripts; ``# mllint: ignore[ML0301]``
  is accepted too.  A blanket ``# noqa`` does NOT silence ML codes (it belongs to other linters).
* ``# mllint: noqa`` on its own line silences the whole file; ``# mllint: noqa: ML0301`` only
  those codes.  In Markdown: ``<!-- mllint: noqa: ML1901 -->``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import chain

from mllint.sources import code_lines

ALL = "*"
_NOQA_RE = re.compile(r"#\s*noqa\s*:\s*([A-Za-z0-9_\-, \t]+)", re.I)
_IGNORE_RE = re.compile(r"#\s*mllint\s*:\s*ignore\s*\[([^\]]*)\]", re.I)
_FILE_RE = re.compile(r"^\s*(?:#|<!--)\s*mllint\s*:\s*noqa\b(?:\s*:\s*([A-Za-z0-9_\-, \t]+))?", re.I)
_CODE_RE = re.compile(r"ML\d{4}|[a-z][a-z0-9]*(?:-[a-z0-9]+)+", re.I)


@dataclass
class Suppressions:
    lines: dict = field(default_factory=dict)  # line -> set of codes/names
    file_codes: set = field(default_factory=set)  # codes silenced for the whole file; ALL = every code

    def suppressed(self, code: str, name: str, line: int, end_line: int = 0) -> bool:
        if ALL in self.file_codes or code in self.file_codes or name in self.file_codes:
            return True
        for ln in {line, end_line or line}:
            codes = self.lines.get(ln)
            if codes and (code in codes or name in codes):
                return True
        return False

    def justification(self, code: str, name: str, line: int) -> str:
        if ALL in self.file_codes or code in self.file_codes:
            return "file-level `# mllint: noqa`"
        return f"`# noqa: {code}`"


def _codes(text: str) -> set:
    return {m.group(0).upper() if m.group(0).upper().startswith("ML") else m.group(0).lower()
            for m in _CODE_RE.finditer(text)}


def parse_lines(lines, extra=()) -> Suppressions:
    """``lines``: iterable of (line number, text)."""
    sup = Suppressions()
    for ln, text in chain(lines, extra):
        low = text.lower()
        if "noqa" not in low and "mllint" not in low:
            continue
        fm = _FILE_RE.match(text)
        if fm:
            if fm.group(1):
                sup.file_codes |= _codes(fm.group(1))
            else:
                sup.file_codes.add(ALL)
            continue
        found = set()
        for m in _NOQA_RE.finditer(text):
            found |= _codes(m.group(1))
        for m in _IGNORE_RE.finditer(text):
            found |= _codes(m.group(1))
        if found:
            sup.lines.setdefault(ln, set()).update(found)
    return sup


def parse_text(text: str, extra=(), *, code: bool = False) -> Suppressions:
    """``code``: Python source (a module or a notebook's virtual text), whose lines are numbered
    as ``ast`` numbers them (``sources.code_lines``); config files number theirs by
    ``str.splitlines``, as their loaders do."""
    if not extra and not _mentions_suppression(text):
        return Suppressions()
    lines = code_lines(text) if code else text.splitlines()
    return parse_lines(enumerate(lines, start=1), extra)


def _mentions_suppression(text: str) -> bool:
    """Does the text hold "noqa" or "mllint" in any case?  ``str.lower`` of a text that is not
    ASCII works in a buffer of 12 bytes a character (a 2.5 MB install script: 31 MB); no
    non-ASCII character lower-cases to a letter of these words, so its UTF-8 bytes are searched."""
    if text.isascii():
        low = text.lower()
        return "noqa" in low or "mllint" in low
    raw = text.encode("utf-8", "surrogatepass").lower()
    return b"noqa" in raw or b"mllint" in raw


def add_noqa_to_line(line: str, codes: list, comment: str = "#") -> str:
    """Insert or merge ``# noqa: CODES`` into one physical line (used by --add-noqa and the LSP)."""
    m = _NOQA_RE.search(line)
    if m:
        existing = [c.strip() for c in re.split(r"[,\s]+", m.group(1).strip()) if c.strip()]
        merged = existing + [c for c in codes if c not in existing]
        return line[: m.start(1)] + ", ".join(merged) + line[m.end(1):].rstrip() if m.end(1) < len(line) else \
            line[: m.start(1)] + ", ".join(merged)
    bare = re.search(r"#\s*noqa\s*$", line)
    if bare:
        return line[: bare.start()] + f"# noqa: {', '.join(codes)}"
    stripped = line.rstrip()
    return f"{stripped}  {comment} noqa: {', '.join(codes)}"
