"""``mllint server``: a language server (LSP over stdio, pygls 2.x, extra ``mllint-arch[lsp]``).

- Diagnostics on open, change (debounced) and save, pushed for every open document of the
  project (or pulled, ``textDocument/diagnostic``, when the client declares it): the project graph is built from the files on disk with the open buffers laid over them
  (``engine.scan(..., overlays=...)``), so project-level rules see unsaved edits.
- Notebook documents (``notebookDocument/*``) when the client sends them: the cells are rebuilt
  into an in-memory ``.ipynb`` and findings are published on the cell documents.
- Code actions, titled like ruff's: ``mllint (ML0301): Disable for this line`` (adds or merges
  ``# noqa: ML0301``), ``mllint (ML0301): <fix title>`` when the finding carries a fix, and
  ``mllint: Fix all auto-fixable problems`` (``source.fixAll.mllint``, safe fixes only).
- Columns are converted from code points to the negotiated position encoding (UTF-16 unless the
  client offers another).

Module import stays light (click only): pygls is imported when the server starts.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

import click

SOURCE = "mllint"
FIX_ALL_KIND = "source.fixAll.mllint"
DEBOUNCE_SECONDS = 0.25
CONFIG_FILES = ("pyproject.toml", "mllint.toml", ".mllint.toml")
# comment syntax of the noqa directive per file kind; kinds without one get no "Disable" action
NOQA_COMMENT = {"python": "#", "notebook": "#", "requirements": "#", "pyproject": "#", "dockerfile": "#",
                "github-workflow": "#", "gitlab-ci": "#", "dvc": "#", "dvc-lock": "#", "mlproject": "#",
                "conda-env": "#", "params": "#", "yaml": "#", "shell": "#"}


# ------------------------------------------------------------------------- position encodings
def units(text: str, encoding: str = "utf-16") -> int:
    """Length of ``text`` in the code units of ``encoding`` (utf-8, utf-16 or utf-32)."""
    enc = str(getattr(encoding, "value", encoding)).lower()
    if enc == "utf-32":
        return len(text)
    if enc == "utf-8":
        return len(text.encode("utf-8", errors="surrogatepass"))
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def code_points(text: str, n_units: int, encoding: str = "utf-16") -> int:
    """The code-point index in ``text`` of a client position counted in ``encoding`` units."""
    count = 0
    for i, ch in enumerate(text):
        if count >= n_units:
            return i
        count += units(ch, encoding)
    return len(text)


def split_lines(text: str) -> list:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def to_position(lines: list, line: int, col: int, encoding: str) -> tuple:
    """1-based (line, code-point column) -> 0-based (line, character in ``encoding`` units)."""
    if not lines:
        return 0, 0
    li = min(max(line, 1), len(lines)) - 1
    text = lines[li]
    if line > len(lines):
        return li, units(text, encoding)
    return li, units(text[: max(col, 1) - 1], encoding)


# ----------------------------------------------------------------------------- linting core
@dataclass
class OpenFile:
    """An open buffer: a text document or a notebook (then ``cells`` lists its cell documents)."""

    uri: str
    path: str  # absolute file system path
    text: str  # for notebooks, the rebuilt .ipynb JSON
    version: Optional[int] = None
    cells: list = field(default_factory=list)  # [(cell uri, kind 'code'|'markdown', text, version)]
    language: str = ""  # the client's languageId

    @property
    def is_notebook(self) -> bool:
        return bool(self.cells) or self.path.endswith(".ipynb")


@dataclass
class Entry:
    """One published diagnostic and what the code actions need to act on it."""

    uri: str  # the document the diagnostic is on (a cell document for notebooks)
    diagnostic: Any
    finding: Any
    line_text: str  # the text of the diagnostic's first line at lint time
    comment: Optional[str]  # noqa comment syntax, None when the file kind has none
    lines: list  # the document's lines at lint time (fix edits are converted against them)
    version: Optional[int] = None


def notebook_json(cells: list) -> str:
    """A minimal nbformat-4 notebook from ``[(uri, kind, text, version)]`` (cell numbering as on disk:
    every cell counts)."""
    nb_cells = []
    for _uri, kind, text, _v in cells:
        src = text.splitlines(keepends=True)
        cell = {"cell_type": "code" if kind == "code" else "markdown", "metadata": {}, "source": src}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        nb_cells.append(cell)
    return json.dumps({"cells": nb_cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)


_SCANS_SINCE_COLLECT = 0
COLLECT_EVERY = 16


def _collect_now_and_then() -> None:
    """A scan freezes what it allocated before turning the cyclic collector back on
    (``engine.gc_paused``), so a long-lived server would keep any cyclic garbage that existed at
    those moments (asyncio and pygls make some).  Every few scans, unfreeze and collect once."""
    global _SCANS_SINCE_COLLECT
    import gc

    _SCANS_SINCE_COLLECT += 1
    if _SCANS_SINCE_COLLECT >= COLLECT_EVERY and gc.isenabled():
        _SCANS_SINCE_COLLECT = 0
        gc.unfreeze()
        gc.collect()


def lint(root: str, files: list, encoding: str = "utf-16", settings=None) -> dict:
    """Scan the project at ``root`` with ``files`` (OpenFiles) laid over the disk; returns
    ``{uri: [Entry]}`` with an entry list (possibly empty) for every document of ``files``."""
    from lsprotocol import types

    from mllint.config import load_settings
    from mllint.discovery import classify
    from mllint.engine import scan

    if settings is None:
        settings = load_settings([root], root)
        settings.force_exclude = True  # an editor names every file: the excludes still apply
        settings.jobs = 1  # no process pool inside the server; the cache keeps re-scans fast
    overlays, paths = {}, []
    by_rel: dict = {}
    for f in files:
        rel = os.path.relpath(f.path, root).replace(os.sep, "/")
        if rel.startswith("../"):
            continue
        if classify(rel) is None and f.language != "python":
            continue  # a file mllint does not read (ruff.toml, Pipfile...): never parse it as Python
        overlays[rel] = f.text
        paths.append(f.path)
        by_rel[rel] = f
    out: dict = {}
    for f in files:
        if f.cells:
            for cell_uri, *_ in f.cells:
                out[cell_uri] = []
        else:
            out[f.uri] = []
    if not paths:
        return out
    result = scan(paths, settings, overlays=overlays, use_cache=True)
    _collect_now_and_then()
    attach_fix_edits(result, {rel: t for rel, t in overlays.items() if not by_rel[rel].cells})
    from mllint.report.sarif import INFORMATION_URI

    severity = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
                "note": types.DiagnosticSeverity.Information}
    line_cache: dict = {}
    for finding in result.findings:
        f = by_rel.get(finding.location.path)
        if f is None:
            continue
        loc = finding.location
        kind = classify(loc.path) or "python"
        comment = NOQA_COMMENT.get(kind)
        if f.cells:
            if loc.cell is None or not 0 < loc.cell <= len(f.cells):
                continue  # a notebook-level finding that maps to no cell
            cell_uri, _kind, cell_text, cell_version = f.cells[loc.cell - 1]
            uri, version = cell_uri, cell_version
            lines = line_cache.setdefault(cell_uri, split_lines(cell_text))
            line, col = loc.cell_line or 1, loc.cell_col or 1
            if loc.end_line == loc.line:
                end_line, end_col = line, col + max(loc.end_col - loc.col, 1)
            else:
                end_line = line
                end_col = len(lines[line - 1]) + 1 if 0 < line <= len(lines) else col + 1
        else:
            uri, version = f.uri, f.version
            lines = line_cache.setdefault(f.uri, split_lines(f.text))
            line, col, end_line, end_col = loc.line, loc.col, loc.end_line, loc.end_col
        sl, sc = to_position(lines, line, col, encoding)
        el, ec = to_position(lines, end_line, end_col, encoding)
        if (el, ec) < (sl, sc):
            el, ec = sl, sc
        data = {"code": finding.code, "name": finding.name}
        if finding.fix is not None and not f.cells:
            data["fix"] = finding.fix.to_dict()
        diag = types.Diagnostic(
            range=types.Range(start=types.Position(line=sl, character=sc), end=types.Position(line=el, character=ec)),
            message=finding.message,
            severity=severity.get(finding.level, types.DiagnosticSeverity.Warning),
            code=finding.code,
            code_description=types.CodeDescription(href=f"{INFORMATION_URI}#{finding.code.lower()}"),
            source=SOURCE,
            data=data,
        )
        related = []
        for r in finding.related:
            rpath = os.path.join(root, r.path)
            related.append(types.DiagnosticRelatedInformation(
                location=types.Location(uri=_path_to_uri(rpath), range=types.Range(
                    start=types.Position(line=max(r.line - 1, 0), character=0),
                    end=types.Position(line=max(r.line - 1, 0), character=0))),
                message=r.message or "related location"))
        if related:
            diag.related_information = related
        line_text = lines[sl] if sl < len(lines) else ""
        out.setdefault(uri, []).append(Entry(uri, diag, finding, line_text, comment, lines, version))
    return out


def attach_fix_edits(result, texts: dict) -> None:
    """Give fixable findings their edits (mllint/fixes.py), computed on the open buffers' text.
    Fixes in notebooks are left out (their edits are in raw-JSON coordinates, not in cells)."""
    if not any(f.fix is not None for f in result.findings):
        return
    try:
        from mllint import fixes
    except ImportError:  # the fix extra (libcst) is not installed: offer no fixes
        for f in result.findings:
            f.fix = None
        return
    try:
        fixes.attach_edits(result, unsafe=True, paths=set(texts), texts=texts)
    except Exception:  # a fixer failing must not cost the diagnostics
        pass
    for f in result.findings:  # no edits: nothing to offer
        if f.fix is not None and not f.fix.edits:
            f.fix = None


def _path_to_uri(path: str) -> str:
    from pygls.uris import from_fs_path

    return from_fs_path(path) or path


def _uri_to_path(uri: str) -> Optional[str]:
    from pygls.uris import to_fs_path

    if not uri.startswith("file:"):
        return None
    return to_fs_path(uri)


def disable_edit(entry: Entry, current_line: Optional[str], encoding: str):
    """The TextEdit adding ``# noqa: CODE`` to the diagnostic's line (merging an existing one)."""
    from lsprotocol import types

    from mllint.suppress import add_noqa_to_line

    line_no = entry.diagnostic.range.start.line
    text = entry.line_text if current_line is None else current_line
    text = text.rstrip("\r\n")
    new = add_noqa_to_line(text, [entry.finding.code], entry.comment or "#")
    return types.TextEdit(range=types.Range(start=types.Position(line=line_no, character=0),
                                            end=types.Position(line=line_no, character=units(text, encoding))),
                          new_text=new)


def fix_edits(entry: Entry, encoding: str) -> list:
    """A finding's fix edits (1-based code points, end exclusive) as TextEdits."""
    from lsprotocol import types

    out = []
    for e in entry.finding.fix.edits:
        sl, sc = to_position(entry.lines, e.line, e.col, encoding)
        el, ec = to_position(entry.lines, e.end_line, e.end_col, encoding)
        out.append(types.TextEdit(range=types.Range(start=types.Position(line=sl, character=sc),
                                                    end=types.Position(line=el, character=ec)), new_text=e.content))
    return out


def _overlaps(a, b) -> bool:
    return not ((a.end.line, a.end.character) < (b.start.line, b.start.character)
                or (b.end.line, b.end.character) < (a.start.line, a.start.character))


def _edits_overlap(edits: list, taken: list) -> bool:
    for e in edits:
        for t in taken:
            if (e.range.start.line, e.range.start.character) < (t.range.end.line, t.range.end.character) and \
               (t.range.start.line, t.range.start.character) < (e.range.end.line, e.range.end.character):
                return True
    return False


def code_actions(entries: list, uri: str, rng, only, current_lines: Optional[list], current_version,
                 encoding: str) -> list:
    """Code actions for the diagnostics of ``uri`` that touch ``rng``."""
    from lsprotocol import types

    def wanted(kind: str) -> bool:
        if not only:
            return True
        return any(kind == o or kind.startswith(str(o) + ".") for o in (str(getattr(k, "value", k)) for k in only))

    actions = []
    fresh = current_version is None or all(e.version is None or e.version == current_version for e in entries)
    if wanted("quickfix"):
        seen = set()
        for e in entries:
            if not _overlaps(e.diagnostic.range, rng):
                continue
            code = e.finding.code
            fix = e.finding.fix
            if fix is not None and fix.edits and fresh and "fix" in (e.diagnostic.data or {}):
                actions.append(types.CodeAction(
                    title=f"mllint ({code}): {fix.title}" + ("" if fix.safe else " (unsafe)"),
                    kind=types.CodeActionKind.QuickFix, diagnostics=[e.diagnostic], is_preferred=bool(fix.safe),
                    edit=types.WorkspaceEdit(changes={uri: fix_edits(e, encoding)})))
            key = (code, e.diagnostic.range.start.line)
            if e.comment is None or key in seen:
                continue
            seen.add(key)
            ln = e.diagnostic.range.start.line
            cur = current_lines[ln] if current_lines is not None and ln < len(current_lines) else None
            actions.append(types.CodeAction(
                title=f"mllint ({code}): Disable for this line", kind=types.CodeActionKind.QuickFix,
                diagnostics=[e.diagnostic],
                edit=types.WorkspaceEdit(changes={uri: [disable_edit(e, cur, encoding)]})))
    if wanted(FIX_ALL_KIND) and fresh:
        edits: list = []
        for e in sorted(entries, key=lambda x: (x.diagnostic.range.start.line, x.diagnostic.range.start.character)):
            fix = e.finding.fix
            if fix is None or not fix.safe or not fix.edits or "fix" not in (e.diagnostic.data or {}):
                continue
            new = fix_edits(e, encoding)
            if _edits_overlap(new, edits):
                continue  # the next run offers the rest
            edits += new
        if edits:
            actions.append(types.CodeAction(title="mllint: Fix all auto-fixable problems", kind=FIX_ALL_KIND,
                                            edit=types.WorkspaceEdit(changes={uri: edits})))
    return actions


# --------------------------------------------------------------------------------- the server
def build_server():
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from lsprotocol import types
    from pygls.lsp.server import LanguageServer

    from mllint import __version__
    from mllint.config import ConfigError
    from mllint.discovery import find_root

    class MllintServer(LanguageServer):
        def __init__(self):
            super().__init__(
                "mllint", __version__,
                text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                notebook_document_sync=types.NotebookDocumentSyncOptions(
                    notebook_selector=[types.NotebookDocumentFilterWithCells(
                        notebook="jupyter-notebook", cells=[types.NotebookCellLanguage(language="python")])],
                    save=True),
            )
            self.entries: dict = {}  # uri -> [Entry]
            self.pending: dict = {}  # root -> asyncio task (debounce)
            self.pull = False  # the client pulls diagnostics (textDocument/diagnostic): don't push
            self.refresh = False  # ... and accepts workspace/diagnostic/refresh
            self.versions: dict = {}  # uri -> document version the stored entries were computed on
            self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mllint-lint")
            self.config_errors: dict = {}  # root -> last error shown

        # ---- documents
        @property
        def encoding(self) -> str:
            enc = self.workspace.position_encoding or "utf-16"
            return str(getattr(enc, "value", enc))

        def open_files(self) -> list:
            files = []
            ws = self.workspace
            cell_uris = set()
            for nb_uri, nb in list(ws.notebook_documents.items()):
                path = _uri_to_path(nb.uri)
                if path is None:
                    continue
                cells = []
                for cell in nb.cells:
                    cell_uris.add(cell.document)
                    try:
                        doc = ws.get_text_document(cell.document)
                        text, version = doc.source, doc.version
                    except Exception:  # pragma: no cover - a cell the client did not send
                        text, version = "", None
                    kind = "code" if cell.kind == types.NotebookCellKind.Code else "markdown"
                    cells.append((cell.document, kind, text, version))
                files.append(OpenFile(nb.uri, path, notebook_json(cells), nb.version, cells))
            for uri, doc in list(ws.text_documents.items()):
                if uri in cell_uris or doc.uri in cell_uris:
                    continue
                path = _uri_to_path(doc.uri)
                if path is None:
                    continue
                files.append(OpenFile(doc.uri, path, doc.source, doc.version, language=doc.language_id or ""))
            return files

        def root_of(self, path: str) -> str:
            return find_root(path)

        # ---- linting
        def schedule(self, path: Optional[str], delay: float = 0.0) -> None:
            if path is None:
                return
            root = self.root_of(path)
            task = self.pending.get(root)
            if task is not None and not task.done():
                task.cancel()
            self.pending[root] = asyncio.ensure_future(self._lint_root(root, delay))

        async def _lint_root(self, root: str, delay: float) -> None:
            if delay:
                await asyncio.sleep(delay)
            files = [f for f in self.open_files() if self.root_of(f.path) == root]
            versions = {}
            for f in files:
                if f.cells:
                    versions.update({c[0]: c[3] for c in f.cells})
                else:
                    versions[f.uri] = f.version
            loop = asyncio.get_running_loop()
            try:
                result = await loop.run_in_executor(self.executor, lint, root, files, self.encoding)
            except ConfigError as exc:
                msg = f"mllint: configuration error in {root}: {exc}"
                if self.config_errors.get(root) != msg:
                    self.config_errors[root] = msg
                    self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=msg))
                self.versions.update(versions)  # nothing to report until the configuration is fixed
                return
            except Exception as exc:  # never take the server down
                self.window_log_message(types.LogMessageParams(
                    type=types.MessageType.Error, message=f"mllint: internal error: {type(exc).__name__}: {exc}"))
                return
            self.config_errors.pop(root, None)
            self.versions.update(versions)
            changed = False
            for uri, entries in result.items():
                old = self.entries.get(uri)
                self.entries[uri] = entries
                if self.pull:
                    changed = changed or old is None or [e.diagnostic for e in old] != [e.diagnostic for e in entries]
                    continue
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                    uri=uri, version=versions.get(uri), diagnostics=[e.diagnostic for e in entries]))
            if self.pull and changed and self.refresh:
                # another open document's diagnostics may have changed (project-level rules)
                self.workspace_diagnostic_refresh(None)

        def current_version(self, uri: str):
            try:
                return self.workspace.get_text_document(uri).version
            except Exception:  # pragma: no cover
                return None

        async def pulled(self, uri: str) -> list:
            """The diagnostics of ``uri`` for a pull request: wait for a pending lint of its
            project, or lint now when what is stored is older than the document."""
            path = _uri_to_path(uri)
            if path is None:
                nb = self.workspace.get_notebook_document(cell_uri=uri)
                path = _uri_to_path(nb.uri) if nb is not None else None
            if path is None:
                return []
            root = self.root_of(path)
            for _ in range(4):
                task = self.pending.get(root)
                if task is not None and not task.done():
                    try:
                        await asyncio.shield(task)
                    except asyncio.CancelledError:
                        if not task.cancelled():
                            raise  # this request itself was cancelled
                        continue  # the lint was replaced by a newer one: wait for that
                if uri in self.versions and self.versions[uri] == self.current_version(uri):
                    return [e.diagnostic for e in self.entries.get(uri, [])]
                self.pending[root] = asyncio.ensure_future(self._lint_root(root, 0.0))
            return [e.diagnostic for e in self.entries.get(uri, [])]

        def clear(self, uris: list) -> None:
            for uri in uris:
                self.entries.pop(uri, None)
                self.versions.pop(uri, None)
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    server = MllintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: MllintServer, params: types.InitializeParams):
        caps = params.capabilities
        ls.pull = bool(caps.text_document is not None and caps.text_document.diagnostic is not None)
        ws = caps.workspace
        ls.refresh = bool(ws is not None and ws.diagnostics is not None and ws.diagnostics.refresh_support)

    @server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DiagnosticOptions(
        identifier="mllint", inter_file_dependencies=True, workspace_diagnostics=False))
    async def diagnostic(ls: MllintServer, params: types.DocumentDiagnosticParams):
        items = await ls.pulled(params.text_document.uri)
        return types.RelatedFullDocumentDiagnosticReport(items=items)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MllintServer, params: types.DidOpenTextDocumentParams):
        ls.schedule(_uri_to_path(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MllintServer, params: types.DidChangeTextDocumentParams):
        ls.schedule(_uri_to_path(params.text_document.uri), DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: MllintServer, params: types.DidSaveTextDocumentParams):
        path = _uri_to_path(params.text_document.uri)
        if path is not None and os.path.basename(path) in CONFIG_FILES + (".gitignore",):
            # the configuration changed: re-lint every open project
            for root in {ls.root_of(f.path) for f in ls.open_files()}:
                ls.schedule(os.path.join(root, "x"))
        ls.schedule(path)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MllintServer, params: types.DidCloseTextDocumentParams):
        ls.clear([params.text_document.uri])
        ls.schedule(_uri_to_path(params.text_document.uri))  # the others now see the file on disk

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def nb_open(ls: MllintServer, params: types.DidOpenNotebookDocumentParams):
        ls.schedule(_uri_to_path(params.notebook_document.uri))

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def nb_change(ls: MllintServer, params: types.DidChangeNotebookDocumentParams):
        ls.schedule(_uri_to_path(params.notebook_document.uri), DEBOUNCE_SECONDS)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def nb_save(ls: MllintServer, params: types.DidSaveNotebookDocumentParams):
        ls.schedule(_uri_to_path(params.notebook_document.uri))

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def nb_close(ls: MllintServer, params: types.DidCloseNotebookDocumentParams):
        ls.clear([c.uri for c in params.cell_text_documents])
        ls.schedule(_uri_to_path(params.notebook_document.uri))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]))
    def code_action(ls: MllintServer, params: types.CodeActionParams):
        uri = params.text_document.uri
        entries = ls.entries.get(uri, [])
        if not entries:
            return None
        try:
            doc = ls.workspace.get_text_document(uri)
            current_lines, version = list(doc.lines), doc.version
        except Exception:  # pragma: no cover
            current_lines, version = None, None
        return code_actions(entries, uri, params.range, params.context.only, current_lines, version,
                            ls.encoding) or None

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: MllintServer, *args):
        ls.executor.shutdown(wait=False, cancel_futures=True)

    return server


@click.command("server")
@click.option("--stdio", is_flag=True, help="Talk LSP over stdin/stdout (the default and only transport).")
def command(stdio: bool) -> None:
    """Run the mllint language server (LSP over stdio) for editors."""
    try:
        import pygls  # noqa: F401
    except ImportError:
        from mllint.cli import MllintError

        raise MllintError("mllint server needs pygls: pip install 'mllint-arch[lsp]'")
    build_server().start_io()
