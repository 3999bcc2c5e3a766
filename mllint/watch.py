"""``mllint check --watch``: re-run the scan whenever a relevant file changes (watchfiles).

For people without an LSP client.  Imports stay light: watchfiles is imported when the loop starts.
The loop takes an optional ``changes`` iterable (sets of ``(change, path)`` pairs, as
``watchfiles.watch`` yields) and ``max_runs`` so that tests drive it without sleeping forever.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Callable, Iterable, Optional

SETTINGS_NAMES = {"pyproject.toml", "mllint.toml", ".mllint.toml"}
CONFIG_NAMES = SETTINGS_NAMES | {".gitignore", ".ignore"}


def relevant(path: str, root: str) -> bool:
    """Would a change to ``path`` change the scan?  Code and config files mllint reads, and the
    files that configure it; never anything under an excluded directory (.git, caches, venvs)."""
    from mllint.discovery import DEFAULT_EXCLUDES, classify

    try:
        rel = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
    except ValueError:  # pragma: no cover - another drive on Windows
        return False
    parts = rel.split("/")
    if any(p in DEFAULT_EXCLUDES or p.endswith(".egg-info") for p in parts[:-1]):
        return False
    name = parts[-1]
    if name in CONFIG_NAMES:
        return True
    if name.endswith((".tmp", "~", ".swp", ".swx")) or name.startswith(".#"):
        return False
    return classify(rel) is not None


def watch_roots(paths: list, root: str) -> list:
    """Directories named are watched; when only files are named, the whole project is loaded, so
    the whole project is watched."""
    dirs = [os.path.abspath(p) for p in paths if os.path.isdir(p)]
    if not dirs:
        return [os.path.abspath(root)]
    # the configuration at the root applies to every named directory
    extra = [os.path.join(root, n) for n in sorted(CONFIG_NAMES) if os.path.isfile(os.path.join(root, n))]
    return dirs + [e for e in extra if not any(e.startswith(d + os.sep) for d in dirs)]


def _default_changes(roots: list, root: str, stop_event=None) -> Iterable:
    try:
        import watchfiles
    except ImportError:
        from mllint.cli import MllintError

        raise MllintError("--watch needs the watchfiles package: pip install 'mllint-arch[watch]'")
    return watchfiles.watch(*roots, watch_filter=lambda _change, p: relevant(p, root), stop_event=stop_event,
                            raise_interrupt=False, debounce=300)


def run_once(paths: list, settings, fmt: str, use_cache: bool = True) -> tuple:
    """-> (exit code, report text)."""
    from mllint.engine import scan
    from mllint.report import render

    result = scan(list(paths), settings, use_cache=use_cache)
    return result.exit_code(), render(fmt, result)


def watch_loop(paths, settings, fmt: str = "concise", *, changes: Optional[Iterable] = None,
               max_runs: Optional[int] = None, echo: Optional[Callable[[str], None]] = None,
               clear: Optional[bool] = None, stop_event=None, reload: Optional[Callable] = None,
               use_cache: bool = True) -> int:
    """Scan, print, then re-scan on every batch of relevant changes.  Returns the exit code of the
    last scan (0 on Ctrl-C).  ``max_runs`` bounds the number of scans (tests).  ``reload()``
    returns fresh settings after a configuration file changed (the CLI passes one that keeps its
    options); without it the settings of the start are kept."""
    paths = list(paths) or ["."]
    root = settings.root
    if echo is None:
        import click

        def echo(s: str) -> None:
            click.echo(s, nl=False)

    if clear is None:
        clear = sys.stdout.isatty()
    code = 0
    runs = 0

    def one(reason: str) -> int:
        nonlocal runs
        runs += 1
        if clear:
            echo("\x1b[2J\x1b[H")
        echo(f"[{time.strftime('%H:%M:%S')}] {reason}\n")
        try:
            rc, text = run_once(paths, settings, fmt, use_cache)
        except Exception as exc:  # keep watching: the next edit may fix it
            echo(f"mllint: error: {type(exc).__name__}: {exc}\n")
            return 2
        echo(text if text.endswith("\n") or not text else text + "\n")
        echo("Watching for file changes (Ctrl-C to stop)...\n")
        return rc

    try:
        code = one("Starting mllint in watch mode...")
        if max_runs is not None and runs >= max_runs:
            return code
        if changes is None:
            changes = _default_changes(watch_roots(paths, root), root, stop_event)
        for batch in changes:
            batch = {(c, p) for c, p in batch if relevant(p, root)}
            if not batch:
                continue
            names = sorted({os.path.relpath(p, root).replace(os.sep, "/") for _, p in batch})
            note = ""
            if reload is not None and any(n.rsplit("/", 1)[-1] in SETTINGS_NAMES for n in names):
                try:
                    settings = reload()
                except Exception as exc:  # a broken config while editing it: keep the last good one
                    msg = exc.format_message() if hasattr(exc, "format_message") else str(exc)
                    note = f"\nmllint: error: {msg}; keeping the previous configuration"
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            code = one(f"File change detected ({shown}); re-running mllint...{note}")
            if max_runs is not None and runs >= max_runs:
                break
    except KeyboardInterrupt:
        return 0
    return code
