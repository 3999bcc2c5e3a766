"""Rule anatomy: metadata, documentation parsed from the module docstring, and the three kinds.

A rule is one file ``rules/<snake_slug>.py``.  Its module docstring is its documentation
(Markdown with fixed headings) and one class carries ``meta`` and the check:

* ``FileRule``    - ``visit_<NodeType>`` methods called during the single ``ast`` walk of a
  Python module or notebook (the engine dispatches by node type);
* ``ConfigRule``  - ``check_config(doc)`` once per config document of the kinds it names;
* ``ProjectRule`` - ``check_project(project)`` once per scan, read-only over the graph.

A class may be both a ``FileRule`` and a ``ProjectRule``: the walk records per-file facts
(``self.record``), the project phase reads them back with roles in hand.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from mllint.finding import Fix, Location

CATEGORIES = {
    1: "training", 2: "training", 3: "training", 4: "training",
    5: "data", 6: "data", 7: "data", 8: "data",
    9: "serving", 10: "serving", 11: "serving", 12: "serving",
    13: "monitoring", 14: "monitoring", 15: "monitoring", 16: "monitoring",
    17: "deployment", 18: "deployment", 19: "deployment", 20: "deployment",
}
CHECKPOINT_NAMES = {
    0: "tool",
    1: "model registry",
    2: "experiment tracking",
    3: "reproducible training",
    4: "distributed training",
    5: "training-serving consistency",
    6: "point-in-time correctness",
    7: "data quality monitoring",
    8: "feature store",
    9: "serving scalability",
    10: "model version management",
    11: "serving latency",
    12: "inference cost",
    13: "model quality monitoring",
    14: "data drift detection",
    15: "ground truth collection",
    16: "alerting and escalation",
    17: "staging environment",
    18: "rollout strategy",
    19: "deployment documentation",
    20: "incident response",
}
PROFILES = ("poc", "production", "strict")
CODE_RE = re.compile(r"^ML(\d{2})(\d{2})$")
REQUIRED_HEADINGS = ("What it does", "Why is this bad?", "Example", "Use instead")


@dataclass(frozen=True)
class RuleMeta:
    code: str
    level: str = "warning"  # default SARIF level: note | warning | error
    precision: str = "high"  # very-high | high | medium | low
    tags: tuple = ()
    # Lowest profile that enables the rule: "poc" (per-location correctness), "production"
    # (repository-level absence findings), "strict" (determinism nits).
    profile: str = "poc"
    fix: str = "none"  # none | safe | unsafe | sometimes
    config_kinds: tuple = ()  # ConfigRule: which document kinds it reads
    security_severity: Optional[str] = None  # SARIF security-severity, security rules only
    options: dict = field(default_factory=dict)  # option name -> default value

    @property
    def checkpoint(self) -> int:
        m = CODE_RE.match(self.code)
        return int(m.group(1)) if m else 0


@dataclass
class RuleDoc:
    summary: str
    sections: dict  # heading -> markdown body
    markdown: str

    def section(self, name: str) -> str:
        return self.sections.get(name, "")

    def code_blocks(self, heading: str, lang: Optional[str] = None) -> list:
        blocks = re.findall(r"```([a-zA-Z0-9_-]*)\n(.*?)```", self.section(heading), re.S)
        return [body for l, body in blocks if lang is None or l == lang]


def parse_doc(doc: str) -> RuleDoc:
    text = (doc or "").strip("\n")
    lines = text.splitlines()
    summary = lines[0].strip() if lines else ""
    sections: dict[str, str] = {}
    current = None
    buf: list[str] = []
    for line in lines[1:]:
        m = re.match(r"^##\s+(.*?)\s*$", line)
        if m:
            if current is not None:
                sections[current] = "\n".join(buf).strip("\n")
            current, buf = m.group(1), []
        elif current is not None:
            buf.append(line)
    if current is not None:
        sections[current] = "\n".join(buf).strip("\n")
    return RuleDoc(summary=summary, sections=sections, markdown=text)


def strip_markdown(md: str) -> str:
    out = re.sub(r"```[a-zA-Z0-9_-]*\n(.*?)```", r"\1", md, flags=re.S)
    out = re.sub(r"`([^`]*)`", r"\1", out)
    out = re.sub(r"\*\*([^*]*)\*\*", r"\1", out)
    out = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", out)
    return out.strip()


class Rule:
    """Base of all rules. Subclasses set ``meta``; the registry fills ``name`` and ``doc``."""

    meta: RuleMeta
    name: str = ""  # kebab-case slug, from the module file name
    doc: RuleDoc
    module_name: str = ""

    def __init__(self, options: Optional[dict] = None):
        self.options = dict(self.meta.options)
        if options:
            self.options.update(options)

    @classmethod
    def code(cls) -> str:
        return cls.meta.code

    @classmethod
    def checkpoint(cls) -> int:
        return cls.meta.checkpoint

    @classmethod
    def category(cls) -> str:
        return CATEGORIES.get(cls.meta.checkpoint, "tool")

    @classmethod
    def kinds(cls) -> list:
        out = []
        if issubclass(cls, FileRule):
            out.append("file")
        if issubclass(cls, ConfigRule):
            out.append("config")
        if issubclass(cls, ProjectRule):
            out.append("project")
        return out


@dataclass(slots=True)
class RawFinding:
    """What a rule reports, in the coordinates of the analysed text (virtual module lines
    for notebooks).  The engine maps it to the file and attaches rule metadata."""

    code: str
    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    message: str
    level: Optional[str] = None
    related: list = field(default_factory=list)  # list[Location] in analysed coordinates
    fix: Optional[Fix] = None
    properties: dict = field(default_factory=dict)


def once_per_module(hook):
    """Mark a hook that several rules inherit (a mixin recording shared facts): the walk calls it
    for the first active rule that has it, not once per rule."""
    hook.once_per_module = True
    return hook


class FileRule(Rule):
    """Visits the stdlib ``ast`` of one Python module or notebook.

    Define ``visit_<NodeType>(self, node)`` methods; the engine calls them during its single walk
    (``begin()`` before, ``finish()`` after).  ``self.ctx`` is the ``FileContext`` (resolved
    qualified names, literals, the enclosing scope, the summary being built).  A hook decorated
    with ``once_per_module`` is called for one rule only, however many active rules inherit it.
    """

    ctx: Any = None

    def bind(self, ctx: Any, sink: list) -> None:
        self.ctx = ctx
        self._sink = sink

    def begin(self) -> None:  # pragma: no cover - default hook
        pass

    def finish(self) -> None:  # pragma: no cover - default hook
        pass

    def report(self, node: Any, message: str, *, level: Optional[str] = None,
               fix: Optional[Fix] = None, related: Iterable = (), span: Optional[tuple] = None,
               properties: Optional[dict] = None) -> None:
        """Report at ``node`` (or at ``span`` = (line, col, end_line, end_col) given like an ``ast``
        node's 1-based positions, i.e. columns counting UTF-8 bytes); columns are converted to
        characters here."""
        if span is None:
            line, col, end_line, end_col = self.ctx.span_of(node)
        else:
            line, col, end_line, end_col = span
            col = self.ctx.char_col(line, col - 1)
            end_col = self.ctx.char_col(end_line, end_col - 1)
        self._sink.append(RawFinding(self.meta.code, self.ctx.path, line, col, end_line, end_col,
                                     message, level, list(related), fix, properties or {}))

    def record(self, value: Any) -> None:
        """Keep a picklable per-file fact for this rule's project phase."""
        self.ctx.summary.facts.setdefault(self.meta.code, []).append(value)


class ConfigRule(Rule):
    """Checks one config document (``mllint.sources.ConfigDocument``) of ``meta.config_kinds``."""

    def check_config(self, doc: Any, project: Any) -> Iterable[RawFinding]:  # pragma: no cover
        return ()

    def finding(self, doc: Any, line: int, message: str, *, col: int = 1, end_col: int = 0,
                level: Optional[str] = None, related: Iterable = (), fix: Optional[Fix] = None,
                end_line: int = 0) -> RawFinding:
        if not end_col:
            end_col = doc.line_length(line) + 1 if hasattr(doc, "line_length") else col + 1
        return RawFinding(self.meta.code, doc.path, line, col, end_line or line, max(end_col, col + 1),
                          message, level, list(related), fix)


class ProjectRule(Rule):
    """Runs once over the project graph (``mllint.graph.Project``)."""

    def check_project(self, project: Any) -> Iterable[RawFinding]:  # pragma: no cover
        return ()

    def finding(self, path: str, span: tuple, message: str, *, level: Optional[str] = None,
                related: Iterable = (), fix: Optional[Fix] = None,
                properties: Optional[dict] = None) -> RawFinding:
        line, col, end_line, end_col = span
        return RawFinding(self.meta.code, path, line, col, end_line, end_col, message, level,
                          list(related), fix, properties or {})


__all__ = [
    "RuleMeta", "RuleDoc", "Rule", "FileRule", "ConfigRule", "ProjectRule", "RawFinding",
    "parse_doc", "strip_markdown", "CATEGORIES", "CHECKPOINT_NAMES", "PROFILES",
    "Location", "Fix", "ast",
]
