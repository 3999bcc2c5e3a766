"""`mllint server` end to end with pytest-lsp: a real LSP client talking to the server over stdio."""
from __future__ import annotations

import asyncio
import pathlib
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

BAD = "from sklearn.model_selection import train_test_split\n\nparts = train_test_split([1, 2], [3, 4])\n"
GOOD = "from sklearn.model_selection import train_test_split\n\nparts = train_test_split([1, 2], [3, 4], random_state=0)\n"
TIMEOUT = 30


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "mllint", "server"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), process_id=None))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    # one rule, so that the assertions do not depend on which other rules exist
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n\n[tool.mllint]\nselect = [\"ML0301\"]\n")
    return root


async def wait_diagnostics(client: LanguageClient, uri: str, predicate=lambda d: True) -> list:
    """Wait for diagnostics on ``uri`` that satisfy ``predicate`` (several publishes may arrive)."""
    async def loop():
        while True:
            if uri in client.diagnostics and predicate(client.diagnostics[uri]):
                return list(client.diagnostics[uri])
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(loop(), TIMEOUT)


def open_doc(client: LanguageClient, path: pathlib.Path, text: str, language: str = "python", version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)))
    return uri


def apply_edits(text: str, edits: list) -> str:
    """Apply TextEdits (UTF-16 positions) to ``text``."""
    lines = text.split("\n")

    def offset(pos):
        before = sum(len(l) + 1 for l in lines[: pos.line])
        line = lines[pos.line] if pos.line < len(lines) else ""
        units, i = 0, 0
        while i < len(line) and units < pos.character:
            units += 2 if ord(line[i]) > 0xFFFF else 1
            i += 1
        return before + i

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
        lines = text.split("\n")
    return text


def change_doc(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def actions_for(client: LanguageClient, uri: str, diag, only=None) -> list:
    res = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag], only=only)))
    return res or []


async def test_diagnostics_then_disable_for_this_line(client: LanguageClient, project):
    path = project / "train.py"
    path.write_text(BAD)
    uri = open_doc(client, path, BAD)
    [diag] = await wait_diagnostics(client, uri, lambda d: len(d) > 0)
    assert diag.source == "mllint"
    assert diag.code == "ML0301"
    assert diag.code_description.href.endswith("#ml0301")
    assert diag.severity == types.DiagnosticSeverity.Warning
    assert (diag.range.start.line, diag.range.start.character) == (2, 8)
    assert (diag.range.end.line, diag.range.end.character) == (2, len("parts = train_test_split([1, 2], [3, 4])"))
    assert "random_state" in diag.message

    actions = await actions_for(client, uri, diag)
    titles = [a.title for a in actions]
    assert "mllint (ML0301): Disable for this line" in titles, titles
    disable = next(a for a in actions if a.title == "mllint (ML0301): Disable for this line")
    assert disable.kind == types.CodeActionKind.QuickFix
    new_text = apply_edits(BAD, disable.edit.changes[uri])
    assert new_text.splitlines()[2] == "parts = train_test_split([1, 2], [3, 4])  # noqa: ML0301"
    change_doc(client, uri, new_text, 2)
    await wait_diagnostics(client, uri, lambda d: len(d) == 0)


async def test_disable_merges_into_existing_noqa(client: LanguageClient, project):
    text = BAD.replace("[3, 4])", "[3, 4])  # noqa: E501")
    path = project / "train.py"
    path.write_text(text)
    uri = open_doc(client, path, text)
    [diag] = await wait_diagnostics(client, uri, lambda d: len(d) > 0)
    disable = next(a for a in await actions_for(client, uri, diag) if a.title.endswith("Disable for this line"))
    new_text = apply_edits(text, disable.edit.changes[uri])
    assert new_text.splitlines()[2] == "parts = train_test_split([1, 2], [3, 4])  # noqa: E501, ML0301"
    change_doc(client, uri, new_text, 2)
    await wait_diagnostics(client, uri, lambda d: len(d) == 0)


async def test_open_buffer_overrides_disk_and_every_open_document_is_published(client: LanguageClient, project):
    """The scan uses the project on disk plus the unsaved buffers of every open document."""
    (project / "a.py").write_text(GOOD)
    (project / "b.py").write_text(GOOD)
    uri_a = open_doc(client, project / "a.py", GOOD)
    await wait_diagnostics(client, uri_a, lambda d: len(d) == 0)
    uri_b = open_doc(client, project / "b.py", BAD)  # unsaved edit: the disk copy is clean
    [diag] = await wait_diagnostics(client, uri_b, lambda d: len(d) == 1)
    assert diag.code == "ML0301"
    # editing a.py in the buffer: its diagnostics come from the buffer, b.py keeps its own
    change_doc(client, uri_a, BAD, 2)
    await wait_diagnostics(client, uri_a, lambda d: len(d) == 1)
    assert len(client.diagnostics[uri_b]) == 1
    # saving b.py with the fixed text clears it
    (project / "b.py").write_text(GOOD)
    change_doc(client, uri_b, GOOD, 2)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri_b)))
    await wait_diagnostics(client, uri_b, lambda d: len(d) == 0)


async def test_utf16_columns(client: LanguageClient, project):
    # two astral-plane characters before the call: 2 code points, 4 UTF-16 code units
    text = "from sklearn.model_selection import train_test_split\n\nx = ('😀😀', train_test_split([1], [2]))\n"
    path = project / "emoji.py"
    path.write_text(text)
    uri = open_doc(client, path, text)
    [diag] = await wait_diagnostics(client, uri, lambda d: len(d) > 0)
    code_point_col = text.splitlines()[2].index("train_test_split")
    assert diag.range.start.character == code_point_col + 2
    disable = next(a for a in await actions_for(client, uri, diag) if a.title.endswith("Disable for this line"))
    assert apply_edits(text, disable.edit.changes[uri]).splitlines()[2].endswith(")  # noqa: ML0301")


async def test_fix_actions_when_the_finding_has_a_fix(client: LanguageClient, project):
    """The fix of a finding is offered as a quickfix and under source.fixAll.mllint (safe fixes only).
    Only runs once a rule on this file produces fixes (mllint/fixes.py)."""
    path = project / "train.py"
    path.write_text(BAD)
    uri = open_doc(client, path, BAD)
    [diag] = await wait_diagnostics(client, uri, lambda d: len(d) > 0)
    fix = (diag.data or {}).get("fix")
    if not fix or not fix["edits"]:
        pytest.skip("ML0301 findings carry no fix edits in this build (mllint/fixes.py)")
    actions = await actions_for(client, uri, diag)
    fixes = [a for a in actions if a.title.startswith("mllint (ML0301): ") and not a.title.endswith("Disable for this line")]
    assert len(fixes) == 1 and fixes[0].is_preferred == (fix["applicability"] == "safe")
    fixed = apply_edits(BAD, fixes[0].edit.changes[uri])
    assert "random_state=" in fixed
    change_doc(client, uri, fixed, 2)
    await wait_diagnostics(client, uri, lambda d: len(d) == 0)


async def test_notebook_cells(client: LanguageClient, project):
    nb_path = project / "explore.ipynb"
    nb_path.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    nb_uri = nb_path.as_uri()
    cells = ["# Exploration", "from sklearn.model_selection import train_test_split",
             "import numpy as np\nparts = train_test_split(np.arange(4), np.arange(4))"]
    kinds = [types.NotebookCellKind.Markup, types.NotebookCellKind.Code, types.NotebookCellKind.Code]
    cell_uris = [f"vscode-notebook-cell:{nb_path}#cell{i}" for i in range(3)]
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=nb_uri, notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=k, document=u) for k, u in zip(kinds, cell_uris)]),
        cell_text_documents=[types.TextDocumentItem(uri=u, language_id="markdown" if i == 0 else "python",
                                                    version=1, text=t)
                             for i, (u, t) in enumerate(zip(cell_uris, cells))]))
    [diag] = await wait_diagnostics(client, cell_uris[2], lambda d: len(d) > 0)
    assert diag.code == "ML0301"
    assert (diag.range.start.line, diag.range.start.character) == (1, 8)
    assert list(client.diagnostics.get(cell_uris[1], [])) == []
    disable = next(a for a in await actions_for(client, cell_uris[2], diag) if a.title.endswith("Disable for this line"))
    new_cell = apply_edits(cells[2], disable.edit.changes[cell_uris[2]])
    assert new_cell.splitlines()[1].endswith("# noqa: ML0301")
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(uri=nb_uri, version=2),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
            types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cell_uris[2], version=2),
                changes=[types.TextDocumentContentChangeWholeDocument(text=new_cell)])]))))
    await wait_diagnostics(client, cell_uris[2], lambda d: len(d) == 0)


def test_position_units():
    from mllint.lsp import code_points, to_position, units

    assert units("a😀b", "utf-16") == 4 and units("a😀b", "utf-8") == 6 and units("a😀b", "utf-32") == 3
    assert units("é", "utf-8") == 2 and units("é", "utf-16") == 1
    assert code_points("a😀b", 3, "utf-16") == 2
    lines = ["x = '😀'; f()", ""]
    assert to_position(lines, 1, 10, "utf-16") == (0, 10)
    assert to_position(lines, 1, 10, "utf-8") == (0, 12)
    assert to_position(lines, 1, 10, "utf-32") == (0, 9)
    assert to_position(lines, 9, 1, "utf-16") == (1, 0)  # past the end: clamped


def test_code_actions_fix_all_unit(tmp_path):
    """source.fixAll.mllint and the fix quickfix, from a finding that carries a fix (synthetic, so
    it does not depend on which rules have fixes yet)."""
    from mllint.finding import Edit, Finding, Fix, Location
    from mllint.lsp import Entry, code_actions

    text = "a = f(1)\nb = f(2)\n"
    lines = text.split("\n")
    entries = []
    for i, safe in ((1, True), (2, False)):
        finding = Finding(code="ML0301", name="x", message="m", level="warning",
                          location=Location("t.py", i, 5, i, 9),
                          fix=Fix(title="Add `seed=0`", safe=safe, edits=[Edit(i, 8, i, 8, ", seed=0")]))
        diag = types.Diagnostic(range=types.Range(start=types.Position(line=i - 1, character=4),
                                                  end=types.Position(line=i - 1, character=8)),
                                message="m", code="ML0301", source="mllint", data={"fix": finding.fix.to_dict()})
        entries.append(Entry("file:///t.py", diag, finding, lines[i - 1], "#", lines, 1))
    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=2, character=0))
    acts = code_actions(entries, "file:///t.py", whole, None, lines, 1, "utf-16")
    titles = [a.title for a in acts]
    assert titles.count("mllint (ML0301): Add `seed=0`") == 1
    assert "mllint (ML0301): Add `seed=0` (unsafe)" in titles
    assert titles.count("mllint (ML0301): Disable for this line") == 2
    fix_all = [a for a in acts if a.kind == "source.fixAll.mllint"]
    assert len(fix_all) == 1 and fix_all[0].title == "mllint: Fix all auto-fixable problems"
    assert apply_edits(text, fix_all[0].edit.changes["file:///t.py"]) == "a = f(1, seed=0)\nb = f(2)\n"
    only = code_actions(entries, "file:///t.py", whole, [FIX_ALL := "source.fixAll"], lines, 1, "utf-16")
    assert [a.kind for a in only] == ["source.fixAll.mllint"], FIX_ALL
    # a stale document version: no fix edits are offered, the disable action still is
    acts = code_actions(entries, "file:///t.py", whole, None, lines, 5, "utf-16")
    assert {a.title for a in acts} == {"mllint (ML0301): Disable for this line"}


def test_module_import_is_light():
    import subprocess

    code = ("import sys, mllint.cli, mllint.lsp; "
            "bad = [m for m in ('pygls', 'lsprotocol') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_configuration_error_is_shown_once(client: LanguageClient, project):
    (project / "pyproject.toml").write_text("[tool.mllint]\nno-such-key = 1\n")
    path = project / "train.py"
    path.write_text(BAD)
    uri = open_doc(client, path, BAD)

    async def shown():
        while not client.messages:
            await client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)
        return client.messages

    [msg] = await asyncio.wait_for(shown(), TIMEOUT)
    assert msg.type == types.MessageType.Error and "no-such-key" in msg.message
    change_doc(client, uri, BAD + "\n", 2)
    await asyncio.sleep(1.0)
    assert len(client.messages) == 1  # not repeated on every keystroke
    # fixing the configuration and saving it brings the diagnostics back
    (project / "pyproject.toml").write_text("[tool.mllint]\nselect = [\"ML0301\"]\n")
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_diagnostics(client, uri, lambda d: len(d) == 1)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "mllint", "server"]))
async def client_utf8(lsp_client: LanguageClient):
    # Neovim 0.11 offers utf-8 first: the server negotiates it
    result = await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("neovim@v0.11.0"), process_id=None))
    lsp_client.position_encoding = result.capabilities.position_encoding
    yield
    await lsp_client.shutdown_session()


NON_ASCII_TAIL = BAD.replace("[3, 4])\n", "[3, 4])  # données 😀\n")


async def pull(client: LanguageClient, uri: str) -> list:
    report = await asyncio.wait_for(client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri))), TIMEOUT)
    assert report.kind == "full"
    return list(report.items)


async def test_negotiated_utf8_positions(client_utf8: LanguageClient, project):
    assert client_utf8.position_encoding == types.PositionEncodingKind.Utf8
    path = project / "train.py"
    path.write_text(NON_ASCII_TAIL)
    uri = open_doc(client_utf8, path, NON_ASCII_TAIL)
    [diag] = await pull(client_utf8, uri)  # Neovim 0.11 pulls diagnostics
    line = NON_ASCII_TAIL.splitlines()[2]
    disable = next(a for a in await actions_for(client_utf8, uri, diag) if a.title.endswith("Disable for this line"))
    [edit] = disable.edit.changes[uri]
    assert (edit.range.start.line, edit.range.start.character) == (2, 0)
    assert edit.range.end.character == len(line.encode("utf-8"))  # bytes, not UTF-16 units
    assert edit.new_text == "parts = train_test_split([1, 2], [3, 4])  # données 😀  # noqa: ML0301"


async def test_utf16_line_end(client: LanguageClient, project):
    path = project / "train.py"
    path.write_text(NON_ASCII_TAIL)
    uri = open_doc(client, path, NON_ASCII_TAIL)
    [diag] = await wait_diagnostics(client, uri, lambda d: len(d) > 0)
    line = NON_ASCII_TAIL.splitlines()[2]
    disable = next(a for a in await actions_for(client, uri, diag) if a.title.endswith("Disable for this line"))
    [edit] = disable.edit.changes[uri]
    assert edit.range.end.character == len(line.encode("utf-16-le")) // 2 == len(line) + 1
    new_text = apply_edits(NON_ASCII_TAIL, [edit])
    change_doc(client, uri, new_text, 2)
    await wait_diagnostics(client, uri, lambda d: len(d) == 0)


async def test_pull_diagnostics(client_utf8: LanguageClient, project):
    """A client that declares textDocument/diagnostic pulls; nothing is pushed to it."""
    (project / "a.py").write_text(GOOD)
    uri = open_doc(client_utf8, project / "a.py", BAD)  # unsaved buffer
    [diag] = await pull(client_utf8, uri)
    assert diag.code == "ML0301" and diag.source == "mllint"
    assert diag.severity == types.DiagnosticSeverity.Warning
    disable = next(a for a in await actions_for(client_utf8, uri, diag) if a.title.endswith("Disable for this line"))
    new_text = apply_edits(BAD, disable.edit.changes[uri])  # ASCII: UTF-8 and UTF-16 agree
    change_doc(client_utf8, uri, new_text, 2)
    assert await pull(client_utf8, uri) == []  # waits for / runs the lint of version 2
    change_doc(client_utf8, uri, BAD, 3)
    assert len(await pull(client_utf8, uri)) == 1
    assert uri not in client_utf8.diagnostics  # never pushed


async def test_files_mllint_does_not_read_get_no_diagnostics(client: LanguageClient, project):
    (project / "ruff.toml").write_text("line-length = 100\n")
    uri = open_doc(client, project / "ruff.toml", "line-length = 100\n", language="toml")
    assert await wait_diagnostics(client, uri) == []
    # an extension-less script the client says is Python is analysed
    (project / "run").write_text(BAD)
    uri = open_doc(client, project / "run", BAD)
    [diag] = await wait_diagnostics(client, uri, lambda d: len(d) == 1)
    assert diag.code == "ML0301"
