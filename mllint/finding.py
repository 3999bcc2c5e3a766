"""The one finding model every reporter writes.

Positions are 1-based lines and 1-based columns counted in code points; ``end_col`` is
exclusive (the column of the character after the region), as in SARIF.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

LEVELS = ("note", "warning", "error")
LEVEL_RANK = {"error": 3, "warning": 2, "note": 1}


@dataclass(slots=True)
class Location:
    path: str  # repository-relative, '/'-separated
    line: int = 1
    col: int = 1
    end_line: int = 0
    end_col: int = 0
    # Notebooks: the cell (1-based) and the position inside it; ``line``/``col`` are then
    # the raw .ipynb JSON line holding that source line.
    cell: Optional[int] = None
    cell_line: Optional[int] = None
    cell_col: Optional[int] = None
    message: str = ""  # for related locations

    def __post_init__(self) -> None:
        if self.line < 1:
            self.line = 1
        if self.col < 1:
            self.col = 1
        if self.end_line < self.line:
            self.end_line = self.line
        if self.end_line == self.line and self.end_col <= self.col:
            self.end_col = self.col + 1

    def to_dict(self) -> dict:
        d = {
            "path": self.path,
            "line": self.line,
            "column": self.col,
            "end_line": self.end_line,
            "end_column": self.end_col,
        }
        if self.cell is not None:
            d.update(cell=self.cell, cell_line=self.cell_line, cell_column=self.cell_col)
        if self.message:
            d["message"] = self.message
        return d


@dataclass(slots=True)
class Edit:
    """Replace source text between two (line, col) positions (1-based, end exclusive)."""

    line: int
    col: int
    end_line: int
    end_col: int
    content: str

    def to_dict(self) -> dict:
        return {
            "line": self.line,
            "column": self.col,
            "end_line": self.end_line,
            "end_column": self.end_col,
            "content": self.content,
        }


@dataclass(slots=True)
class Fix:
    title: str
    safe: bool
    edits: list = field(default_factory=list)  # list[Edit], in the file's own coordinates

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "applicability": "safe" if self.safe else "unsafe",
            "edits": [e.to_dict() for e in self.edits],
        }


@dataclass(slots=True)
class Finding:
    code: str
    name: str
    message: str
    level: str
    location: Location
    checkpoint: int = 0
    related: list = field(default_factory=list)  # list[Location]
    fix: Optional[Fix] = None
    suppressed: Optional[str] = None  # justification when suppressed in source
    properties: dict = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.location.path

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.path, loc.line, loc.col, self.code, self.message)

    def with_location(self, loc: Location) -> "Finding":
        return replace(self, location=loc)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "level": self.level,
            "checkpoint": self.checkpoint,
            "location": self.location.to_dict(),
            "related_locations": [r.to_dict() for r in self.related],
            "fix": self.fix.to_dict() if self.fix else None,
        }
        if self.properties:
            d["properties"] = self.properties
        if self.suppressed is not None:
            d["suppressed"] = self.suppressed
        return d


@dataclass(slots=True)
class Notification:
    """A condition of the run itself (a file that could not be read, a rule that crashed)."""

    message: str
    level: str = "error"  # note | warning | error
    kind: str = "execution"  # execution | configuration
    descriptor: str = ""  # e.g. ML0000 or internal-error
    path: Optional[str] = None
    line: Optional[int] = None

    def to_dict(self) -> dict:
        return {
            "message": self.message,
            "level": self.level,
            "kind": self.kind,
            "descriptor": self.descriptor,
            "path": self.path,
            "line": self.line,
        }
