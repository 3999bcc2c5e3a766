"""JSON and JSON-lines output: every field of every finding."""
from __future__ import annotations

import json


def render_json(result) -> str:
    return json.dumps([f.to_dict() for f in result.findings], indent=2, ensure_ascii=False) + "\n"


def render_json_lines(result) -> str:
    return "".join(json.dumps(f.to_dict(), ensure_ascii=False) + "\n" for f in result.findings)
