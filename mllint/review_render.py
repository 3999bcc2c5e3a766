"""Markdown and HTML renderings of the review model built by ``mllint.review.build_review``.

Markdown is GitHub-flavoured (tables, a Mermaid diagram).  HTML is one self-contained file: inline
CSS, an inline SVG diagram drawn here, no scripts, no external assets; it prints cleanly.
"""
from __future__ import annotations

import html
import re

from mllint.review import FRAMEWORK_GROUPS, LEVEL_ORDER, ROLE_LABELS

SUMMARY_LABELS = {"findings": "with findings", "ok": "no problems found", "n/a": "not applicable",
                  "ask": "ask the team"}
STATUS_ICONS = {"findings": "❌", "ok": "✅", "n/a": "➖", "ask": "❓"}
GROUP_TITLES = {"pipeline": "Pipelines and CI", "training": "Training", "shared": "Shared code",
                "serving": "Serving", "deploy": "Deploy"}
GROUP_ORDER = ("pipeline", "training", "shared", "serving", "deploy")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary_line(model: dict) -> str:
    st = model["summary"]["statuses"]
    f = model["summary"]["findings"]
    parts = []
    if st.get("findings"):
        lv = ", ".join(_plural(f[l], l) for l in LEVEL_ORDER if f.get(l))
        parts.append(f"{_plural(st['findings'], 'checkpoint')} with findings ({lv})")
    for key in ("ok", "n/a", "ask"):
        if st.get(key):
            parts.append(f"{st[key]} {SUMMARY_LABELS[key]}")
    return "; ".join(parts) + "."


def _frameworks_by_group(model: dict) -> list:
    out = []
    fws = model["header"]["frameworks"]
    for key, title in FRAMEWORK_GROUPS:
        names = [f["name"] for f in fws if f["group"] == key]
        if names:
            out.append((title, names))
    return out


def _commit_text(h: dict) -> str:
    if not h.get("commit"):
        return "not a git checkout"
    s = h["commit"]
    if h.get("commit_source") == "--link-base":
        s += " (from --link-base; the files read are not a git checkout)"
    if h.get("branch"):
        s += f" ({h['branch']})"
    if h.get("dirty"):
        s += ", with uncommitted changes"
    return s


# =================================================================================== Markdown
def _md(text: str) -> str:
    """Escape text for Markdown prose; `code` spans are kept as they are (entities do not work there)."""
    out = []
    for i, part in enumerate(re.split(r"(`[^`]*`)", (text or "").replace("\n", " "))):
        if i % 2:
            out.append(part)
        else:
            out.append(part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(out)


LIST_CAP = 25  # items per list in "What the repository is" (JSON has them all)


def _more_md(items: list) -> list:
    return [f"- ... and {len(items) - LIST_CAP} more (all of them are in `--output-format json`)"] \
        if len(items) > LIST_CAP else []


def _code(text) -> str:
    """A Markdown code span around ``text`` (longer fences when it holds backticks)."""
    t = str(text)
    if "`" not in t:
        return f"`{t}`"
    return f"`` {t} ``"


def _md_cell(text: str) -> str:
    return _md(text).replace("|", "\\|")


def _mermaid_label(text: str) -> str:
    return (text or "").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def render_mermaid(diagram: dict) -> str:
    lines = ["flowchart LR"]
    for group in GROUP_ORDER:
        nodes = [n for n in diagram["nodes"] if n["group"] == group]
        if not nodes:
            continue
        lines.append(f'  subgraph {group}_g["{GROUP_TITLES[group]}"]')
        for n in nodes:
            label = _mermaid_label(n["label"])
            if n["detail"]:
                label += "<br/><small>" + "<br/>".join(_mermaid_label(d) for d in n["detail"]) + "</small>"
            lines.append(f'    {n["id"]}["{label}"]')
        lines.append("  end")
    for e in diagram["edges"]:
        lines.append(f'  {e["from"]} -->|{e["label"]}| {e["to"]}')
    return "\n".join(lines)


def render_markdown(model: dict) -> str:
    h = model["header"]
    out = [f"# Architecture review: {_md(h['repository'])}", ""]
    out += ["| | |", "|---|---|"]
    repo = _md_cell(h["repository"])
    if h.get("remote"):
        repo = f"[{repo}]({h['remote']})"
    if h.get("subdirectory"):
        repo += f" (directory {_code(h['subdirectory'])} of the git checkout)"
    out.append(f"| Repository | {repo} |")
    out.append(f"| Commit | {_md_cell(_commit_text(h))} |")
    out.append(f"| Date | {h['date']} |")
    out.append(f"| mllint | {h['mllint_version']} (profile: {model.get('profile') or 'automatic'}) |")
    langs = ", ".join(f"{l['language']} ({_plural(l['files'], 'file')}, {l['lines']:,} lines)" for l in h["languages"])
    out.append(f"| Read | {_plural(h['files'], 'file')}, {h['lines']:,} lines: {langs or 'nothing'} |")
    fw = "; ".join(f"{t}: {', '.join(names)}" for t, names in _frameworks_by_group(model))
    out.append(f"| Frameworks | {_md_cell(fw) or 'none detected'} |")
    roles = ", ".join(f"{ROLE_LABELS[r]} {'yes' if v else 'no'}" for r, v in model["roles"].items())
    out.append(f"| Roles found | {roles} |")
    out += ["", f"**Summary:** {_summary_line(model)}", ""]

    # scorecard
    out += ["## Scorecard", "",
            "| # | Checkpoint | Status | Detail | Rules run |", "|---:|---|---|---|---|"]
    questions = []
    for cat in model["scorecard"]:
        out.append(f"| | **{cat['title']}** | | | |")
        for row in cat["checkpoints"]:
            icon = STATUS_ICONS[row["status"]]
            if row["status"] == "findings" and not (row["counts"].get("error") or row["counts"].get("warning")):
                icon = "⚠️"  # only notes
            status = f"{icon} {row['label']}"
            if row["status"] == "findings":
                status = f"[{status}](#cp-{row['checkpoint']})"
            rules = ", ".join(f"`{r['code']}`" for r in row["rules"]) or "none"
            detail = row["detail"]
            if row["suppressed"]:
                detail += f" ({row['suppressed']} suppressed in source)"
            out.append(f"| {row['checkpoint']} | {row['title']} | {status} | {_md_cell(detail)} | {rules} |")
            if row["question"]:
                questions.append(row)
    if questions:
        out += ["", "### Ask the team", ""]
        for row in questions:
            out.append(f"- **{row['checkpoint']}. {row['title']}:** {_md(row['question'])}")
    out += ["", ("Statuses: **findings** - mllint found evidence this checkpoint fails; **no problems found** - "
            "its rules ran on code that has the role they need and found nothing; **not applicable** - the code "
            "the rules need (training code, serving code or deploy configs) is not in the repository; "
            "**ask the team** - code cannot show this, or no rule checks it yet."), ""]

    # what the repository is
    r = model["repository"]
    out += ["## What the repository is", ""]
    out += ["### Training entrypoints", ""]
    if r["training_entrypoints"]:
        for ep in r["training_entrypoints"][:LIST_CAP]:
            via = f", run by {_code(ep['source'])}" if ep.get("source") else ""
            out.append(f"- [{_code(ep['path'])}]({ep['link']}) ({ep['kind']}{via})")
        out += _more_md(r["training_entrypoints"])
    else:
        out.append("- none found (no entrypoint reaches a training call)")
    if r["other_entrypoints"]:
        n = len(r["other_entrypoints"])
        shown = r["other_entrypoints"][:15]
        out.append("")
        out.append(f"Other entrypoints ({n}): " + ", ".join(f"[{_code(e['path'])}]({e['link']})" for e in shown)
                   + (f" and {n - len(shown)} more" if n > len(shown) else ""))
    out += ["", "### Serving request paths", ""]
    handlers = [x for x in r["serving"]["handlers"] if not x["test"]]
    if handlers:
        for x in handlers[:LIST_CAP]:
            route = f" - {_code(x['route'])}" if x.get("route") else ""
            out.append(f"- [{_code(x['where'])}]({x['link']}) {_code(x['function'])}{route}")
        out += _more_md(handlers)
    for ep in r["serving"]["entrypoints"]:
        out.append(f"- [{_code(ep['path'])}]({ep['link']}) started by {_code(ep['source'])}")
    if not handlers and not r["serving"]["entrypoints"]:
        out.append("- none found (no request handler of a known serving framework)")
    out += ["", "### Pipelines", ""]
    if r["pipelines"]:
        for p in r["pipelines"][:LIST_CAP]:
            runs = ", ".join(f"{_code(x['path'])}" + (" (training)" if x["training"] else " (serving)" if x["serving"] else "")
                             for x in p["runs"])
            out.append(f"- [{_code(p['path'])}]({p['link']}) {p['label']}" + (f": runs {runs}" if runs else ""))
        out += _more_md(r["pipelines"])
    else:
        out.append("- none found (no dvc.yaml, MLproject, CI workflow or script that runs project code)")
    out += ["", "### Deploy configs", ""]
    if r["deploy_configs"]:
        for d in r["deploy_configs"][:LIST_CAP]:
            name = f" {_code(d['name'])}" if d.get("name") else ""
            out.append(f"- [{_code(d['path'] + ':' + str(d['line']))}]({d['link']}) {d['kind']}{name}")
        out += _more_md(r["deploy_configs"])
    else:
        out.append("- none found (no Kubernetes/KServe/Seldon manifests or CloudFormation templates)")
    if r["shared_modules"]:
        out += ["", "### Code shared by training and serving", ""]
        out += [f"- {_code(p)}" for p in r["shared_modules"]]
    if r["diagram"]["nodes"]:
        out += ["", "### Diagram", "", "```mermaid", render_mermaid(r["diagram"]), "```"]

    # findings
    out += ["", "## Findings", ""]
    if not model["findings"]:
        out.append("No findings.")
    for cp in model["findings"]:
        out += [f'<a id="cp-{cp["checkpoint"]}"></a>', "",
                f"### {cp['checkpoint']}. {cp['title']} ({_plural(cp['count'], 'finding')})", ""]
        for g in cp["rules"]:
            out.append(f"#### `{g['code']}` {g['name']} ({g['level']}, {g['count']})")
            out.append("")
            if g["why"]:
                out += [f"> **Why:** {_md(g['why'])}", ""]
            for f in g["findings"]:
                out.append(f"- **{f['level']}** [{_code(f['where'])}]({f['link']}): {_md(f['message'])}")
            if g["omitted"]:
                out.append(f"- ... and {g['omitted']} more (`mllint check --select {g['code']}` lists them all)")
            out.append("")
    if model["unreadable"]:
        out += ["## Files mllint could not read", ""]
        for f in model["unreadable"]:
            out.append(f"- [{_code(f['where'])}]({f['link']}): {_md(f['message'])}")
        out.append("")
    if model["notes"]:
        out += ["## Notes", ""] + [f"- {_md(n)}" for n in model["notes"]] + [""]
    out.append(f"<sub>Generated by mllint {h['mllint_version']} `mllint review`.</sub>")
    return "\n".join(out).rstrip("\n") + "\n"


# ======================================================================================= HTML
def _e(text) -> str:
    return html.escape(str(text if text is not None else ""), quote=True)


def _rich(text: str) -> str:
    """Escape, then render `code` spans."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(text))


CSS = """
:root{--fg:#1d2330;--muted:#5b6472;--line:#d9dee6;--bg:#ffffff;--soft:#f4f6f9;
--red:#b42318;--red-bg:#fdecea;--amber:#8a5a00;--amber-bg:#fff4d6;--green:#1e6b3a;--green-bg:#e5f4ea;
--grey:#5b6472;--grey-bg:#eef0f3;--blue:#25508f;--blue-bg:#e6eefb}
*{box-sizing:border-box}
body{margin:0;color:var(--fg);background:var(--bg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:28px 32px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:36px 0 12px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:16px;margin:22px 0 8px}h4{font-size:14px;margin:16px 0 6px}
a{color:var(--blue)}code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);
padding:1px 4px;border-radius:3px}
.sub{color:var(--muted);margin:0 0 18px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 10px;border-bottom:1px solid var(--line)}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.meta th{width:150px;text-transform:none;font-size:14px;letter-spacing:0;color:var(--muted);font-weight:600}
.cat td{background:var(--soft);font-weight:700;border-top:1px solid var(--line)}
td.num{width:36px;text-align:right;color:var(--muted);font-variant-numeric:tabular-nums}
.chip{display:inline-block;white-space:nowrap;font-size:12px;font-weight:700;padding:2px 9px;border-radius:10px;
border:1px solid transparent}
.s-findings{color:var(--red);background:var(--red-bg);border-color:#f3b8b2}
.s-notes{color:var(--amber);background:var(--amber-bg);border-color:#ecd08a}
.s-ok{color:var(--green);background:var(--green-bg);border-color:#a8d8b9}
.s-na{color:var(--grey);background:var(--grey-bg);border-color:#cfd4db}
.s-ask{color:var(--blue);background:var(--blue-bg);border-color:#b5c8ea}
.l-error{color:var(--red);font-weight:700}.l-warning{color:var(--amber);font-weight:700}.l-note{color:var(--blue);font-weight:700}
.rules code{font-size:12px}
.q{color:var(--muted);font-style:italic;margin-top:2px}
.summary{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0 0}
.summary div{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:130px}
.summary b{display:block;font-size:22px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:14px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.card h3{margin:0 0 6px}.card ul{margin:0;padding-left:18px}.card li{margin:2px 0;overflow-wrap:anywhere}
.empty{color:var(--muted)}
figure{margin:16px 0;border:1px solid var(--line);border-radius:8px;padding:10px;overflow-x:auto}
figure svg{display:block;max-width:100%;height:auto}
figcaption{color:var(--muted);font-size:13px;margin-top:6px}
.why{border-left:3px solid var(--line);margin:4px 0 8px;padding:2px 10px;color:var(--muted)}
ul.findings{list-style:none;padding:0;margin:0 0 10px}
ul.findings li{padding:5px 0;border-bottom:1px dashed var(--line);overflow-wrap:anywhere}
.legend{color:var(--muted);font-size:13px}
footer{margin-top:40px;color:var(--muted);font-size:12px}
@media print{
 body{font-size:10.5pt}main{max-width:none;padding:0}
 a{color:inherit;text-decoration:none}
 h2{break-after:avoid}tr,.card,figure,ul.findings li{break-inside:avoid}
 .chip{border-color:currentColor}
 @page{margin:14mm}
}
"""


def _status_chip(row: dict) -> str:
    cls = {"findings": "s-findings", "ok": "s-ok", "n/a": "s-na", "ask": "s-ask"}[row["status"]]
    if row["status"] == "findings" and not (row["counts"].get("error") or row["counts"].get("warning")):
        cls = "s-notes"  # only notes: weaker signals, drawn in amber
    label = _e(row["label"])
    if row["status"] == "findings":
        return f'<a class="chip {cls}" href="#cp-{row["checkpoint"]}">{label}</a>'
    return f'<span class="chip {cls}">{label}</span>'


def _trim(text: str, n: int) -> str:
    if len(text) <= n:
        return text
    return "…" + text[-(n - 1):]


def render_svg(diagram: dict) -> str:
    """The repository diagram as inline SVG: one column per group, arrows between boxes."""
    groups = [g for g in GROUP_ORDER if any(n["group"] == g for n in diagram["nodes"])]
    if not groups:
        return ""
    colors = {"pipeline": ("#f3effb", "#6f4fb2"), "training": ("#e8f1fc", "#2a62b0"),
              "shared": ("#f4f6f9", "#5b6472"), "serving": ("#e7f5ec", "#23804a"), "deploy": ("#fff3df", "#a0640b")}
    box_w, gap_x, gap_y, line_h, pad = 230, 80, 14, 15, 8
    chars = 30
    pos: dict = {}
    parts = []
    height = 0
    for ci, g in enumerate(groups):
        x = 10 + ci * (box_w + gap_x)
        parts.append(f'<text x="{x}" y="18" class="gt">{_e(GROUP_TITLES[g])}</text>')
        y = 32
        for n in [n for n in diagram["nodes"] if n["group"] == g]:
            lines = 1 + len(n["detail"])
            h = pad * 2 + line_h * lines
            fill, stroke = colors[g]
            parts.append(f'<g><title>{_e(n["label"])}</title>'
                         f'<rect x="{x}" y="{y}" width="{box_w}" height="{h}" rx="6" fill="{fill}" stroke="{stroke}"/>')
            ty = y + pad + 11
            parts.append(f'<text x="{x + 9}" y="{ty}" class="nl">{_e(_trim(n["label"], chars))}</text>')
            for d in n["detail"]:
                ty += line_h
                parts.append(f'<text x="{x + 9}" y="{ty}" class="nd">{_e(_trim(d, chars + 4))}</text>')
            parts.append("</g>")
            pos[n["id"]] = (ci, x, y, h)
            y += h + gap_y
        height = max(height, y)
    bottoms = {}  # column -> lowest box edge
    for ci, x, y, h in pos.values():
        bottoms[ci] = max(bottoms.get(ci, 0), y + h)
    edge_parts = []
    lanes = 0
    for e in diagram["edges"]:
        if e["from"] not in pos or e["to"] not in pos:
            continue
        c1, x1, y1, h1 = pos[e["from"]]
        c2, x2, y2, h2 = pos[e["to"]]
        if c1 == c2:
            continue
        sy, ty = y1 + h1 / 2, y2 + h2 / 2
        if c1 < c2:
            sx, tx, sgn = x1 + box_w, x2, 1
        else:
            sx, tx, sgn = x1, x2 + box_w, -1
        between = range(min(c1, c2) + 1, max(c1, c2))
        if not between:
            dx = (tx - sx) / 2
            d = f"M{sx:.0f},{sy:.0f} C{sx + dx:.0f},{sy:.0f} {tx - dx:.0f},{ty:.0f} {tx:.0f},{ty:.0f}"
            mx, my = (sx + tx) / 2, (sy + ty) / 2 - 4
        else:
            # an edge that skips columns runs in a lane under the boxes it would cross
            lane = max(bottoms.get(c, 0) for c in between) + 14 + 10 * lanes
            lanes += 1
            height = max(height, lane + 8)
            k = 28 * sgn
            d = (f"M{sx:.0f},{sy:.0f} C{sx + k:.0f},{sy:.0f} {sx + k:.0f},{lane:.0f} {sx + 2 * k:.0f},{lane:.0f} "
                 f"L{tx - 2 * k:.0f},{lane:.0f} C{tx - k:.0f},{lane:.0f} {tx - k:.0f},{ty:.0f} {tx:.0f},{ty:.0f}")
            mx, my = (sx + tx) / 2, lane - 3
        edge_parts.append(f'<path d="{d}" class="ed" marker-end="url(#arr)"/>')
        edge_parts.append(f'<text x="{mx:.0f}" y="{my:.0f}" class="el">{_e(e["label"])}</text>')
    width = 10 + len(groups) * (box_w + gap_x) - gap_x + 10
    height += 6
    defs = ('<defs><marker id="arr" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5b6472"/></marker></defs>')
    style = ('<style>.gt{font:700 13px system-ui,sans-serif;fill:#1d2330}'
             '.nl{font:600 12px ui-monospace,Menlo,Consolas,monospace;fill:#1d2330}'
             '.nd{font:11px system-ui,sans-serif;fill:#5b6472}'
             '.ed{fill:none;stroke:#8a93a3;stroke-width:1.4}'
             '.el{font:10px system-ui,sans-serif;fill:#5b6472;text-anchor:middle}</style>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="diagram-title">'
            f'<title id="diagram-title">Training, serving, pipelines and deploy configs of the repository</title>'
            + style + defs + "".join(edge_parts) + "".join(parts) + "</svg>")


def _list_card(title: str, items: list, empty: str) -> str:
    if len(items) > LIST_CAP:
        more = len(items) - LIST_CAP
        items = [*items[:LIST_CAP], f'<span class="empty">… and {more} more (all of them are in the JSON output)</span>']
    body = "".join(f"<li>{i}</li>" for i in items) if items else f'<li class="empty">{_e(empty)}</li>'
    return f'<div class="card"><h3>{_e(title)}</h3><ul>{body}</ul></div>'


def render_html(model: dict) -> str:
    h = model["header"]
    title = f"Architecture review: {h['repository']}"
    o = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         f'<meta name="generator" content="mllint {_e(h["mllint_version"])}">',
         f"<title>{_e(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>", "<main>"]
    o.append(f"<h1>{_e(title)}</h1>")
    o.append(f'<p class="sub">The 20-checkpoint production ML architecture review, filled in from the code by '
             f'mllint {_e(h["mllint_version"])} on {_e(h["date"])}.</p>')

    # header table
    repo = _e(h["repository"])
    if h.get("remote") and h["remote"].startswith(("https://", "http://")):
        repo = f'<a href="{_e(h["remote"])}">{repo}</a>'
    if h.get("subdirectory"):
        repo += f' <span class="empty">(directory <code>{_e(h["subdirectory"])}</code> of the git checkout)</span>'
    langs = ", ".join(f"{_e(l['language'])} ({_plural(l['files'], 'file')}, {l['lines']:,} lines)" for l in h["languages"])
    fw = "<br>".join(f"<b>{_e(t)}:</b> {_e(', '.join(n))}" for t, n in _frameworks_by_group(model)) or "none detected"
    roles = ", ".join(f"{_e(ROLE_LABELS[r])}: <b>{'yes' if v else 'no'}</b>" for r, v in model["roles"].items())
    commit = f"<code>{_e(h['commit'])}</code>" if h.get("commit") else "not a git checkout"
    if h.get("commit") and h.get("commit_source") == "--link-base":
        commit += " (from --link-base; the files read are not a git checkout)"
    if h.get("commit") and h.get("branch"):
        commit += f" ({_e(h['branch'])})"
    if h.get("dirty"):
        commit += ", with uncommitted changes"
    o.append('<table class="meta"><tbody>')
    for k, v in (("Repository", repo), ("Commit", commit), ("Date", _e(h["date"])),
                 ("mllint", f"{_e(h['mllint_version'])} (profile: {_e(model.get('profile') or 'automatic')})"),
                 ("Read", f"{_plural(h['files'], 'file')}, {h['lines']:,} lines: {langs or 'nothing'}"),
                 ("Frameworks", fw), ("Roles found", roles)):
        o.append(f"<tr><th scope=\"row\">{k}</th><td>{v}</td></tr>")
    o.append("</tbody></table>")
    st = model["summary"]["statuses"]
    fl = model["summary"]["findings"]
    o.append('<div class="summary">')
    for key in ("findings", "ok", "n/a", "ask"):
        extra = ""
        if key == "findings" and st.get(key):
            extra = " (" + ", ".join(_plural(fl[l], l) for l in LEVEL_ORDER if fl.get(l)) + ")"
        o.append(f"<div><b>{st.get(key, 0)}</b>{_e(SUMMARY_LABELS[key])}{_e(extra)}</div>")
    o.append("</div>")

    # scorecard
    o.append('<h2 id="scorecard">Scorecard</h2>')
    o.append('<table class="score"><thead><tr><th scope="col">#</th><th scope="col">Checkpoint</th><th scope="col">Status</th><th scope="col">Detail</th>'
             '<th scope="col">Rules run</th></tr></thead><tbody>')
    for cat in model["scorecard"]:
        o.append(f'<tr class="cat"><td colspan="5">{_e(cat["title"])}</td></tr>')
        for row in cat["checkpoints"]:
            detail = _e(row["detail"])
            if row["suppressed"]:
                detail += f" ({row['suppressed']} suppressed in source)"
            if row["question"]:
                detail += f'<div class="q">Ask: {_e(row["question"])}</div>'
            rules = ", ".join(f'<code title="{_e(r["name"])}">{_e(r["code"])}</code>' for r in row["rules"]) or \
                '<span class="empty">none</span>'
            o.append(f'<tr><td class="num">{row["checkpoint"]}</td><td>{_e(row["title"])}</td>'
                     f"<td>{_status_chip(row)}</td><td>{detail}</td><td class=\"rules\">{rules}</td></tr>")
    o.append("</tbody></table>")
    o.append('<p class="legend"><b>findings</b>: mllint found evidence this checkpoint fails. '
             "<b>no problems found</b>: its rules ran on code with the role they need and found nothing. "
             "<b>not applicable</b>: the code the rules need (training code, serving code or deploy configs) is not "
             "in the repository. <b>ask the team</b>: code cannot show this, or no rule checks it yet.</p>")

    # what the repository is
    r = model["repository"]
    o.append('<h2 id="repository">What the repository is</h2>')
    svg = render_svg(r["diagram"])
    if svg:
        o.append(f"<figure>{svg}<figcaption>Pipelines run entrypoints; training and serving code import shared "
                 f"modules; deploy configs ship the serving code.</figcaption></figure>")
    o.append('<div class="grid">')
    items = []
    for ep in r["training_entrypoints"]:
        via = f" <span class=\"empty\">run by {_e(ep['source'])}</span>" if ep.get("source") else ""
        items.append(f'<a href="{_e(ep["link"])}"><code>{_e(ep["path"])}</code></a> ({_e(ep["kind"])}){via}')
    o.append(_list_card("Training entrypoints", items, "none found (no entrypoint reaches a training call)"))
    items = []
    for x in r["serving"]["handlers"]:
        if x["test"]:
            continue
        route = f" <b>{_e(x['route'])}</b>" if x.get("route") else ""
        items.append(f'<a href="{_e(x["link"])}"><code>{_e(x["where"])}</code></a> '
                     f'<code>{_e(x["function"])}</code>{route}')
    for ep in r["serving"]["entrypoints"]:
        items.append(f'<a href="{_e(ep["link"])}"><code>{_e(ep["path"])}</code></a> started by {_e(ep["source"])}')
    o.append(_list_card("Serving request paths", items, "none found (no request handler of a known serving framework)"))
    items = []
    for p in r["pipelines"]:
        runs = "".join(f'<li><code>{_e(x["path"])}</code>'
                       f'{" (training)" if x["training"] else " (serving)" if x["serving"] else ""}</li>' for x in p["runs"])
        items.append(f'<a href="{_e(p["link"])}"><code>{_e(p["path"])}</code></a> {_e(p["label"])}'
                     + (f"<ul>{runs}</ul>" if runs else ""))
    o.append(_list_card("Pipelines", items, "none found"))
    items = []
    for d in r["deploy_configs"]:
        name = f" <code>{_e(d['name'])}</code>" if d.get("name") else ""
        items.append(f'<a href="{_e(d["link"])}"><code>{_e(d["path"])}:{d["line"]}</code></a> {_e(d["kind"])}{name}')
    o.append(_list_card("Deploy configs", items, "none found (no Kubernetes/KServe/Seldon manifests or CloudFormation)"))
    if r["shared_modules"]:
        o.append(_list_card("Code shared by training and serving", [f"<code>{_e(p)}</code>" for p in r["shared_modules"]], ""))
    if r["other_entrypoints"]:
        shown = r["other_entrypoints"][:15]
        items = [f'<a href="{_e(e["link"])}"><code>{_e(e["path"])}</code></a> ({_e(e["kind"])})' for e in shown]
        if len(r["other_entrypoints"]) > len(shown):
            items.append(f"and {len(r['other_entrypoints']) - len(shown)} more")
        o.append(_list_card("Other entrypoints", items, ""))
    o.append("</div>")

    # findings
    o.append('<h2 id="findings">Findings</h2>')
    if not model["findings"]:
        o.append('<p class="empty">No findings.</p>')
    for cp in model["findings"]:
        o.append(f'<h3 id="cp-{cp["checkpoint"]}">{cp["checkpoint"]}. {_e(cp["title"])} '
                 f'<span class="empty">({_plural(cp["count"], "finding")})</span></h3>')
        for g in cp["rules"]:
            o.append(f'<h4><code>{_e(g["code"])}</code> {_e(g["name"])} '
                     f'<span class="l-{_e(g["level"])}">{_e(g["level"])}</span> <span class="empty">× {g["count"]}</span></h4>')
            if g["why"]:
                o.append(f'<p class="why"><b>Why:</b> {_rich(g["why"])}</p>')
            o.append('<ul class="findings">')
            for f in g["findings"]:
                o.append(f'<li><span class="l-{_e(f["level"])}">{_e(f["level"])}</span> '
                         f'<a href="{_e(f["link"])}"><code>{_e(f["where"])}</code></a> {_rich(f["message"])}</li>')
            if g["omitted"]:
                o.append(f'<li class="empty">… and {g["omitted"]} more (<code>mllint check --select {_e(g["code"])}</code> '
                         f"lists them all)</li>")
            o.append("</ul>")
    if model["unreadable"]:
        o.append('<h2 id="unreadable">Files mllint could not read</h2><ul class="findings">')
        for f in model["unreadable"]:
            o.append(f'<li><a href="{_e(f["link"])}"><code>{_e(f["where"])}</code></a> {_rich(f["message"])}</li>')
        o.append("</ul>")
    if model["notes"]:
        o.append('<h2 id="notes">Notes</h2><ul>' + "".join(f"<li>{_e(n)}</li>" for n in model["notes"]) + "</ul>")
    o.append(f"<footer>Generated by mllint {_e(h['mllint_version'])} (<code>mllint review</code>). "
             "Static analysis shows evidence, not proof: a checkpoint without findings still deserves the "
             "reviewer's question.</footer>")
    o += ["</main>", "</body>", "</html>"]
    return "\n".join(o) + "\n"
