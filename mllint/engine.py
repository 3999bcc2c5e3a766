"""The pipeline: discover -> load + summarise each file (parallel, cacheable) -> project graph ->
config and project rules -> suppressions and selection -> sorted findings.

``scan(paths, settings)`` is a pure function from (files, settings) to a ``ScanResult``, so it can be
shipped to workers (one task per repository) by a distributed engine for fleet scans.
"""
from __future__ import annotations

import ast
import collections
import contextlib
import gc
import os
import pickle
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from mllint._hash import blake2b
from mllint.config import Settings, ignored_for_path
from mllint.discovery import DiscoveredFile, Discovery, discover, in_requested
from mllint.finding import LEVEL_RANK, Finding, Location, Notification
from mllint.rule import ConfigRule, FileRule, ProjectRule, RawFinding
from mllint.sources import (LAZY_TEXT_MIN, CodeSource, LineMap, MAX_BYTES, Unreadable, decode, decode_text, forget_lines,
                            newer_syntax, regular_small)
from mllint.suppress import Suppressions, parse_text

UNREADABLE = "ML0000"
UNREADABLE_NAME = "unreadable-file"
NEWER_SYNTAX = "newer-python-syntax"  # notification: a file in the syntax of a newer Python than mllint's
PARALLEL_MIN_FILES = 4  # fewer files to analyse never start a pool
PRESCAN_MIN_FILES = 40  # below this, every module gets every analysis (nothing to save)
# A pool starts only for more work than this, in bytes of Python source or their equivalent
# (``_work_bytes``): about a third of a second on one core.  Below it the pool saves under a tenth
# of a second, and each forked worker adds 10-15 MB to the scan's memory.
PARALLEL_MIN_BYTES = 900_000
# Bytes of each kind that take as long to analyse as one byte of Python (about 2.5 MB/s): a
# notebook is mostly outputs, which are only decoded (33 MB/s); a config file is only parsed
# (60 MB/s and more).  Every file also costs about as much as 750 bytes of Python to open, hash
# and ship.
_WORK_DIVISOR = {"python": 1, "notebook": 13}
_CONFIG_WORK_DIVISOR = 24
_FILE_WORK = 750
BATCH_MAX_FILES = 32  # files a worker task processes before shipping its results
BATCH_MAX_BYTES = 400_000  # ...or source bytes
SERIAL_PICKLE_MIN_FILES = 8  # a scan in one process of at least this many files packs its records


@dataclass
class FileResult:
    path: str
    kind: str
    summary: Any = None  # ModuleSummary for code files
    docs: list = field(default_factory=list)  # ConfigDocuments for config files
    findings: list = field(default_factory=list)  # Findings of the file phase, suppression applied
    suppressed: list = field(default_factory=list)  # suppressed Findings (for --include-suppressed)
    suppressions: Suppressions = field(default_factory=Suppressions)
    line_map: Optional[LineMap] = None
    notifications: list = field(default_factory=list)
    n_lines: int = 0
    digest: str = ""
    timings: tuple = (0.0, 0.0)  # (load, summarise) seconds
    cells: list = field(default_factory=list)
    text: Optional[str] = None  # kept only when the caller asks (fixes, LSP)


@dataclass
class ScanResult:
    root: str
    findings: list
    notifications: list
    rules: list  # enabled rule classes
    files: list  # FileResults
    project: Any
    timings: dict
    suppressed: list = field(default_factory=list)
    discovery: Optional[Discovery] = None

    @property
    def n_files(self) -> int:
        return len(self.files)

    @property
    def n_lines(self) -> int:
        return sum(f.n_lines for f in self.files)

    def exit_code(self) -> int:
        return 1 if self.findings else 0


# ------------------------------------------------------------------------------ module naming
def module_names(paths: list, inventory: list) -> dict:
    """path -> (dotted module name, is_package), from package ``__init__.py`` files."""
    pkg_dirs = set()
    for p in inventory:
        if p == "__init__.py" or p.endswith("/__init__.py"):
            pkg_dirs.add(p.rsplit("/", 1)[0] if "/" in p else "")
    out = {}
    for p in paths:
        if p.endswith(".py") or p.endswith(".pyi"):
            stem = p.rsplit(".", 1)[0]
        elif p.endswith(".ipynb"):
            stem = p[: -len(".ipynb")]
        else:
            continue
        parts = stem.split("/")
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        # climb while the containing directory is a package
        d = parts[:-1]
        name_parts = [parts[-1]] if parts else []
        while d and "/".join(d) in pkg_dirs:
            name_parts.insert(0, d[-1])
            d = d[:-1]
        name = ".".join(_ident(x) for x in name_parts) or "__root__"
        out[p] = (name, is_pkg)
    return out


def _ident(s: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in s)


# ----------------------------------------------------------------------------- worker state
@dataclass
class WorkerConfig:
    root: str
    modules: dict
    file_rules: list  # rule classes
    rule_options: dict
    keep_text: bool = False
    settings: Any = None
    serving_paths: Optional[set] = None  # modules that can hold request-path code (None: all)

    def maybe_serving(self, path: str) -> bool:
        return self.serving_paths is None or path in self.serving_paths


_WORKER: Optional[WorkerConfig] = None


def _init_worker(cfg: WorkerConfig) -> None:
    global _WORKER
    _WORKER = cfg
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    # Per-file work makes no reference cycles (trees and summaries are freed by reference
    # counting), so the cyclic collector only burns time re-scanning live AST nodes.
    gc.disable()


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector for a scan.  A scan allocates millions of AST nodes and
    summary records that all stay alive until the scan ends; with the collector on, every
    generation-0 collection re-scans survivors and the full collections walk the whole heap,
    which cost a third of the run time.  Nothing a scan builds is cyclic garbage (a test checks
    that ``gc.collect()`` finds nothing after a scan), and a long-lived caller (the language
    server) gets its collector back when the scan returns."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            # what the scan allocated moves to the permanent generation first, so turning the
            # collector back on does not walk the whole heap (about 0.7 s on a large repository);
            # those objects are still freed by reference counting when the caller drops them
            gc.freeze()
            gc.enable()


def _process_batch_in_worker(dfs: list) -> bytes:
    """A batch's results, pickled here: the main process keeps them as bytes until the pool has
    exited (see ``_run_files``)."""
    out = pickle.dumps([process_file(df, _WORKER) for df in dfs], pickle.HIGHEST_PROTOCOL)
    # give back what parsing the batch freed: a worker that parsed a multi-megabyte manifest
    # would otherwise keep that much for the rest of the scan (kserve tree: 310 -> 255 MB)
    _glibc("malloc_trim", 0)
    return out


def _unreadable(path: str, message: str, line: int = 1, col: int = 1, cell_pos: Optional[list] = None) -> tuple:
    """``cell_pos``: (cell, line in the cell, column in the cell) of a notebook cell that does not parse."""
    cell, cell_line, cell_col = cell_pos if cell_pos else (None, None, None)
    f = Finding(code=UNREADABLE, name=UNREADABLE_NAME, message=message, level="error",
                location=Location(path, line, col, line, col + 1, cell, cell_line, cell_col), checkpoint=0)
    if cell is not None:
        f.properties.update(cell=cell, cellLine=cell_line, cellColumn=cell_col)
    n = Notification(message=f"{path}: {message}", level="error", kind="execution",
                     descriptor=UNREADABLE, path=path, line=line)
    return f, n


# a folder or file named by a template placeholder (cookiecutter's ``{{ cookiecutter.repo_name }}``,
# copier's ``{{ project_name }}``, a Jinja ``{% if %}``): the files under it are rendered before use
_TEMPLATE_PATH_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


def is_template_path(path: str) -> bool:
    return _TEMPLATE_PATH_RE.search(path) is not None


def _unparsed(fr: FileResult, path: str, message: str, line: int = 1, col: int = 1,
              cell_pos: Optional[list] = None, level: str = "error", newer: str = "") -> None:
    """Record a file (or notebook cell) that could not be read or parsed: an ML0000 finding and a
    notification, or only a note for a file of a project template, whose placeholders (``{{
    cookiecutter.x }}``) are not Python or YAML until it is rendered, and for code in the syntax of
    a newer Python than the one running mllint (``newer``: that version), which is valid code."""
    if newer:
        running = ".".join(map(str, sys.version_info[:2]))
        fr.notifications.append(Notification(
            message=f"{path}: {message}; skipped: the code uses Python {newer} syntax and mllint runs on "
                    f"Python {running}; run mllint with Python {newer} or later to analyse it",
            level="warning", kind="execution", descriptor=NEWER_SYNTAX, path=path, line=line))
        return
    if is_template_path(path):
        fr.notifications.append(Notification(
            message=f"{path}: {message}; skipped: a file of a project template (a `{{{{ }}}}` placeholder in "
                    f"its path), which parses once it is rendered",
            level="note", kind="execution", descriptor=UNREADABLE, path=path, line=line))
        return
    f, n = _unreadable(path, message, line, col, cell_pos)
    n.level = level
    fr.findings.append(f)
    fr.notifications.append(n)


def read_bytes(abspath: str) -> bytes:
    try:
        st = os.stat(abspath)
    except OSError as exc:
        raise Unreadable(f"cannot read file: {exc.strerror or exc}")
    if not os.path.isfile(abspath):
        raise Unreadable("not a regular file")
    if st.st_size > MAX_BYTES:
        raise Unreadable(f"file is too large to analyse ({st.st_size // (1024 * 1024)} MB)")
    try:
        with open(abspath, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise Unreadable(f"cannot read file: {exc.strerror or exc}")


def process_file(df: DiscoveredFile, cfg: WorkerConfig, data: Optional[bytes] = None) -> FileResult:
    """Load, parse, summarise and run FileRules on one file.  Never raises."""
    fr = FileResult(path=df.path, kind=df.kind)
    t0 = time.perf_counter()
    try:
        from_disk = data is None
        if from_disk:
            data = read_bytes(df.abspath)
        fr.digest = blake2b(data, digest_size=16).hexdigest()
        if df.kind in ("python", "notebook"):
            # the bytes are handed over (a one-item list), so that they are freed once decoded
            # rather than held through the parse: a 4 MB notebook peaked at 3 times its size
            box = [data]
            del data
            _process_code(df, cfg, box, fr, t0)
        else:
            _process_config(df, data, fr, from_disk)
            fr.timings = (time.perf_counter() - t0, 0.0)
    except Unreadable as exc:
        _unparsed(fr, df.path, exc.message, exc.line, exc.col, newer=exc.newer)
    except (RecursionError, MemoryError) as exc:  # e.g. JSON/TOML nested beyond the parsers' limits
        what = "nested too deeply" if isinstance(exc, RecursionError) else "too large"
        _unparsed(fr, df.path, f"cannot parse: the file is {what} to analyse")
    except Exception as exc:  # an internal error on one file never stops the scan
        n = Notification(message=f"{df.path}: internal error while reading: {type(exc).__name__}: {exc}",
                         level="error", descriptor="internal-error", path=df.path)
        fr.notifications.append(n)
    finally:
        forget_lines()
    return fr


def _process_code(df: DiscoveredFile, cfg: WorkerConfig, box: list, fr: FileResult, t0: float) -> None:
    """``box`` holds the file's bytes, taken from it: nothing else keeps them."""
    from mllint.summary import summarise

    data = box.pop()
    if df.kind == "notebook":
        from mllint.sources.notebook import load_notebook

        n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        text = decode_text(data) if cfg.keep_text else None
        box.append(data)
        del data
        src = load_notebook(df.path, box, keep_raw=False)  # frees the bytes once decoded
        fr.n_lines = n_lines
        if text is not None:
            fr.text = text
    else:
        text = decode(data)
        del data
        src = CodeSource(path=df.path, kind="python", text=text, raw_text=text)
        if text.startswith("# Databricks notebook source"):
            from mllint.sources.notebook import databricks_source

            # analysed as a notebook (an entrypoint, not importable), in the file's own lines
            src.text, src.magics = databricks_source(text)
            src.kind = "notebook"
        fr.n_lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if cfg.keep_text:
            fr.text = text
    fr.cells = list(src.cells)
    if df.kind == "notebook":
        fr.line_map = src.line_map
    for err in src.errors:
        line, col, *cell = src.line_map.map(err.line, err.col)  # a notebook's: its cell and raw JSON line
        _unparsed(fr, df.path, err.message, line, col, cell, level="warning", newer=err.newer)
    tree, src.tree = src.tree, None  # a notebook's loader parsed it already
    try:
        if tree is None:
            tree = ast.parse(src.text, filename=df.path)
    except SyntaxError as exc:
        hint = ""
        if exc.msg and ("print" in exc.msg or "Missing parentheses" in exc.msg or "invalid syntax" in exc.msg
                        or "multiple exception types" in exc.msg or "leading zeros" in exc.msg):
            line_text = src.line_text(exc.lineno or 1)
            if line_text.lstrip().startswith(("print ", "exec ")) or re.search(r"except\s+[\w.]+\s*,\s*\w+\s*:", line_text) \
                    or "leading zeros" in exc.msg or "<>" in line_text:
                hint = " (Python 2 code?)"
        newer = newer_syntax(src.line_text(exc.lineno or 1), exc.msg or "")
        line, col = exc.lineno or 1, exc.offset or 1
        if fr.line_map is not None:
            line, col, *_ = fr.line_map.map(line, col)
        raise Unreadable(f"syntax error: {exc.msg}{hint}", line, col, newer=newer)
    except (ValueError, MemoryError, RecursionError) as exc:
        raise Unreadable(f"cannot parse: {type(exc).__name__}: {exc}")
    t1 = time.perf_counter()
    module, is_pkg = cfg.modules.get(df.path, (df.path.rsplit("/", 1)[-1].split(".")[0], False))
    rules = []
    for cls in cfg.file_rules:
        try:
            rules.append(cls(cfg.rule_options.get(cls.meta.code)))
        except Exception as exc:  # pragma: no cover
            fr.notifications.append(_rule_error(cls, df.path, exc))
    sink: list = []
    try:
        summary, errors = summarise(tree, df.path, module, src.kind, src, rules, sink, is_package=is_pkg,
                                    settings=cfg.settings, maybe_serving=cfg.maybe_serving(df.path))
    except RecursionError:
        raise Unreadable("cannot analyse: the code is nested too deeply")
    fr.summary = summary
    for rule, exc in errors:
        fr.notifications.append(_rule_error(type(rule), df.path, exc))
    fr.suppressions = parse_text(src.text, extra=src.magics, code=True)
    by_code = {cls.meta.code: cls for cls in cfg.file_rules}
    for raw in sink:
        finalize(raw, by_code[raw.code], fr)
    fr.timings = (t1 - t0, time.perf_counter() - t1)


def _process_config(df: DiscoveredFile, data: bytes, fr: FileResult, from_disk: bool = False) -> None:
    from mllint.sources import config as cfgsrc

    kind = df.kind
    if kind in ("requirements",):
        docs = cfgsrc.load_requirements(df.path, data)
    elif kind == "pyproject":
        docs = cfgsrc.load_toml(df.path, data, "pyproject")
    elif kind == "dockerfile":
        docs = cfgsrc.load_dockerfile(df.path, data)
    elif kind == "shell":
        docs = cfgsrc.load_shell(df.path, data)
    elif kind == "markdown":
        docs = cfgsrc.load_markdown(df.path, data)
    elif kind == "mlproject":
        _refuse_alias_bomb(data)
        docs = cfgsrc.load_yaml(df.path, data, "mlproject")
    else:  # YAML kinds
        _refuse_alias_bomb(data)
        docs = cfgsrc.load_yaml(df.path, data, kind)
    fr.docs = docs
    if docs:
        fr.n_lines = len(docs[0].lines)
        fr.suppressions = parse_text(docs[0].text)
        if kind == "markdown":
            for doc in docs:  # kept as its headings: see ConfigDocument.__getstate__
                doc.text = None
        elif from_disk and len(data) >= LAZY_TEXT_MIN:
            for doc in docs:  # read again when a rule asks: see ConfigDocument.__getattr__
                doc.reread = (df.abspath, fr.digest)
                # dropped here, not only when pickled: a scan in one process held kserve's
                # generated manifests and install scripts whole (100 MB)
                doc.__dict__.pop("text", None)
    else:
        fr.n_lines = data.count(b"\n")


def _bind_reread(fr: FileResult, abspath: str) -> None:
    """Point the documents that travelled without their text at this file: a cache entry may have
    been written by a scan of a copy of the repository elsewhere (the key is the file's
    repository path and content)."""
    for doc in fr.docs:
        reread = doc.__dict__.get("reread")
        if reread is not None and reread[0] != abspath:
            doc.reread = (abspath, reread[1])


_YAML_ANCHOR_RE = re.compile(r"&([A-Za-z0-9_.-]+)")
_YAML_ALIAS_RE = re.compile(r"(?<![\w&*])\*([A-Za-z0-9_.-]+)")
MAX_YAML_EXPANSION = 200_000


def _refuse_alias_bomb(data: bytes) -> None:
    """A YAML file whose aliases expand exponentially ("billion laughs") would hang the loader:
    estimate each anchor's expanded size from the text (anchors open a block that lasts while
    lines are indented deeper) and refuse the file past a bound."""
    if b"&" not in data or b"*" not in data:
        return
    text = data.decode("utf-8", errors="replace")
    anchors = set(_YAML_ANCHOR_RE.findall(text))
    if not anchors or not any(a in anchors for a in _YAML_ALIAS_RE.findall(text)):
        return  # no alias refers to an anchor: nothing expands
    sizes: dict = {}
    open_: list = []  # [indent, name, size]
    for line in text.splitlines():
        body = line.lstrip()
        if not body or body.startswith("#"):
            continue
        indent = len(line) - len(body)
        while open_ and indent <= open_[-1][0]:
            _, name, size = open_.pop()
            sizes[name] = size
        n = sum(sizes.get(a, 1) for a in _YAML_ALIAS_RE.findall(body))
        for entry in open_:
            entry[2] += n
        for name in _YAML_ANCHOR_RE.findall(body):
            open_.append([indent, name, 1 + n])
        if n > MAX_YAML_EXPANSION or any(e[2] > MAX_YAML_EXPANSION for e in open_):
            raise Unreadable("YAML aliases expand too far to analyse (a 'billion laughs' file?)")


def _rule_error(cls, path: str, exc: Exception) -> Notification:
    where = ""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        where = f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"
    return Notification(
        message=f"rule {cls.meta.code} ({getattr(cls, 'name', cls.__name__)}) failed on {path}: "
                f"{type(exc).__name__}: {exc}{where}; other rules still ran",
        level="error", descriptor="internal-error", path=path)


def finalize(raw: RawFinding, rule_cls, fr: FileResult) -> Optional[Finding]:
    """Map a RawFinding to the file's coordinates, apply in-source suppressions, keep it in ``fr``."""
    lm = fr.line_map or LineMap()
    line, col, cell, cell_line, cell_col = lm.map(raw.line, raw.col)
    end_line, end_col, _, _, _ = lm.map(raw.end_line, raw.end_col)
    if cell is not None and (end_line < line or (end_line == line and end_col <= col)):
        end_line, end_col = line, col + max(raw.end_col - raw.col, 1) if raw.end_line == raw.line else col + 1
    loc = Location(raw.path, line, col, end_line, end_col, cell, cell_line, cell_col)
    related = []
    for r in raw.related:
        rl = r
        if r.path == raw.path and fr.line_map is not None and r.cell is None:
            l2, c2, cell2, cl2, cc2 = lm.map(r.line, r.col)
            rl = Location(r.path, l2, c2, l2, c2 + 1, cell2, cl2, cc2, r.message)
        related.append(rl)
    level = raw.level or rule_cls.meta.level
    f = Finding(code=raw.code, name=rule_cls.name, message=raw.message, level=level, location=loc,
                checkpoint=rule_cls.meta.checkpoint, related=related, fix=raw.fix, properties=dict(raw.properties))
    if cell is not None:
        f.properties.update(cell=cell, cellLine=cell_line, cellColumn=cell_col)
    if fr.suppressions.suppressed(raw.code, rule_cls.name, raw.line, raw.end_line):
        f.suppressed = fr.suppressions.justification(raw.code, rule_cls.name, raw.line)
        fr.suppressed.append(f)
        return None
    fr.findings.append(f)
    return f


# ------------------------------------------------------------------------------------ scan
def choose_jobs(settings: Settings, files: list) -> int:
    if settings.jobs == 1 or len(files) < PARALLEL_MIN_FILES:
        return 1
    if _work_bytes(files) < PARALLEL_MIN_BYTES:
        return 1
    return settings.jobs or (os.cpu_count() or 1)


def _work_bytes(files: list) -> int:
    """The files' analysis work as bytes of Python source; stops counting at the threshold."""
    total = 0
    for f in files:
        total += _size(f.abspath) // _WORK_DIVISOR.get(f.kind, _CONFIG_WORK_DIVISOR) + _FILE_WORK
        if total >= PARALLEL_MIN_BYTES:
            break
    return total


def scan(paths: list, settings: Settings, *, keep_text: bool = False, overlays: Optional[dict] = None,
         use_cache: bool = False, result_cache: bool = False) -> ScanResult:
    """Run the whole pipeline.  ``overlays`` maps repository-relative paths to in-memory text
    (editor buffers) that replace the file on disk.  ``result_cache`` (``mllint check``) also reuses
    the final findings when no file, no other path and no setting changed; the result then has no
    ``project`` and only light ``files`` (callers that need the graph do not ask for it)."""
    with gc_paused():
        return _scan(paths, settings, keep_text=keep_text, overlays=overlays, use_cache=use_cache,
                     result_cache=result_cache)


def _scan(paths: list, settings: Settings, *, keep_text: bool, overlays: Optional[dict], use_cache: bool,
          result_cache: bool) -> ScanResult:
    from mllint import registry

    timings: dict = {}
    t = time.perf_counter()
    forget_lines()  # texts a caller read again since the last scan
    root = settings.root
    disc = discover(paths, root, excludes=settings.excludes(), respect_gitignore=settings.respect_gitignore,
                    force_exclude=settings.force_exclude)
    if overlays:
        # editor buffers the client declared analysable (e.g. an extension-less Python script)
        known = {f.path for f in disc.files}
        for rel in overlays:
            if rel not in known and disc.requested is not None and rel in disc.requested:
                from mllint.discovery import classify

                disc.files.append(DiscoveredFile(rel, os.path.join(root, rel), classify(rel) or "python", True))
    timings["discover"] = time.perf_counter() - t

    profile = settings.profile or "production"
    selected = registry.select_rules(settings.select, settings.ignore, settings.extend_select,
                                     "strict" if profile == "strict" else "production")
    file_rules = [r for r in selected if issubclass(r, FileRule)]
    modules = module_names([f.path for f in disc.files], disc.inventory)
    cfg = WorkerConfig(root=root, modules=modules, file_rules=file_rules, rule_options=settings.rule_options,
                       keep_text=keep_text, settings=None)
    code_files = [f for f in disc.files if f.kind in ("python", "notebook")]
    whole = use_cache and result_cache and not overlays and not keep_text
    stat_key = None
    if whole:
        # Nothing changed since the last run (no path, size, modification time or setting): reuse
        # its findings without reading any file, as ruff's cache does.  The content-hash key below
        # still catches a run where files were only touched.
        from mllint.cache import Cache

        t = time.perf_counter()
        cache = Cache.open(settings, cfg)
        stat_key = _stat_scan_key(cache, disc, settings)
        payload = cache.load_result(stat_key) if stat_key else None
        if payload is not None:
            timings["files_wall"] = time.perf_counter() - t
            return _result_from_payload(payload, root, disc, timings)
    t = time.perf_counter()
    if len(code_files) >= PRESCAN_MIN_FILES:
        from mllint.prescan import serving_candidates

        cfg.serving_paths = serving_candidates(code_files, modules, lambda df: _read_text(df, overlays))
        # the pre-scan read every code file whole (a notebook with its outputs): give back what the
        # largest texts left in the heap before files are analysed (and workers forked)
        _glibc("malloc_trim", 0)
    timings["prescan"] = time.perf_counter() - t

    t = time.perf_counter()
    scan_key = None
    if whole:
        scan_key = _scan_key(cache, disc, settings, cfg)
        payload = cache.load_result(scan_key) if scan_key else None
        if payload is not None:
            if stat_key:
                cache.save_result(stat_key, payload)
            timings["files_wall"] = time.perf_counter() - t
            return _result_from_payload(payload, root, disc, timings)
    results = _run_files(disc.files, cfg, settings, overlays or {}, use_cache,
                         cache=cache if scan_key else None)
    timings["load"] = sum(r.timings[0] for r in results)
    timings["summarise"] = sum(r.timings[1] for r in results)
    timings["files_wall"] = time.perf_counter() - t

    notifications: list = [Notification(message=m, level="error", descriptor="internal-error")
                           for m in registry.load_errors()]
    for r in results:
        notifications.extend(r.notifications)

    t = time.perf_counter()
    from mllint.graph import Project

    project = Project.build(root, results, disc, settings)
    project.overlays = overlays or {}
    timings["graph"] = time.perf_counter() - t

    # profile: automatic = production when serving or deploy code exists, else poc; a collection of
    # examples (its serving code and manifests are demos) is poc
    eff_profile = settings.profile or (
        "production" if (project.has_serving or project.has_deploy) and not project.is_example_collection else "poc")
    project.profile = eff_profile
    project_selected = registry.select_rules(settings.select, settings.ignore, settings.extend_select, eff_profile)
    by_path = {r.path: r for r in results}

    t = time.perf_counter()
    for cls in project_selected:
        if not (issubclass(cls, ConfigRule) or issubclass(cls, ProjectRule)):
            continue
        try:
            rule = cls(settings.rule_options.get(cls.meta.code))
        except Exception as exc:  # pragma: no cover
            notifications.append(_rule_error(cls, "<project>", exc))
            continue
        if issubclass(cls, ConfigRule):
            for doc in project.configs:
                if cls.meta.config_kinds and doc.kind not in cls.meta.config_kinds:
                    continue
                try:
                    for raw in rule.check_config(doc, project) or ():
                        _finalize_project(raw, cls, by_path, notifications)
                except Exception as exc:
                    notifications.append(_rule_error(cls, doc.path, exc))
        if issubclass(cls, ProjectRule):
            try:
                for raw in rule.check_project(project) or ():
                    _finalize_project(raw, cls, by_path, notifications)
            except Exception as exc:
                notifications.append(_rule_error(cls, "<project>", exc))
    timings["project_rules"] = time.perf_counter() - t
    forget_lines()

    # filter: selection (file-phase rules ran under the wide profile), per-file ignores, requested
    enabled = {c.meta.code for c in project_selected} | {UNREADABLE}
    findings, suppressed = [], []
    pfi_cache: dict = {}
    for r in results:
        if not in_requested(r.path, disc.requested):
            continue
        if settings.per_file_ignores:
            if r.path not in pfi_cache:
                pfi_cache[r.path] = ignored_for_path(settings, r.path)
            ignored = pfi_cache[r.path]
        else:
            ignored = ()
        for f in r.findings:
            if f.code in enabled and f.code not in ignored:
                findings.append(f)
        suppressed.extend(f for f in r.suppressed if f.code in enabled)
    findings = _dedupe(sorted(findings, key=Finding.sort_key))
    from mllint.fixes import mark_fixable  # cheap: an edit-less Fix for `[*]`; edits are computed lazily

    mark_fixable(findings, root)
    rules_enabled = [c for c in project_selected]
    result = ScanResult(root=root, findings=findings, notifications=notifications, rules=rules_enabled,
                        files=results, project=project, timings=timings, suppressed=suppressed, discovery=disc)
    if scan_key:
        payload = {
            "findings": findings, "suppressed": suppressed, "notifications": notifications,
            "rules": [c.meta.code for c in rules_enabled],
            "files": [(r.path, r.kind, r.n_lines) for r in results]}
        cache.save_result(scan_key, payload)
        if stat_key:
            cache.save_result(stat_key, payload)
    return result


def _scan_key(cache, disc, settings, cfg) -> Optional[str]:
    """Everything the findings depend on: every analysed file's entry key, every other path (and its
    size and mtime: presence of lock files, runbooks, .dvc pointers; .gitattributes content), the
    settings and the request."""
    h = blake2b(digest_size=16)
    h.update(cache.salt.encode())
    analysed = set()
    for df in sorted(disc.files, key=lambda f: f.path):
        if not regular_small(df.abspath):
            return None  # FIFOs, huge files: no whole-scan cache
        key = cache.key_for(df)
        if key is None:
            return None
        analysed.add(df.path)
        h.update(f"{df.path}={key};".encode())
    _hash_rest(h, disc, analysed, settings,
               serving=sorted(cfg.serving_paths) if cfg.serving_paths is not None else None)
    return h.hexdigest()


def _stat_scan_key(cache, disc, settings) -> Optional[str]:
    """Like ``_scan_key`` with every file's size and modification time in place of its content
    hash (and so without the pre-scan, which only depends on contents): a key computed with one
    ``stat`` per path."""
    h = blake2b(digest_size=16)
    h.update(b"stat|" + cache.salt.encode())
    mods = cache.modules if hasattr(cache, "modules") else {}
    analysed = set()
    for df in sorted(disc.files, key=lambda f: f.path):
        try:
            st = os.stat(df.abspath)
        except OSError:
            return None
        if not os.path.isfile(df.abspath) or st.st_size > MAX_BYTES:
            return None  # FIFOs, huge files: no whole-scan cache
        analysed.add(df.path)
        h.update(f"{df.path}|{df.kind}|{mods.get(df.path)}|{st.st_size}|{st.st_mtime_ns};".encode())
    _hash_rest(h, disc, analysed, settings)
    return h.hexdigest()


def _hash_rest(h, disc, analysed: set, settings, **extra) -> None:
    """The part both scan keys share: every other path (size and mtime: lock files, runbooks,
    .dvc pointers appearing), the settings and the request."""
    import json as _json

    for rel in sorted(disc.inventory):
        if rel in analysed:
            continue
        try:
            st = os.stat(os.path.join(disc.root, rel))
        except OSError:
            continue
        h.update(f"{rel}:{st.st_size}:{st.st_mtime_ns};".encode())
    h.update(_json.dumps({
        "select": settings.select, "ignore": settings.ignore, "extend_select": settings.extend_select,
        "pfi": settings.per_file_ignores, "profile": settings.profile, "options": settings.rule_options,
        "requested": sorted(disc.requested) if disc.requested is not None else None, "tops": disc.tops, **extra,
    }, sort_keys=True, default=str).encode())


def _result_from_payload(payload: dict, root: str, disc, timings: dict) -> ScanResult:
    from mllint import registry

    by_code = registry.by_code()
    rules = [by_code[c] for c in payload["rules"] if c in by_code]
    files = [FileResult(path=p, kind=k, n_lines=n) for p, k, n in payload["files"]]
    return ScanResult(root=root, findings=payload["findings"], notifications=payload["notifications"], rules=rules,
                      files=files, project=None, timings=timings, suppressed=payload["suppressed"], discovery=disc)


def _dedupe(findings: list) -> list:
    out, seen = [], set()
    for f in findings:
        key = (f.code, f.location.path, f.location.line, f.location.col, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _finalize_project(raw: RawFinding, cls, by_path: dict, notifications: list) -> None:
    fr = by_path.get(raw.path)
    if fr is None:
        # e.g. an anchor on a file mllint does not analyse: keep it with identity mapping
        fr = FileResult(path=raw.path, kind="other")
        by_path[raw.path] = fr
    finalize(raw, cls, fr)


def _run_files(files: list, cfg: WorkerConfig, settings: Settings, overlays: dict, use_cache: bool,
               cache=None) -> list:
    if use_cache and cache is None:
        from mllint.cache import Cache

        cache = Cache.open(settings, cfg)
    results: list = [None] * len(files)
    todo = []
    for i, df in enumerate(files):
        if df.path in overlays:
            data = overlays[df.path].encode("utf-8")
            results[i] = process_file(df, cfg, data)
            continue
        if cache is not None and regular_small(df.abspath):  # a FIFO or a huge file is never opened
            hit = cache.get(df)
            if hit is not None:
                hit.timings = (0.0, 0.0)  # nothing was loaded or summarised this run
                _bind_reread(hit, df.abspath)
                results[i] = hit
                continue
        todo.append(i)
    jobs = choose_jobs(settings, [files[i] for i in todo])
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # deeply nested code parses and walks
    if jobs > 1 and len(todo) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        try:
            ctx = multiprocessing.get_context("fork")
        except ValueError:  # pragma: no cover - platforms without fork
            ctx = multiprocessing.get_context()
        # big files first, so that the pool finishes evenly
        order = sorted(todo, key=lambda i: -_size(files[i].abspath))
        # batches bounded in files and in source bytes: a worker holds a whole batch's results until
        # it ships them, and the first batches hold the largest files
        batches: list = []
        cur: list = []
        cur_bytes = 0
        for i in order:
            cur.append(i)
            cur_bytes += _size(files[i].abspath)
            if len(cur) >= BATCH_MAX_FILES or cur_bytes >= BATCH_MAX_BYTES:
                batches.append(cur)
                cur, cur_bytes = [], 0
        if cur:
            batches.append(cur)
        # The main process analyses files too, so a pool of jobs - 1 workers keeps jobs cores busy
        # with one forked process fewer (10-15 MB).  The workers take batches from the large end,
        # the main process from the small end.  Each worker has at most two batches queued, and
        # the main process hands out the next after each of its files, so the split follows how
        # fast each side goes.
        workers = jobs - 1
        pending = collections.deque(range(len(batches)))
        blobs: list = [None] * len(batches)
        inflight: dict = {}  # future -> batch index
        switch = sys.getswitchinterval()
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(cfg,)) as ex:
            def feed() -> None:
                for fut in [f for f in inflight if f.done()]:
                    blobs[inflight.pop(fut)] = fut.result()
                while pending and len(inflight) < 2 * workers:
                    k = pending.popleft()
                    inflight[ex.submit(_process_batch_in_worker, [files[i] for i in batches[k]])] = k

            feed()
            # the workers are forked by now (at the first task): the fixed threshold is the main
            # process's only, a worker keeps glibc's adaptive one for its read and parse buffers
            _glibc("mallopt", _M_MMAP_THRESHOLD, 128 * 1024)
            # the pool's threads in this process pass batches on; while the main thread analyses
            # they wait for the GIL, a switch interval each (5 ms: kserve's worker idled)
            sys.setswitchinterval(0.0005)
            try:
                while pending:
                    k = pending.pop()
                    mine = []
                    for i in batches[k]:
                        mine.append(process_file(files[i], cfg))
                        feed()
                    # pickled as a worker's batch is, and loaded with theirs: live records among
                    # the freed syntax trees of the files still to come cost diffusers 20 MB
                    blobs[k] = pickle.dumps(mine, pickle.HIGHEST_PROTOCOL)
                    del mine
            finally:
                sys.setswitchinterval(switch)
            for fut, k in inflight.items():
                blobs[k] = fut.result()
        # Unpickled only now: while the workers run, the main process holds a third of the memory
        # the records take as objects, so the scan's peak is the project phase, not main + workers
        # (diffusers: 252 -> 130 MB at the end of the files phase; no change in wall time, the
        # main process competed with the workers for the two cores while unpickling anyway).
        for k, batch in enumerate(batches):
            blob, blobs[k] = blobs[k], None  # each batch's bytes freed once loaded
            for i, fr in zip(batch, pickle.loads(blob)):
                results[i] = fr
    elif len(todo) >= SERIAL_PICKLE_MIN_FILES:
        # One process: each batch's records go through pickle, as the pool's do. Loading shares
        # what the records repeat (interned names, shell words; see the ``__reduce__`` of the
        # records): kserve in one process ended its files phase at 108 MB live, 86 MB so.
        for k in range(0, len(todo), BATCH_MAX_FILES):
            batch = todo[k:k + BATCH_MAX_FILES]
            blob = pickle.dumps([process_file(files[i], cfg) for i in batch], pickle.HIGHEST_PROTOCOL)
            for i, fr in zip(batch, pickle.loads(blob)):
                results[i] = fr
    else:
        for i in todo:
            results[i] = process_file(files[i], cfg)
    if todo:
        _forget_file_memos()
        _glibc("malloc_trim", 0)
    if cache is not None:
        for i in todo:
            cache.put(files[i], results[i])
        cache.close()
    return results


_M_MMAP_THRESHOLD = -3


def _forget_file_memos() -> None:
    """Drop what analysing files memoised in this process and the project phase does not need
    (the token ids of clone fingerprints, canonical names): 2 MB on diffusers."""
    from mllint import knowledge, summary

    summary._TOKEN_IDS.clear()
    knowledge.canonical.cache_clear()


def _glibc(name: str, *args) -> None:
    """Call a glibc malloc tuning function, where there is one (nothing elsewhere).

    A large scan's results reach the main process as pickled batches, received by the pool's
    thread.  glibc raises its mmap threshold to the size of each freed block, so after the first
    batches the rest land in that thread's heap arena, which is not given back once they are
    loaded (diffusers: 40 MB kept for 3 KB in use).  ``mallopt(M_MMAP_THRESHOLD)`` fixes the
    threshold at its default, so each batch is mapped and unmapped on its own; ``malloc_trim``
    returns the free pages the loading left behind."""
    libc = _libc()
    if libc is not None:
        try:
            getattr(libc, name)(*args)
        except AttributeError:
            return


_LIBC: list = []


def _libc():
    """The C library, loaded once (each ``ctypes.CDLL`` makes a class: cyclic garbage), or None
    where it is not glibc."""
    if not _LIBC:
        lib = None
        try:
            if os.confstr("CS_GNU_LIBC_VERSION"):
                import ctypes

                lib = ctypes.CDLL(None)
        except (ValueError, OSError, AttributeError):
            lib = None
        _LIBC.append(lib)
    return _LIBC[0]


def _read_text(df, overlays) -> Optional[str]:
    if overlays and df.path in overlays:
        return overlays[df.path]
    try:
        with open(df.abspath, "rb") as fh:
            data = fh.read(MAX_BYTES)
        return data.decode("utf-8", "replace")
    except OSError:
        return None


def _size(p: str) -> int:
    try:
        return os.path.getsize(p)
    except OSError:
        return 0


def level_rank(level: str) -> int:
    return LEVEL_RANK.get(level, 0)
