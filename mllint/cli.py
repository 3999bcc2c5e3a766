"""Command line: ``mllint check``, ``mllint rule``, ``mllint rules`` (and more subcommands
registered by their modules).  Exit codes: 0 clean, 1 findings, 2 usage/config/internal error."""
from __future__ import annotations

import json
import os
import sys

import click

from mllint import __version__
from mllint.cli_options import scan_options


class MllintError(click.ClickException):
    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"mllint: error: {self.format_message()}", err=True)


# Subcommands that live in their own modules: imported when one is run or listed, not on every run
# (`mllint check` paid for the language server and the review report at start-up).
_LAZY_COMMANDS = {"graph": "mllint.graph_cmd", "review": "mllint.review", "server": "mllint.lsp"}


class _LazyGroup(click.Group):
    def list_commands(self, ctx) -> list:
        return sorted(set(super().list_commands(ctx)) | set(_LAZY_COMMANDS))

    def get_command(self, ctx, name: str):
        cmd = super().get_command(ctx, name)
        if cmd is None and name in _LAZY_COMMANDS:
            import importlib

            try:
                cmd = getattr(importlib.import_module(_LAZY_COMMANDS[name]), "command", None)
            except ImportError:  # an optional dependency is missing: the command does not exist
                return None
            if cmd is not None:
                self.add_command(cmd, name)
        return cmd


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mllint")
def main() -> None:
    """mllint: finds the code-level evidence of failing ML architecture-review checkpoints."""


def _csv(values) -> list:
    out = []
    for v in values or ():
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


common_options = scan_options("Rule profile (default: production when serving or deploy code exists, else poc).")


def load(paths, select, ignore, extend_select, per_file_ignores, config, isolated, exclude, extend_exclude,
         force_exclude, respect_gitignore, profile, **extra):
    from mllint import registry
    from mllint.config import ConfigError, load_settings
    from mllint.discovery import find_root

    paths = list(paths) or ["."]
    for p in paths:
        if p != "-" and not os.path.lexists(p):
            raise MllintError(f"{p}: no such file or directory")
    root = find_root(paths[0])
    for p in paths[1:]:
        ap = os.path.abspath(p)
        if not (ap == root or ap.startswith(root + os.sep)):
            root = os.path.commonpath([root, find_root(p)])  # paths from several projects
    # A directory named on the command line that is not inside the found root is its own root.
    try:
        settings = load_settings(paths, root, config=tuple(config), isolated=isolated)
    except ConfigError as exc:
        raise MllintError(str(exc))
    try:
        if select:
            settings.select = _csv(select)
            for s in settings.select:
                registry.expand_selector(s)
        if ignore:
            settings.ignore = settings.ignore + _csv(ignore)
            for s in _csv(ignore):
                registry.expand_selector(s)
        if extend_select:
            settings.extend_select = settings.extend_select + _csv(extend_select)
            for s in _csv(extend_select):
                registry.expand_selector(s)
        for item in per_file_ignores or ():
            if ":" not in item:
                raise MllintError(f"--per-file-ignores {item!r}: expected PATTERN:CODES")
            pat, codes = item.rsplit(":", 1)
            settings.per_file_ignores[pat] = _csv([codes])
            for s in settings.per_file_ignores[pat]:
                registry.expand_selector(s)
    except registry.RuleLoadError as exc:
        raise MllintError(str(exc))
    if exclude:
        settings.exclude = _csv(exclude)
    if extend_exclude:
        settings.extend_exclude = settings.extend_exclude + _csv(extend_exclude)
    if force_exclude:
        settings.force_exclude = True
    if respect_gitignore is not None:
        settings.respect_gitignore = respect_gitignore
    if profile:
        settings.profile = profile
    return paths, settings


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@common_options
@click.option("--output-format", type=click.Choice(["full", "concise", "json", "json-lines", "sarif", "github"]),
              default=None, envvar="MLLINT_OUTPUT_FORMAT", help="Output format (default: full).")
@click.option("-o", "--output-file", type=click.Path(), default=None, envvar="MLLINT_OUTPUT_FILE",
              help="Write the report to this file.")
@click.option("--statistics", is_flag=True, help="Show counts per rule instead of each finding.")
@click.option("-e", "--exit-zero", is_flag=True, help="Exit 0 even when there are findings (2 still means error).")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary line.")
@click.option("-s", "--silent", is_flag=True, help="Print nothing; only the exit code tells.")
@click.option("--sarif-category", default=None, help="SARIF automationDetails.id (the code-scanning category).")
@click.option("--include-suppressed", is_flag=True, help="SARIF/JSON: include suppressed findings, marked as such.")
@click.option("--no-cache", "no_cache", is_flag=True, help="Do not read or write the cache.")
@click.option("--cache-dir", type=click.Path(), default=None, envvar="MLLINT_CACHE_DIR", help="Cache directory.")
@click.option("-j", "--jobs", type=int, default=None, help="Worker processes (default: CPUs; small scans run in-process).")
@click.option("--show-files", is_flag=True, help="List the files mllint would analyse, then exit.")
@click.option("--show-settings", is_flag=True, help="Print the resolved settings, then exit.")
@click.option("--fix", is_flag=True, help="Apply safe fixes.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply (or offer) unsafe fixes.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff and change nothing.")
@click.option("--show-fixes", is_flag=True, help="List the fixes applied.")
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit 1 if anything was fixed.")
@click.option("--add-noqa", is_flag=True, help="Add `# noqa: CODE` to every line with a finding.")
@click.option("--watch", is_flag=True, help="Re-run when files change.")
@click.option("--baseline", type=click.Path(), default=None, help="Report only findings not in this baseline file.")
@click.option("--write-baseline", type=click.Path(), default=None, help="Write every current finding to a baseline file.")
@click.option("--stdin-filename", default=None, help="Path of the file read from stdin (with PATH '-').")
@click.option("--timings", is_flag=True, hidden=True, help="Print per-phase wall times to stderr (for bench/).")
def check(paths, output_format, output_file, statistics, exit_zero, quiet, silent, sarif_category, include_suppressed,
          no_cache, cache_dir, jobs, show_files, show_settings, fix, unsafe_fixes, diff, show_fixes,
          exit_non_zero_on_fix, add_noqa, watch, baseline, write_baseline, stdin_filename, timings=False, **opts):
    """Scan PATHS (default: the current directory) and report findings."""
    opts["_timings"] = timings
    try:
        code = _check(paths, output_format, output_file, statistics, exit_zero, quiet, silent, sarif_category,
                      include_suppressed, no_cache, cache_dir, jobs, show_files, show_settings, fix, unsafe_fixes, diff,
                      show_fixes, exit_non_zero_on_fix, add_noqa, watch, baseline, write_baseline, stdin_filename, opts)
    except click.ClickException:
        raise
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
    except Exception as exc:  # an internal error: exit 2 with one line, no traceback
        if os.environ.get("MLLINT_DEBUG"):
            raise
        raise MllintError(f"internal error: {type(exc).__name__}: {exc} (set MLLINT_DEBUG=1 for a traceback)")
    sys.exit(code)


def _check(paths, output_format, output_file, statistics, exit_zero, quiet, silent, sarif_category, include_suppressed,
           no_cache, cache_dir, jobs, show_files, show_settings, fix, unsafe_fixes, diff, show_fixes,
           exit_non_zero_on_fix, add_noqa, watch, baseline, write_baseline, stdin_filename, opts) -> int:
    from mllint.engine import scan
    from mllint.report import render

    want_timings = opts.pop("_timings", False)
    overlays = None
    if list(paths) == ["-"]:
        if not stdin_filename:
            raise MllintError("reading from stdin ('-') needs --stdin-filename")
        text = sys.stdin.read()
        paths = (stdin_filename,)
        rel = None
    paths, settings = load(paths, **opts)
    if list(paths) and stdin_filename and list(paths) == [stdin_filename]:
        rel = os.path.relpath(os.path.abspath(stdin_filename), settings.root).replace(os.sep, "/")
        overlays = {rel: text}
    if jobs is not None:
        settings.jobs = jobs
    if cache_dir:
        settings.cache_dir = os.path.abspath(cache_dir)
    sarif_category = sarif_category or settings.sarif_category
    if show_settings:
        d = {k: v for k, v in vars(settings).items()}
        click.echo(json.dumps(d, indent=2, default=str))
        return 0
    if show_files:
        from mllint.discovery import discover

        disc = discover(paths, settings.root, excludes=settings.excludes(), respect_gitignore=settings.respect_gitignore,
                        force_exclude=settings.force_exclude)
        for f in disc.files:
            click.echo(f"{f.path}\t{f.kind}")
        return 0
    if watch:
        from mllint.watch import watch_loop

        def reload_settings():  # the configuration changed: re-read it, CLI options still win
            fresh = load(paths, **opts)[1]
            if jobs is not None:
                fresh.jobs = jobs
            if cache_dir:
                fresh.cache_dir = os.path.abspath(cache_dir)
            return fresh

        return watch_loop(paths, settings, output_format or "concise", reload=reload_settings,
                          use_cache=not no_cache)
    use_cache = not no_cache
    if fix or diff or unsafe_fixes and (fix or diff) or add_noqa:
        from mllint.fixes import run_fixes

        return run_fixes(paths, settings, fix=fix or diff, unsafe=unsafe_fixes, diff=diff, show_fixes=show_fixes,
                         exit_non_zero_on_fix=exit_non_zero_on_fix, add_noqa=add_noqa,
                         output_format=output_format or "full", quiet=quiet, silent=silent, exit_zero=exit_zero,
                         overlays=overlays)
    result = scan(list(paths), settings, overlays=overlays, use_cache=use_cache,
                  result_cache=use_cache and not overlays)
    if write_baseline:  # before --baseline, so that the file records every current finding
        from mllint.baseline import write_baseline as wb

        wb(result, write_baseline)
    if baseline:
        from mllint.baseline import apply_baseline

        apply_baseline(result, baseline)
    fmt = output_format or "full"
    t_report = __import__("time").perf_counter()
    if fmt in ("sarif", "json", "json-lines") and not silent:  # fixes carry their edits: compute them lazily
        from mllint.fixes import attach_edits

        attach_edits(result)
    if silent:
        text = ""
    else:
        text = render(fmt, result, statistics=statistics, category=sarif_category, include_suppressed=include_suppressed)
        if quiet and fmt in ("full", "concise"):
            text = "\n".join(l for l in text.splitlines() if not l.startswith(("Found ", "All checks passed", "[*]", "No fixes"))) + "\n"
            text = "" if not text.strip() else text
    if output_file:
        with open(output_file, "w", encoding="utf-8") as fh:
            fh.write(text)
    elif text:
        click.echo(text, nl=False)
    if want_timings:
        result.timings["report"] = __import__("time").perf_counter() - t_report
        click.echo("mllint-timings: " + json.dumps(result.timings), err=True)
    for n in result.notifications:
        if n.descriptor == "internal-error" and not silent:
            click.echo(f"mllint: warning: {n.message}", err=True)
    _warn_newer_syntax(result, silent)
    if exit_zero:
        return 0
    return result.exit_code()


def _warn_newer_syntax(result, silent: bool) -> None:
    """One warning for the files skipped because they use a newer Python's syntax than the one
    mllint runs on: they are valid code, so they are no ML0000 findings, but the scan saw nothing
    in them."""
    from mllint.engine import NEWER_SYNTAX

    paths = sorted({n.path for n in result.notifications if n.descriptor == NEWER_SYNTAX and n.path})
    if not paths or silent:
        return
    import re
    import sys

    newest = max((m.group(1) for n in result.notifications if n.descriptor == NEWER_SYNTAX
                  for m in [re.search(r"uses Python (\d+\.\d+) syntax", n.message)] if m), default="3.12",
                 key=lambda v: tuple(map(int, v.split("."))))
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    click.echo(f"mllint: warning: {len(paths)} file{'s' if len(paths) != 1 else ''} use{'' if len(paths) != 1 else 's'} "
               f"Python {newest} syntax that mllint, running on Python {sys.version_info[0]}.{sys.version_info[1]}, "
               f"cannot parse; that code was not analysed: {shown}; run mllint with Python {newest} or later",
               err=True)


@main.command("rule")
@click.argument("key", required=False)
@click.option("--all", "all_", is_flag=True, help="Print every rule's documentation.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
def rule_cmd(key, all_, output_format):
    """Print a rule's documentation (by code or name)."""
    from mllint import registry

    if all_:
        rules = list(registry.all_rules())
    else:
        if not key:
            raise MllintError("give a rule code or name, or --all")
        r = registry.lookup(key)
        if r is None:
            raise MllintError(f"unknown rule: {key!r}")
        rules = [r]
    if output_format == "json":
        data = [_rule_json(r) for r in rules]
        click.echo(json.dumps(data if all_ else data[0], indent=2))
        return
    for r in rules:
        click.echo(rule_markdown(r))


def rule_markdown(r) -> str:
    from mllint.rule import CHECKPOINT_NAMES

    m = r.meta
    head = f"# {r.name} ({m.code})\n\n"
    cp = f"Checkpoint {m.checkpoint}: {CHECKPOINT_NAMES.get(m.checkpoint, '')}. " if m.checkpoint else ""
    info = (f"{cp}Level: {m.level}. Precision: {m.precision}. Profile: {m.profile}. "
            f"Fix: {m.fix}.\n\n")
    return head + info + r.doc.markdown + "\n"


def _rule_json(r) -> dict:
    m = r.meta
    return {"code": m.code, "name": r.name, "checkpoint": m.checkpoint, "category": r.category(), "level": m.level,
            "precision": m.precision, "profile": m.profile, "fix": m.fix, "kinds": r.kinds(),
            "summary": r.doc.summary, "explanation": r.doc.markdown, "options": m.options}


@main.command("rules")
@click.option("--output-format", type=click.Choice(["text", "json", "md"]), default="text")
def rules_cmd(output_format):
    """List every rule: code, name, checkpoint, level, profile."""
    from mllint import registry

    rules = registry.all_rules()
    if output_format == "json":
        click.echo(json.dumps([_rule_json(r) for r in rules], indent=2))
        return
    if output_format == "md":
        lines = ["| Code | Name | Checkpoint | Level | Profile | Fix | Summary |", "|---|---|---|---|---|---|---|"]
        for r in rules:
            m = r.meta
            lines.append(f"| {m.code} | `{r.name}` | {m.checkpoint} | {m.level} | {m.profile} | {m.fix} | {r.doc.summary} |")
        click.echo("\n".join(lines))
        return
    for r in rules:
        m = r.meta
        click.echo(f"{m.code}  {r.name:<42} cp{m.checkpoint:<3} {m.level:<8} {m.profile:<11} {r.doc.summary}")
