"""Baselines for adopting mllint on a large existing repository.

``mllint check --write-baseline .mllint-baseline.json`` records every current finding;
``mllint check --baseline .mllint-baseline.json`` then reports only findings that are not in it.

A finding is matched by its fingerprint: rule + path + the finding's line text with whitespace
normalised + message (the same key as SARIF's ``partialFingerprints["mllint/v1"]``), never by
line number, so adding or removing lines above a finding keeps it matched.  Identical
fingerprints are counted: a baseline holding two copies of a finding absorbs two, and a third
copy is new.
"""
from __future__ import annotations

import json
import os
from collections import Counter

FORMAT_VERSION = 1


class BaselineError(Exception):
    pass


def _line_texts(root: str, path: str, cache: dict) -> list:
    if path not in cache:
        try:
            with open(os.path.join(root, path), "rb") as fh:
                text = fh.read().decode("utf-8", errors="replace")
            cache[path] = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        except OSError:
            cache[path] = []
    return cache[path]


def fingerprint(finding, line_text: str) -> str:
    from mllint.report.sarif import semantic_fingerprint

    return semantic_fingerprint(finding, line_text)


def fingerprints(result, overlays: dict | None = None) -> list:
    """``[(fingerprint, finding)]`` for every reported finding, in report order.  ``overlays``
    (relpath -> text) replaces files on disk, as for editor buffers."""
    cache: dict = {}
    for path, text in (overlays or {}).items():
        cache[path] = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out = []
    for f in result.findings:
        lines = _line_texts(result.root, f.location.path, cache)
        n = f.location.line
        out.append((fingerprint(f, lines[n - 1] if 0 < n <= len(lines) else ""), f))
    return out


def write_baseline(result, path: str) -> int:
    """Write every current finding of ``result`` to ``path``; returns how many were written."""
    entries: dict = {}
    for fp, f in fingerprints(result):
        e = entries.get(fp)
        if e is None:
            entries[fp] = {"fingerprint": fp, "code": f.code, "path": f.location.path, "message": f.message,
                           "line": f.location.line, "count": 1}
        else:
            e["count"] += 1
    data = {
        "version": FORMAT_VERSION,
        "tool": "mllint",
        "note": "Findings accepted when mllint was adopted; matched by fingerprint (rule, path, line text, "
                "message), not by line number. `line` is informational.",
        "findings": sorted(entries.values(), key=lambda e: (e["path"], e["line"], e["code"], e["fingerprint"])),
    }
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    os.replace(tmp, path)
    return sum(e["count"] for e in entries.values())


def load_baseline(path: str) -> Counter:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise BaselineError(f"baseline file {path} does not exist (create it with --write-baseline)")
    except (OSError, ValueError) as exc:
        raise BaselineError(f"cannot read baseline file {path}: {exc}")
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path} is not an mllint baseline file (no 'findings' list)")
    if data.get("version", FORMAT_VERSION) > FORMAT_VERSION:
        raise BaselineError(f"{path}: baseline format version {data.get('version')} is newer than this mllint")
    counts: Counter = Counter()
    for e in data["findings"]:
        if not isinstance(e, dict) or not isinstance(e.get("fingerprint"), str):
            raise BaselineError(f"{path}: every baseline entry needs a 'fingerprint'")
        counts[e["fingerprint"]] += int(e.get("count", 1))
    return counts


def filter_new(result, counts: Counter, overlays: dict | None = None) -> tuple:
    """-> (new findings, number of baseline matches).  Does not modify ``result``."""
    left = Counter(counts)
    new, matched = [], 0
    for fp, f in fingerprints(result, overlays):
        if left[fp] > 0:
            left[fp] -= 1
            matched += 1
        else:
            new.append(f)
    return new, matched


def apply_baseline(result, path: str) -> int:
    """Drop the findings recorded in the baseline at ``path`` from ``result.findings``; returns how
    many were dropped.  A missing or malformed baseline is a usage error (exit code 2)."""
    try:
        counts = load_baseline(path)
    except BaselineError as exc:
        from mllint.cli import MllintError

        raise MllintError(str(exc))
    new, matched = filter_new(result, counts)
    result.findings = new
    result.baseline_matched = matched
    return matched
