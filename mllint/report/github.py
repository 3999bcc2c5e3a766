"""GitHub Actions workflow-command annotations.

``::warning title=mllint (ML0301),file=path,line=L,col=C,endLine=L2,endColumn=C2::path:L:C: ML0301 msg``;
``col``/``endColumn`` are dropped when the finding spans several lines (GitHub rejects them then).
Notebook findings point at the raw ``.ipynb`` line.  GitHub shows at most 10 annotations of each
level per step: upload SARIF for the complete picture.
"""
from __future__ import annotations

_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(result) -> str:
    from mllint.discovery import repo_path

    out = []
    for f in result.findings:
        loc = f.location
        props = [f"title={escape_property(f'mllint ({f.code})')}", f"file={escape_property(repo_path(result.root, loc.path))}",
                 f"line={loc.line}"]
        if loc.end_line == loc.line:
            props.append(f"col={loc.col}")
            props += [f"endLine={loc.end_line}", f"endColumn={loc.end_col}"]
        else:
            props.append(f"endLine={loc.end_line}")
        where = f"{loc.path}:cell {loc.cell}:{loc.cell_line}:{loc.cell_col}" if loc.cell is not None else f"{loc.path}:{loc.line}:{loc.col}"
        msg = f"{where}: {f.code} [{f.name}] {f.message}"
        out.append(f"::{_LEVEL.get(f.level, 'warning')} {','.join(props)}::{escape_data(msg)}")
    return "".join(line + "\n" for line in out)
