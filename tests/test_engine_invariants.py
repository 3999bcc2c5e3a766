"""Invariants the engine's speed relies on: a scan leaves no cyclic garbage (so the collector can
stay paused), and serving data flow read again at project time is only used for unchanged
files."""
import gc
import shutil
from pathlib import Path

from mllint import engine
from mllint.config import load_settings
from mllint.discovery import find_root

REPO = Path(__file__).resolve().parents[1] / "fixtures" / "repos" / "churn-platform"


def _settings(path):
    root = find_root(str(path))
    st = load_settings([str(path)], root)
    st.jobs = 1
    return st


def test_scan_leaves_no_cyclic_garbage():
    st = _settings(REPO)
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        engine._scan([str(REPO)], st, keep_text=False, overlays=None, use_cache=False, result_cache=False)  # warm imports
        gc.collect()
        result = engine._scan([str(REPO)], st, keep_text=False, overlays=None, use_cache=False, result_cache=False)
        assert result.findings
        del result
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


def test_scan_restores_the_collector():
    st = _settings(REPO)
    assert gc.isenabled()
    engine.scan([str(REPO)], st)
    assert gc.isenabled()
    gc.disable()
    try:
        engine.scan([str(REPO)], st)
        assert not gc.isenabled()
    finally:
        gc.enable()


SERVICE = '''\
import joblib
from fastapi import FastAPI, Request

app = FastAPI()
model = joblib.load("model.joblib")


@app.post("/predict")
async def predict(request: Request):
    body = await request.json()
    return {"y": model.predict([body["x"]]).tolist()}
'''


def test_request_path_flow_is_read_again_at_project_time(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='svc'\n")
    (tmp_path / "app.py").write_text(SERVICE)
    st = _settings(tmp_path)
    codes = [f.code for f in engine.scan([str(tmp_path)], st).findings]
    # ML0701: raw request JSON reaches the model (needs the handler's data flow);
    # ML0902: synchronous inference in an async handler (needs the offloaded-call positions)
    assert "ML0701" in codes and "ML0902" in codes


def test_changed_file_between_phases_keeps_flow_rules_silent(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='svc'\n")
    app = tmp_path / "app.py"
    app.write_text(SERVICE)
    st = _settings(tmp_path)
    from mllint import graph

    build = graph.Project.build

    def build_then_edit(*a, **k):
        project = build(*a, **k)
        app.write_text(SERVICE.replace("body = await", "\\n\\nbody = await"))  # lines move
        return project

    monkeypatch.setattr(graph.Project, "build", build_then_edit)
    codes = [f.code for f in engine.scan([str(tmp_path)], st).findings]
    assert "ML0701" not in codes and "ML0902" not in codes


def test_fast_shell_word_split_equals_shlex():
    import random
    import shlex

    from mllint.sources.config import _split_words

    rng = random.Random(7)
    alphabet = "ab '\"$`\t#\\;=/.(){}:-"
    for _ in range(40000):
        piece = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        try:
            expected = shlex.split(piece, comments=True)
        except ValueError:
            expected = piece.split()
        assert _split_words(piece) == expected, piece


def test_alias_bomb_precheck_still_refuses_bombs():
    import pytest

    from mllint.engine import _refuse_alias_bomb
    from mllint.sources import Unreadable

    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        levels.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(Unreadable):
        _refuse_alias_bomb("\n".join(levels).encode())
    _refuse_alias_bomb(b"run: make && echo *.py\nglob: '*'\n")  # '&' and '*' but no anchors: fine


def test_shell_split_of_long_unbalanced_words_terminates():
    # a regular expression with nested quantifiers would backtrack exponentially here
    from mllint.sources.config import _split_words

    assert _split_words("a" * 5000 + "'") == ["a" * 5000 + "'"]
    assert _split_words("ab " * 3000 + '"x') == ["ab"] * 3000 + ['"x']


LOCK = '''\
version = 1
requires-python = ">=3.9"

[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "six", version = "0" },
]

[[package]]
name = "numpy"
version = "2.0.0"  # a second resolution for other markers
source = { registry = "https://pypi.org/simple" }

[package.metadata]
requires-dist = [{ name = "x" }]

[[package]]
description = "poetry style"
name = "scikit-learn"
optional = false
version = "1.5.0"

[metadata]
content-hash = "abc"
'''


def test_lock_line_scan_equals_toml_parse():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib

    from mllint.fixes import lock_packages

    expected = [(p["name"], str(p["version"])) for p in tomllib.loads(LOCK)["package"]]
    assert lock_packages(LOCK) == expected == [("numpy", "1.26.4"), ("numpy", "2.0.0"), ("scikit-learn", "1.5.0")]


NESTED = '''\
def a():
    def b():
        pass
    class C:
        def m(self):
            pass
class D:
    class E:
        async def f(self):
            pass
    def g(self):
        try:
            def h():
                pass
        except Exception:
            def i():
                pass
if __name__ == "__main__":
    def main():
        pass
with open("x") as fh:
    def w():
        pass
match fh:
    case 1:
        def mm():
            pass
'''


def test_function_nodes_are_named_like_the_summary(tmp_path):
    import ast

    from mllint.rules._serving_common import function_nodes

    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "m.py").write_text(NESTED)
    result = engine.scan([str(tmp_path)], _settings(tmp_path))
    summary = next(f.summary for f in result.files if f.path == "m.py")
    assert set(function_nodes(ast.parse(NESTED))) == set(summary.functions)


def test_prescan_import_lines_equal_the_multiline_regex():
    from mllint import prescan

    root = Path(__file__).resolve().parents[1]
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(root.glob("fixtures/**/*.py"))]
    texts.append("import a\r\nfrom .b import (c,\n d)\n  import e as f  # x\ns = 'import g'\nfrom h import i; import j")
    assert len(texts) > 50
    for text in texts:
        assert [m.groups() for m in prescan._import_matches(text)] == [m.groups() for m in prescan._IMPORT.finditer(text)]


def test_language_server_unfreezes_now_and_then():
    from mllint import lsp

    engine.scan([str(REPO)], _settings(REPO))  # freezes what it allocated
    assert gc.get_freeze_count() > 0
    lsp._SCANS_SINCE_COLLECT = 0
    for _ in range(lsp.COLLECT_EVERY):
        lsp._collect_now_and_then()
    assert gc.get_freeze_count() == 0


def test_records_unpickled_from_separate_batches_share_names_and_keep_their_values():
    """Each worker batch is its own pickle; loading interns names and shares equal tuples across
    batches, keyword arguments stay a read-only mapping, and the graph's call target is not
    shipped."""
    import pickle

    from mllint.summary import NO_KWARGS, CallInfo, NameMap, shared_val

    def call(q):
        c = CallInfo(qualname=q, attr=None, receiver="self.model", receiver_type=None, line=300, col=1,
                     end_line=300, end_col=9, scope="Trainer.fit", args=(shared_val("name", "x"),),
                     kwargs=NameMap.of({"dim": shared_val("const", 1), "out": shared_val("name", "y")}),
                     contexts=("torch.no_grad",), guards=("rank", "0"))
        c.target = "train.py::Trainer.step"
        return c

    name = "".join(["torch.nn.functional.", "interpolate"])  # a fresh string, not a constant
    a = pickle.loads(pickle.dumps([call(name)]))[0]
    b = pickle.loads(pickle.dumps([call(name)]))[0]
    assert a.qualname == name and a.qualname is b.qualname and a.scope is b.scope
    assert a.guards is b.guards and a.contexts is b.contexts and a.end_line is a.line
    assert a.target is None  # set again by every project build, never shipped
    assert a.kwargs.keys() is b.kwargs.keys()
    assert a.kwargs == {"dim": shared_val("const", 1), "out": shared_val("name", "y")}
    assert a.kw("dim").value == 1 and a.arg(5, "out").value == "y" and a.kwargs.get("nope") is None
    assert "out" in a.kwargs and "nope" not in a.kwargs and list(a.kwargs) == ["dim", "out"]
    assert dict(a.kwargs.items()) == {"dim": a.kwargs["dim"], "out": a.kwargs["out"]}
    assert pickle.loads(pickle.dumps(NO_KWARGS)) is NO_KWARGS and not NO_KWARGS and len(a.kwargs) == 2


def test_config_text_changed_between_phases_counts_as_evidence(tmp_path, monkeypatch):
    """A large config file travels without its text and is read again at project time. If it
    changed in between, the text is unknown: searches for evidence that silences a rule (here a
    drift detector named in a manifest, ML1401) count it as found rather than report."""
    from mllint import graph
    from mllint.sources import LAZY_TEXT_MIN

    (tmp_path / "pyproject.toml").write_text("[project]\nname='svc'\n")
    (tmp_path / "app.py").write_text(SERVICE)
    for i in range(4):
        (tmp_path / f"util{i}.py").write_text(f"X{i} = {i}\n")
    padding = "".join(f"  key{i}: value{i}\n" for i in range(LAZY_TEXT_MIN // 16))
    manifest = tmp_path / "monitoring.yaml"
    build = graph.Project.build

    def codes(text, edit=False):
        manifest.write_text(text)

        def build_then_edit(*a, **k):
            project = build(*a, **k)
            if edit:
                manifest.write_text(text + "# edited\n")
            return project

        monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 2)
        monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 1)
        st = _settings(tmp_path)
        st.jobs = 2  # the manifest leaves a worker without its text
        with monkeypatch.context() as m:
            m.setattr(graph.Project, "build", build_then_edit)
            return {f.code for f in engine.scan([str(tmp_path)], st).findings}

    plain = "kind: ConfigMap\napiVersion: v1\ndata:\n" + padding
    detector = plain + "# drift: alibi-detect runs beside this service\n"  # in the text only, not the data
    assert len(detector) >= LAZY_TEXT_MIN
    assert "ML1401" in codes(plain)  # no drift detection anywhere: reported
    assert "ML1401" not in codes(detector)  # the manifest names one
    assert "ML1401" not in codes(detector, edit=True)  # changed since: unknown, still silent


NON_ASCII_TRAIN = '''import asyncio

import joblib
import torch
import torch.nn as nn
from fastapi import FastAPI
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

app = FastAPI()
modèle_servi = joblib.load("model.joblib")


def main(X, y):
    réseau = nn.Linear(4, 2)
    modèle = nn.DataParallel(réseau)
    forêt = RandomForestClassifier().fit(X, y)
    entraînement, épreuve = train_test_split(X)
    torch.backends.cudnn.benchmark = True
    opt = torch.optim.SGD(modèle.parameters(), lr=0.1)
    for _ in range(3):
        opt.step()
    return forêt, entraînement, épreuve


@app.post("/predict")
async def predict(payload: dict):
    boucle = asyncio.get_running_loop()
    résultat = await boucle.run_in_executor(None, lambda: modèle_servi.predict([payload["x"]]))
    return {"y": résultat.tolist()}


if __name__ == "__main__":
    main([[1]], [1])
'''


def test_project_findings_use_character_columns(tmp_path):
    """Columns count characters, also for findings a rule decides in the project phase from spans
    it recorded during the walk, and for positions the serving data flow computes on a tree it
    parses again (they must match the records' columns: an offloaded call on a line with a
    non-ASCII name was reported as blocking)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "train.py").write_text(NON_ASCII_TRAIN, encoding="utf-8")
    st = _settings(tmp_path)
    st.profile = "strict"  # ML0311 too
    res = engine.scan([str(tmp_path)], st)
    lines = NON_ASCII_TRAIN.splitlines()
    got = {f.code: lines[f.location.line - 1][f.location.col - 1:f.location.end_col - 1] for f in res.findings}
    assert got.get("ML0404") == "nn.DataParallel(réseau)"
    assert got.get("ML0305") == "RandomForestClassifier()"
    assert got.get("ML0301") == "train_test_split(X)"
    assert got.get("ML0311") == "torch.backends.cudnn.benchmark = True"
    assert "ML0902" not in got  # run_in_executor offloads the call


def test_shared_recorder_hook_runs_once_per_module_whichever_rules_are_active():
    import ast

    from mllint.rule import FileRule, RuleMeta, once_per_module
    from mllint.summary import Summariser

    class Recorder:
        @once_per_module
        def visit_Call(self, node):
            self.ctx.summary.facts.setdefault("calls", []).append(node.lineno)

    class First(Recorder, FileRule):
        meta = RuleMeta(code="ML9901", level="warning")

    class Second(Recorder, FileRule):
        meta = RuleMeta(code="ML9902", level="warning")
        seen = 0

        def visit_Call(self, node):  # its own hook: still called
            Second.seen += 1
            super().visit_Call(node)

    class Off(Recorder, FileRule):
        meta = RuleMeta(code="ML9903", level="warning")

        def begin(self):
            return False

    tree = ast.parse("f()\ng()\n")

    def run(*classes):
        s = Summariser("m.py", "m", "python", None, [c() for c in classes], [])
        return s.run(tree).facts.get("calls", [])

    assert run(First, First, Off) == [1, 2]  # once, not twice
    assert run(Off, First) == [1, 2]  # an inactive rule does not claim the hook
    assert run(Off) == []
    Second.seen = 0
    assert run(First, Second) == [1, 1, 2, 2]  # an override is another hook: both record
    assert Second.seen == 2


def test_call_qualname_memo_from_the_walk_equals_resolving_the_name_again():
    """The walk leaves each call's resolved name in the memo its visit_Call hooks read; it must be
    what resolving ``node.func`` gives (the fixtures and mllint's own code: aliases, local imports,
    shadowing, calls on calls)."""
    import ast

    from mllint.rule import FileRule, RuleMeta
    from mllint.summary import Summariser, _dotted

    mismatches, checked = [], [0]

    class Probe(FileRule):
        meta = RuleMeta(code="ML9904", level="warning")

        def visit_Call(self, node):
            memo = self.ctx.call_qualname(node)
            self.ctx._cq_node = None  # forget it: resolve again
            again = self.ctx.call_qualname(node)
            d = _dotted(node.func) or ""
            builtin_attr = "." in d and memo is None and again is not None and again.split(".")[0] == d.split(".")[0]
            if memo != again and not builtin_attr:
                mismatches.append((self.ctx.path, node.lineno, memo, again))
            checked[0] += 1

    root = Path(__file__).resolve().parents[1]
    paths = sorted((root / "fixtures").rglob("*.py")) + sorted((root / "mllint").rglob("*.py"))
    for p in paths:
        try:
            tree = ast.parse(p.read_bytes())
        except (SyntaxError, ValueError):
            continue
        Summariser(str(p), "m", "python", None, [Probe()], []).run(tree)
    assert checked[0] > 5000
    assert mismatches == []


def test_imports_any_equals_prefix_matching_every_import():
    """``FileContext.imports_any`` answers from a set of dotted prefixes; it must agree with matching
    each import's module and full name against each prefix, including imports the walk adds."""
    import ast

    from mllint.summary import FileContext, Summariser

    def reference(summary, prefixes):
        for imp in summary.imports:
            full = f"{imp.module}.{imp.name}" if imp.name and imp.name != "*" else imp.module
            for p in prefixes:
                if full == p or full.startswith(p + ".") or imp.module == p or imp.module.startswith(p + "."):
                    return True
        return False

    root = Path(__file__).resolve().parents[1]
    compared = 0
    for p in sorted((root / "fixtures").rglob("*.py"))[:400]:
        try:
            tree = ast.parse(p.read_bytes())
        except (SyntaxError, ValueError):
            continue
        summary = Summariser(str(p), "pkg.mod", "python", None, [], []).run(tree)
        ctx = FileContext(summary, None)
        names = {imp.module for imp in summary.imports} | {imp.name for imp in summary.imports if imp.name}
        words = {w for n in names for w in (n or "").split(".")} | {"sklearn", "torch.nn", "goo", "tor", ""}
        candidates = sorted(names | words)
        for q in candidates:
            assert ctx.imports_any((q,)) == reference(summary, (q,)), (p, q)
            compared += 1
    assert compared > 1000


def test_heredoc_jump_skips_the_same_lines_as_reading_each_line():
    """split_shell_commands finds a here-document's end with one search (``_HeredocJumper``); on
    random scripts (tab-stripping ``<<-``, trailing blanks, look-alike lines, unterminated
    documents) and in increasing order, as the splitter asks, it must land where comparing every
    line with the delimiter does."""
    import random

    from mllint.sources import config as C

    def line_by_line(lines, i, delimiter, strip_tabs):
        for j in range(i, len(lines)):
            if (lines[j].lstrip("\t") if strip_tabs else lines[j]).rstrip() == delimiter:
                return j + 1
        return len(lines)

    rng = random.Random(11)
    pool = ["EOF", "\tEOF", "EOF  ", "EOF\t\x0c", " EOF", "EOFX", "xEOF", "END", "\t\tEND ", "EOF EOF", "",
            "kubectl apply -f x", "# EOF", "\x0bEOF", "EOF\x1f", "é"]
    for _ in range(3000):
        lines = [rng.choice(pool) for _ in range(rng.randint(0, 25))]
        jumper = C._HeredocJumper(lines)
        i = 0
        while i < len(lines):
            i = rng.randint(i, len(lines))
            delimiter, strip_tabs = rng.choice(["EOF", "END"]), rng.random() < 0.5
            got = jumper.after_delimiter(i, delimiter, strip_tabs)
            assert got == line_by_line(lines, i, delimiter, strip_tabs), (lines, i, delimiter, strip_tabs)
            i = got
    # and through the splitter: the body is skipped, commands after the delimiter keep their lines
    script = "cat <<-EOF | kubectl apply -f -\n\tkind: Pod\n\tEOF\naws s3 cp a b\ncat <<'END'\nrm -rf /\nEND  \nls"
    assert [(c.argv, c.line) for c in C.split_shell_commands(script)] == [
        (("cat", "<<-EOF"), 1), (("kubectl", "apply", "-f", "-"), 1), (("aws", "s3", "cp", "a", "b"), 4),
        (("cat", "<<END"), 5), (("ls",), 8)]


def test_winnowed_fingerprint_equals_the_plain_definition():
    """``_winnow`` builds k-grams and window minimums with zip/map over shifted copies; it must equal
    the definition: every k-gram inside a statement ('|' bounds), the minimum of every window."""
    import random

    from mllint import summary as S

    def definition(tokens):
        hashes, seg = [], []
        for tok in tokens + ["|"]:
            if tok != "|":
                seg.append(S._token_id(tok))
                continue
            if len(seg) >= S._K:
                hashes.extend(hash(tuple(seg[i:i + S._K])) & 0xFFFFFFFF for i in range(len(seg) - S._K + 1))
            elif len(seg) >= 2:
                hashes.append(hash(tuple(seg)) & 0xFFFFFFFF)
            seg = []
        if len(hashes) <= 64:
            return frozenset(hashes)
        return frozenset(min(hashes[i:i + S._WINDOW]) for i in range(len(hashes) - S._WINDOW + 1))

    rng = random.Random(3)
    for _ in range(2000):
        tokens = [rng.choice(["|", "N", "Call", "Attr", "C", "Assign", "For", "x"]) for _ in range(rng.randint(0, 400))]
        assert S._winnow(tokens) == definition(tokens)
