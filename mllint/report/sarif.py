"""SARIF 2.1.0 for GitHub code scanning (see docs/github-code-scanning.md).

Built with sarif-om's object model and serialised by a small walker over each attrs field's
``schema_property_name`` metadata that drops only ``None`` and the ``-1`` "absent" sentinels, so
explicit levels survive (jschema_to_python drops values equal to their defaults).
"""
from __future__ import annotations

import json
import os
from urllib.parse import quote

from mllint import __version__
from mllint._hash import blake2b
from mllint.finding import LEVEL_RANK
from mllint.report.fingerprint import line_hashes
from mllint.sources import regular_small

INFORMATION_URI = "https://pypi.org/project/mllint-arch/"
SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000
MAX_TAGS = 10
MAX_HASH_BYTES = 20 * 1024 * 1024
PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "note": "recommendation"}


def to_json_obj(obj):
    """Recursive attrs -> JSON walker keyed by ``schema_property_name``."""
    import attr

    if attr.has(type(obj)):
        out = {}
        for a in attr.fields(type(obj)):
            value = getattr(obj, a.name)
            if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and value == -1):
                continue
            key = a.metadata.get("schema_property_name", a.name)
            out[key] = to_json_obj(value)
        return out
    if isinstance(obj, dict):
        return {k: to_json_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json_obj(v) for v in obj]
    return obj


def rule_descriptor(cls, index_in_run: int):
    from sarif_om import MultiformatMessageString, ReportingConfiguration, ReportingDescriptor

    from mllint.rule import CHECKPOINT_NAMES, strip_markdown

    doc = cls.doc
    what = doc.section("What it does")
    why = doc.section("Why is this bad?")
    full = strip_markdown(f"{what}\n\n{why}".strip()) or doc.summary
    tags = ["ml", cls.category()]
    cp = cls.meta.checkpoint
    if cp:
        tags.append(f"checkpoint-{cp:02d}")
        tags.append(CHECKPOINT_NAMES[cp].replace(" ", "-"))
    tags += [t for t in cls.meta.tags if t not in tags]
    if cls.meta.security_severity and "security" not in tags:
        tags.append("security")
    props = {
        "checkpoint": cp,
        "category": cls.category(),
        "tags": tags[:MAX_TAGS],
        "precision": cls.meta.precision,
        "problem.severity": PROBLEM_SEVERITY[cls.meta.level],
        "profile": cls.meta.profile,
    }
    if cls.meta.security_severity:
        props["security-severity"] = str(cls.meta.security_severity)
    return ReportingDescriptor(
        id=cls.meta.code,
        name=_pascal(cls.name),
        short_description=MultiformatMessageString(text=_clip(doc.summary or cls.name, 1024)),
        full_description=MultiformatMessageString(text=_clip(full, 1024)),
        help=MultiformatMessageString(text=_clip(strip_markdown(doc.markdown) or doc.summary, 100_000),
                                      markdown=doc.markdown or doc.summary),
        help_uri=f"{INFORMATION_URI}#{cls.meta.code.lower()}",
        default_configuration=ReportingConfiguration(level=cls.meta.level),
        properties=props,
    )


def _pascal(slug: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in slug.split("-"))


def _clip(s: str, n: int) -> str:
    s = s.strip()
    return s if len(s) <= n else s[: n - 1] + "…"


def _uri(path: str) -> str:
    return quote(path.replace(os.sep, "/"), safe="/-_.~")


def _region(loc):
    from sarif_om import Region

    return Region(start_line=max(loc.line, 1), start_column=max(loc.col, 1), end_line=max(loc.end_line, loc.line),
                  end_column=max(loc.end_col, 1))


def semantic_fingerprint(f, line_text: str) -> str:
    norm = " ".join(line_text.split())
    h = blake2b(f"{f.code}\x1f{f.location.path}\x1f{norm}\x1f{f.message}".encode(), digest_size=8)
    return h.hexdigest()


class _FileHashes:
    def __init__(self, root: str):
        self.root = root
        self.cache: dict = {}

    def get(self, path: str) -> tuple:
        if path not in self.cache:
            full = os.path.join(self.root, path)
            try:
                if not regular_small(full, MAX_HASH_BYTES):  # a FIFO would block, a huge file is not analysed
                    raise OSError("not hashed")
                with open(full, "rb") as fh:
                    text = fh.read().decode("utf-8", errors="replace")
                self.cache[path] = (line_hashes(text), text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
            except OSError:
                self.cache[path] = ([], [])
        return self.cache[path]


def build_log(result, *, category: str = None, include_suppressed: bool = False, max_results: int = MAX_RESULTS,
              notifications_extra: list = ()) -> dict:
    from sarif_om import (
        ArtifactChange, ArtifactContent, ArtifactLocation, Fix, Invocation, Location, Message,
        Notification, PhysicalLocation, ReportingDescriptorReference, Replacement,
        Result, Run, RunAutomationDetails, SarifLog, Suppression, Tool, ToolComponent,
    )

    from mllint import registry

    rule_classes = sorted({c.meta.code: c for c in list(result.rules) + [registry.lookup("ML0000")] if c}.values(),
                          key=lambda c: c.meta.code)
    index = {c.meta.code: i for i, c in enumerate(rule_classes)}
    descriptors = [rule_descriptor(c, i) for i, c in enumerate(rule_classes)]
    findings = list(result.findings)
    exec_notes = []
    if include_suppressed:
        findings += list(getattr(result, "suppressed", []))
    if len(findings) > max_results:
        findings.sort(key=lambda f: (-LEVEL_RANK.get(f.level, 0), f.sort_key()))
        dropped = len(findings) - max_results
        findings = findings[:max_results]
        findings.sort(key=lambda f: f.sort_key())
        exec_notes.append(Notification(
            message=Message(text=f"{dropped} results were left out: GitHub accepts at most {max_results} results per "
                                 f"run; the most severe were kept."), level="warning",
            descriptor=ReportingDescriptorReference(id="results-truncated")))
    hashes = _FileHashes(result.root)
    # GitHub resolves %SRCROOT% to the checkout: paths are made relative to the git root
    from mllint.discovery import repo_path, vcs_root

    top = vcs_root(result.root)

    def uri(path: str) -> str:
        return _uri(repo_path(result.root, path))

    results = []
    for f in findings:
        if f.code not in index:
            continue
        loc = f.location
        phys = PhysicalLocation(artifact_location=ArtifactLocation(uri=uri(loc.path), uri_base_id="%SRCROOT%"),
                                region=_region(loc))
        msg = f.message
        if loc.cell is not None:
            msg = f"{msg} (cell {loc.cell}, line {loc.cell_line})"
        related = []
        for i, r in enumerate(f.related, start=1):
            related.append(Location(id=i, physical_location=PhysicalLocation(
                artifact_location=ArtifactLocation(uri=uri(r.path), uri_base_id="%SRCROOT%"), region=_region(r)),
                message=Message(text=r.message or "related location")))
        if related and "](" not in msg:
            msg = msg.rstrip(".") + ". See " + ", ".join(f"[{r.message.text if r.message else 'related'}]({r.id})"
                                                        for r in related) + "."
        lh, lines = hashes.get(loc.path)
        fps = {}
        if 0 < loc.line <= len(lh) and lh[loc.line - 1]:
            fps["primaryLocationLineHash"] = lh[loc.line - 1]
        line_text = lines[loc.line - 1] if 0 < loc.line <= len(lines) else ""
        fps["mllint/v1"] = semantic_fingerprint(f, line_text)
        props = dict(f.properties) if f.properties else {}
        props["checkpoint"] = f.checkpoint
        fixes = None
        if f.fix is not None and f.fix.edits:
            fixes = [Fix(description=Message(text=f.fix.title + ("" if f.fix.safe else " (unsafe)")),
                         artifact_changes=[ArtifactChange(
                             artifact_location=ArtifactLocation(uri=uri(loc.path), uri_base_id="%SRCROOT%"),
                             replacements=[Replacement(
                                 deleted_region=_region(_EditLoc(e)),
                                 inserted_content=ArtifactContent(text=e.content)) for e in f.fix.edits])])]
        res = Result(rule_id=f.code, rule_index=index[f.code], level=f.level, message=Message(text=msg),
                     locations=[Location(physical_location=phys)], partial_fingerprints=fps,
                     related_locations=related or None, properties=props, fixes=fixes)
        if f.suppressed is not None:
            res.suppressions = [Suppression(kind="inSource", justification=f.suppressed)]
        results.append(res)
    for n in list(result.notifications) + list(notifications_extra):
        loc = None
        if n.path:
            loc = [Location(physical_location=PhysicalLocation(
                artifact_location=ArtifactLocation(uri=uri(n.path), uri_base_id="%SRCROOT%"),
                region=_Region1(n.line or 1)))]
        note = Notification(message=Message(text=n.message), level=n.level if n.level in ("note", "warning", "error") else "error",
                            descriptor=ReportingDescriptorReference(id=n.descriptor or "internal-error"), locations=loc)
        exec_notes.append(note)
    config_notes = [Notification(message=Message(text=n.message), level="warning",
                                 descriptor=ReportingDescriptorReference(id="configuration"))
                    for n in getattr(result, "config_notifications", [])]
    invocation = Invocation(execution_successful=True, tool_execution_notifications=exec_notes or None,
                            tool_configuration_notifications=config_notes or None)
    root_uri = "file://" + quote(top.replace(os.sep, "/").rstrip("/") + "/", safe="/-_.~:")
    run = Run(
        tool=Tool(driver=ToolComponent(name="mllint", version=__version__, semantic_version=__version__,
                                       information_uri=INFORMATION_URI, rules=descriptors)),
        results=results,
        invocations=[invocation],
        column_kind="unicodeCodePoints",
        original_uri_base_ids={"%SRCROOT%": ArtifactLocation(uri=root_uri)},
        automation_details=RunAutomationDetails(id=category) if category else None,
    )
    log = SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])
    obj = to_json_obj(log)
    # '$schema' first, for readers that sniff it
    return {"$schema": obj.pop("$schema"), **obj}


class _EditLoc:
    def __init__(self, e):
        self.line, self.col, self.end_line, self.end_col = e.line, e.col, e.end_line, e.end_col


def _Region1(line: int):
    from sarif_om import Region

    return Region(start_line=max(line, 1))


def render_sarif(result, *, category: str = None, include_suppressed: bool = False, **_) -> str:
    return json.dumps(build_log(result, category=category, include_suppressed=include_suppressed), indent=2,
                      ensure_ascii=False) + "\n"
