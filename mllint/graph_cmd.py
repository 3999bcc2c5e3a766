"""``mllint graph``: the architecture mllint sees - modules, entrypoints, roles and the edges
between them - as JSON, Graphviz dot or Mermaid."""
from __future__ import annotations

import json
import re
import sys

import click


def architecture(project) -> dict:
    """A module-level view of the project graph with roles (also used by ``mllint review``)."""
    from mllint.graph import split_scope

    roles: dict = {}

    def add(path, role):
        roles.setdefault(path, set()).add(role)

    for ep in project.entrypoints:
        add(ep.path, "training-entrypoint" if ep.training else ("serving-entrypoint" if ep.kind == "serving" else "entrypoint"))
    for sid in project.training_scopes:
        add(split_scope(sid)[0], "training")
    for sid in project.request_roots:
        add(split_scope(sid)[0], "request-handler")
    for sid in project.request_scopes:
        add(split_scope(sid)[0], "serving")
    for sid in project.startup_scopes:
        p = split_scope(sid)[0]
        if p in project.serving_modules:
            add(p, "serving-startup")
    g = project.graph
    modules = []
    for path, s in sorted(project.summaries.items()):
        modules.append({"path": path, "module": s.module, "kind": s.kind, "roles": sorted(roles.get(path, ())),
                        "functions": len(s.functions), "test": project.is_test_path(path)})
    kinds: dict = {}
    for a, b, kind in g.edges(data="kind"):
        if kind in ("imports", "calls", "runs"):
            pa = a[4:] if a.startswith("mod:") else (a[4:].split("#")[0] if a.startswith("cfg:") else split_scope(a)[0])
            pb = b[4:] if b.startswith("mod:") else (b[4:].split("#")[0] if b.startswith("cfg:") else split_scope(b)[0])
            if pa != pb:
                kinds.setdefault((pa, pb), set()).add("runs" if a.startswith("cfg:") else kind)
    # one edge per pair: "calls" implies the import
    edges = {(a, b, "runs" if "runs" in ks else ("calls" if "calls" in ks else "imports")) for (a, b), ks in kinds.items()}
    entrypoints = [{"kind": ep.kind, "path": ep.path, "line": ep.line, "training": ep.training, "declared_in": ep.source}
                   for ep in project.entrypoints]
    handlers = []
    for sid in project.request_roots:
        path, scope = split_scope(sid)
        fn = project.function(sid)
        handlers.append({"path": path, "function": scope, "line": fn.line if fn else 1,
                         "async": bool(fn and fn.is_async)})
    deploy = [{"path": d.path, "kind": d.kind, "subkind": d.subkind, "line": d.line} for d in project.deploy_configs]
    pipelines = [{"path": d.path, "kind": d.kind} for d in project.configs
                 if d.kind in ("dvc", "mlproject", "github-workflow", "gitlab-ci")]
    return {"modules": modules, "edges": [{"from": a, "to": b, "kind": k} for a, b, k in sorted(edges)],
            "entrypoints": entrypoints, "request_handlers": handlers, "deploy_configs": deploy,
            "pipelines": pipelines, "has_training": project.has_training, "has_serving": project.has_serving,
            "has_deploy": project.has_deploy}


def interesting(arch: dict, limit: int = 60) -> tuple:
    """Nodes and edges worth drawing: modules with roles, configs that run them, and edges between them."""
    keep = {m["path"] for m in arch["modules"] if m["roles"] and not m["test"]}
    keep |= {d["path"] for d in arch["deploy_configs"]}
    edges = [e for e in arch["edges"] if (e["from"] in keep or e["kind"] == "runs") and e["to"] in keep]
    for e in edges:
        keep.add(e["from"])
    nodes = sorted(keep)[:limit]
    nodes_set = set(nodes)
    return nodes, [e for e in edges if e["from"] in nodes_set and e["to"] in nodes_set]


def _node_id(path: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", path)


def _label(arch: dict, path: str) -> str:
    roles = next((m["roles"] for m in arch["modules"] if m["path"] == path), None)
    if roles is None:
        d = next((d for d in arch["deploy_configs"] if d["path"] == path), None)
        return f"{path} [{d['subkind'] or d['kind']}]" if d else path
    tags = []
    if "training-entrypoint" in roles:
        tags.append("train entry")
    elif "training" in roles:
        tags.append("training")
    if "request-handler" in roles:
        tags.append("handlers")
    elif "serving" in roles or "serving-startup" in roles:
        tags.append("serving")
    return f"{path} ({', '.join(tags)})" if tags else path


def _common_prefix(paths) -> str:
    import os

    paths = [p for p in paths]
    if len(paths) < 2:
        return ""
    prefix = os.path.commonpath(paths)
    return prefix + "/" if prefix and all(p.startswith(prefix + "/") for p in paths) else ""


def to_mermaid(arch: dict) -> str:
    nodes, edges = interesting(arch)
    strip = _common_prefix(nodes)
    out = ["flowchart LR"]
    for p in nodes:
        label = _label(arch, p)[len(strip):].replace('"', "'")
        roles = next((m["roles"] for m in arch["modules"] if m["path"] == p), [])
        shape = ("([", "])") if "training-entrypoint" in roles else (("[[", "]]") if "request-handler" in roles else
                                                                       (("[/", "/]") if not roles else ("[", "]")))
        out.append(f'  {_node_id(p)}{shape[0]}"{label}"{shape[1]}')
    for e in edges:
        arrow = "-.->" if e["kind"] == "runs" else "-->"
        out.append(f"  {_node_id(e['from'])} {arrow}|{e['kind']}| {_node_id(e['to'])}")
    return "\n".join(out) + "\n"


def to_dot(arch: dict) -> str:
    out = ["digraph mllint {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"]
    nodes, edges = interesting(arch, limit=500)
    for p in nodes:
        label = _label(arch, p).replace('"', '\\"')
        out.append(f'  "{p}" [label="{label}"];')
    for e in edges:
        style = ' style=dashed' if e["kind"] == "runs" else ""
        out.append(f'  "{e["from"]}" -> "{e["to"]}" [label="{e["kind"]}"{style}];')
    out.append("}")
    return "\n".join(out) + "\n"


@click.command("graph")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--output-format", type=click.Choice(["json", "dot", "mermaid"]), default="mermaid")
@click.option("-o", "--output-file", type=click.Path(), default=None)
@click.option("--config", "config", multiple=True)
@click.option("--isolated", is_flag=True)
def command(paths, output_format, output_file, config, isolated):
    """Show the architecture mllint sees: modules, entrypoints, roles and their edges."""
    from mllint.cli import MllintError, load
    from mllint.engine import scan

    try:
        paths, settings = load(paths, (), (), (), (), config, isolated, (), (), False, None, None)
        settings.select = ["ML0000"]  # the graph does not need the rules
        result = scan(list(paths), settings, use_cache=True)
    except MllintError:
        raise
    except Exception as exc:  # pragma: no cover
        raise MllintError(f"internal error: {type(exc).__name__}: {exc}")
    arch = architecture(result.project)
    text = json.dumps(arch, indent=2) + "\n" if output_format == "json" else (
        to_dot(arch) if output_format == "dot" else to_mermaid(arch))
    if output_file:
        with open(output_file, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)
    sys.exit(0)
