"""Writers over the one Finding model: full/concise text, json, json-lines, sarif, github."""
from __future__ import annotations

FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github")


def render(fmt: str, result, *, show_fixes: bool = False, statistics: bool = False, **kw) -> str:
    if fmt in ("full", "concise"):
        from mllint.report.text import render_text

        return render_text(result, full=(fmt == "full"), statistics=statistics, **kw)
    if fmt == "json":
        from mllint.report.jsonfmt import render_json

        return render_json(result)
    if fmt == "json-lines":
        from mllint.report.jsonfmt import render_json_lines

        return render_json_lines(result)
    if fmt == "github":
        from mllint.report.github import render_github

        return render_github(result)
    if fmt == "sarif":
        from mllint.report.sarif import render_sarif

        return render_sarif(result, **kw)
    raise ValueError(f"unknown output format {fmt!r}")
