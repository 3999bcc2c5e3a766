"""The per-file cache: a changed file is re-analysed, corrupt entries are ignored, and results are
identical with and without the cache."""
import glob
import os
import re

from mllint.config import Settings
from mllint.engine import scan

SPLIT = "from sklearn.model_selection import train_test_split\n\na, b = train_test_split([1, 2, 3])\n"


def _scan(root, cache_dir, use_cache=True):
    s = Settings(root=str(root), jobs=1, cache_dir=str(cache_dir))
    res = scan([str(root)], s, use_cache=use_cache)
    return [(f.code, f.location.path, f.location.line, f.message) for f in res.findings], res


def test_cache_dir_is_tagged_and_results_match(make_repo, tmp_path):
    root = make_repo({"train.py": SPLIT, "other.py": "x = 1\n"})
    cache = tmp_path / "cache"
    no_cache, _ = _scan(root, cache, use_cache=False)
    assert not cache.exists()  # --no-cache writes nothing
    first, _ = _scan(root, cache)
    second, _ = _scan(root, cache)
    assert no_cache == first == second and first
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (cache / ".gitignore").read_text().strip() == "*"
    assert not os.path.exists(os.path.join(root, ".mllint_cache"))  # nothing written into the repository


def test_changed_file_is_reanalysed_and_only_it(make_repo, tmp_path, monkeypatch):
    root = make_repo({"train.py": SPLIT, "other.py": "x = 1\n"})
    cache = tmp_path / "cache"
    _scan(root, cache)
    calls = []
    import mllint.engine as engine

    real = engine.process_file

    def spy(df, cfg, data=None):
        calls.append(df.path)
        return real(df, cfg, data)

    monkeypatch.setattr(engine, "process_file", spy)
    (root / "train.py").write_text(SPLIT.replace("[1, 2, 3]", "[1, 2, 3], random_state=0"))
    findings, _ = _scan(root, cache)
    assert calls == ["train.py"]
    assert findings == []


def test_corrupt_cache_entry_is_ignored(make_repo, tmp_path):
    root = make_repo({"train.py": SPLIT})
    cache = tmp_path / "cache"
    expected, _ = _scan(root, cache)
    entries = glob.glob(str(cache / "**" / "*.pkl"), recursive=True)
    assert entries
    for e in entries:
        with open(e, "wb") as fh:
            fh.write(b"\x80\x04 not a pickle")
    again, res = _scan(root, cache)
    assert again == expected
    assert not [n for n in res.notifications if n.descriptor == "internal-error"]
    # the corrupt entry was rewritten with a good one
    third, _ = _scan(root, cache)
    assert third == expected


def test_unwritable_cache_dir_is_not_fatal(make_repo, tmp_path):
    root = make_repo({"train.py": SPLIT})
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    findings, _ = _scan(root, blocker / "sub")
    assert findings and findings[0][0] == "ML0301"


def test_parallel_pool_gives_identical_results(repo_root, monkeypatch, tmp_path):
    import mllint.engine as engine
    from mllint.config import load_settings

    path = os.path.join(repo_root, "fixtures", "rules")

    def run(jobs):
        s = load_settings([path], repo_root)
        s.jobs = jobs
        res = scan([path], s)
        return sorted((f.code, f.location.path, f.location.line, f.location.col, f.message) for f in res.findings)

    serial = run(1)
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 1)
    log = tmp_path / "pids"
    process_file = engine.process_file

    def logged(df, *a, **k):  # forked workers inherit the wrapper: each process logs its pid
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return process_file(df, *a, **k)

    monkeypatch.setattr(engine, "process_file", logged)
    parallel = run(2)
    assert serial == parallel and len(serial) > 20
    # --jobs 2: the main process analyses files beside one forked worker
    pids = log.read_text().split()
    assert str(os.getpid()) in pids and len(set(pids)) == 2


def test_whole_scan_result_cache(make_repo, tmp_path, monkeypatch):
    """`mllint check` reuses its final findings when nothing changed, and recomputes when a file,
    another path or a setting changes."""
    import mllint.engine as engine

    root = make_repo({"train.py": SPLIT, "deploy.sh": "echo hi\n"})
    cache = tmp_path / "cache"

    def run(**kw):
        s = Settings(root=str(root), jobs=1, cache_dir=str(cache), **kw)
        res = scan([str(root)], s, use_cache=True, result_cache=True)
        return [(f.code, f.location.path, f.location.line, f.message) for f in res.findings], res

    first, res1 = run()
    assert res1.project is not None and first
    calls = []
    real = engine.Project.build if hasattr(engine, "Project") else None
    from mllint import graph

    orig = graph.Project.build

    def spy(*a, **k):
        calls.append(1)
        return orig(*a, **k)

    monkeypatch.setattr(graph.Project, "build", classmethod(lambda cls, *a, **k: spy(*a, **k)))
    second, res2 = run()
    assert second == first and res2.project is None and calls == []  # served from the whole-scan cache
    assert res2.n_lines == res1.n_lines and res2.n_files == res1.n_files
    (root / "RUNBOOK.md").write_text("# Deploy\n")  # another path appears: recompute
    third, res3 = run()
    assert res3.project is not None and calls == [1] and third == first
    fourth, res4 = run(ignore=["ML0301"])  # a setting changes: recompute
    assert fourth == [] and res4.project is not None
    (root / "train.py").write_text(SPLIT + "b = 1\n")  # a file changes: recompute
    fifth, res5 = run()
    assert res5.project is not None and fifth == first


def test_unchanged_repository_is_answered_without_reading_files(make_repo, tmp_path, monkeypatch):
    """A second run with no path, size or modification time changed reads no file at all (one
    stat per path); a file touched without a change is answered from the content-hash key; a
    changed file is analysed again."""
    import mllint.engine as engine
    from mllint import cache as cache_mod
    from mllint import graph

    root = make_repo({"train.py": SPLIT, "serve.py": "import fastapi\n"})
    cache = tmp_path / "cache"

    def run():
        s = Settings(root=str(root), jobs=1, cache_dir=str(cache))
        res = scan([str(root)], s, use_cache=True, result_cache=True)
        return [(f.code, f.location.path, f.location.line, f.message) for f in res.findings], res

    first, _ = run()
    reads = []
    real_key_for = cache_mod.Cache.key_for
    monkeypatch.setattr(cache_mod.Cache, "key_for", lambda self, df: reads.append(df.path) or real_key_for(self, df))
    monkeypatch.setattr(engine, "_read_text", lambda df, overlays: reads.append(df.path))
    second, res2 = run()
    assert second == first and res2.project is None and reads == []
    st = os.stat(root / "train.py")
    os.utime(root / "train.py", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # touched, not changed
    builds = []
    orig = graph.Project.build
    monkeypatch.setattr(graph.Project, "build", classmethod(lambda cls, *a, **k: builds.append(1) or orig(*a, **k)))
    third, res3 = run()
    assert third == first and res3.project is None and builds == [] and "train.py" in reads
    (root / "train.py").write_text(SPLIT + "c = 2\n")
    fourth, res4 = run()
    assert fourth == first and res4.project is not None and builds == [1]


RUNBOOK_REPO = {
    "app/serve.py": (
        "import joblib\nfrom fastapi import FastAPI\n\napp = FastAPI()\nmodel = joblib.load('m.joblib')\n\n\n"
        "@app.post('/rank')\ndef rank(x: list[float]) -> dict:\n    return {'s': float(model.predict([x])[0])}\n"),
    "monitoring/alerts.yaml": (
        "groups:\n  - name: ranker\n    rules:\n      - alert: RankerDown\n        expr: up == 0\n"
        "        labels: {severity: page}\n        annotations: {runbook_url: https://r.example/x}\n"),
    "docs/oncall.md": "# On-call\n\n## Escalation\n\nPage the rotation.\n\nIf the score distribution drifts, roll back the model.\n",
}


def test_markdown_text_is_read_again_after_the_cache(make_repo, tmp_path):
    """Markdown documents travel from workers and the cache as their headings only; the runbook
    rule (ML2001) reads the text again, so a runbook that covers model failures is still found
    when the result comes from the cache, and a file that changed since is not guessed at."""
    import pickle

    from mllint.graph import Project

    no_runbook = dict(RUNBOOK_REPO, **{"docs/oncall.md": "# On-call\n\n## Escalation\n\nPage the rotation.\n"})
    cache = tmp_path / "cache"
    for files, expected in ((no_runbook, ["monitoring/alerts.yaml"]), (RUNBOOK_REPO, [])):
        root = make_repo(files)
        findings, _ = _scan(root, cache)
        assert [f[1] for f in findings if f[0] == "ML2001"] == expected
        # another file edited: the project phase runs again, the runbook comes from the cache
        with open(root / "app" / "serve.py", "a", encoding="utf-8") as fh:
            fh.write("# edited\n")
        findings, _ = _scan(root, cache)
        assert [f[1] for f in findings if f[0] == "ML2001"] == expected

    # the shipped document has no text; the project reads it again, checked against the digest
    _, res = _scan(root, cache, use_cache=False)
    results = pickle.loads(pickle.dumps(res.files))
    doc = next(d for r in results for d in r.docs if d.kind == "markdown")
    assert doc.text is None and [h.text for h in doc.data.headings] == ["On-call", "Escalation"]
    project = Project.build(str(root), results, None, Settings(root=str(root)))
    assert "roll back" in project.doc_text(doc)
    (root / "docs" / "oncall.md").write_text("# On-call\n\nchanged\n", encoding="utf-8")
    assert project.doc_text(doc) is None


def test_pool_results_are_all_cached(make_repo, tmp_path, monkeypatch):
    """Records that came from a worker (loaded in the main process, names shared, empty maps
    collapsed) pickle again into the cache: every analysed file gets its entry."""
    import mllint.engine as engine

    files = {f"pkg/m{i}.py": f"def f{i}(x):\n    return x + {i}\n" for i in range(6)}
    files["pkg/__init__.py"] = ""
    files["train.py"] = SPLIT
    root = make_repo(files)
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 1)
    cache = tmp_path / "cache"
    s = Settings(root=str(root), jobs=2, cache_dir=str(cache))
    first = scan([str(root)], s, use_cache=True)
    entries = [e for e in glob.glob(str(cache / "**" / "*.pkl"), recursive=True) if os.sep + "scan" + os.sep not in e]
    assert len(entries) == len(files)
    again = scan([str(root)], s, use_cache=True)
    key = lambda r: sorted((f.code, f.location.path, f.location.line, f.message) for f in r.findings)
    assert key(first) == key(again) and key(first)


def test_large_config_files_travel_without_their_text(make_repo, tmp_path, monkeypatch):
    """A config file of LAZY_TEXT_MIN bytes or more leaves the workers and the cache without its
    text, which is read again when a rule asks for it: the findings are those of a scan that kept
    the text, from the workers and from the cache."""
    import shutil

    import mllint.engine as engine
    from mllint.sources import LAZY_TEXT_MIN, UNREAD, reread_text

    script = "#!/usr/bin/env bash\n" + "echo 'step'\n" * (LAZY_TEXT_MIN // 10) + \
        "aws s3 cp artifacts/model.pkl s3://acme-ml-artifacts/churn/model.pkl\n"
    files = {"scripts/deploy.sh": script, "train.py": SPLIT}
    files.update({f"pkg/m{i}.py": f"def f{i}(x):\n    return x\n" for i in range(4)})
    root = make_repo(files)
    key = lambda r: sorted((f.code, f.location.path, f.location.line, f.location.col, f.message) for f in r.findings)
    with monkeypatch.context() as m:
        m.setattr(engine, "LAZY_TEXT_MIN", 10 ** 9)  # the reference: every text kept
        kept = scan([str(root)], Settings(root=str(root), jobs=1))
    (doc,) = [d for fr in kept.files if fr.path == "scripts/deploy.sh" for d in fr.docs]
    assert doc.__dict__["text"] == script
    deploy_line = script.count("\n")
    assert ("ML0101", "scripts/deploy.sh", deploy_line) in {(f.code, f.location.path, f.location.line) for f in kept.findings}

    # in one process the text is dropped too (kept live, it held kserve's manifests whole)
    serial = scan([str(root)], Settings(root=str(root), jobs=1))
    assert key(serial) == key(kept)
    (doc,) = [d for fr in serial.files if fr.path == "scripts/deploy.sh" for d in fr.docs]
    assert "text" not in doc.__dict__ and doc.text == script

    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 1)
    cache = tmp_path / "cache"
    pooled = scan([str(root)], Settings(root=str(root), jobs=2, cache_dir=str(cache)), use_cache=True)
    assert key(pooled) == key(kept)
    (doc,) = [d for fr in pooled.files if fr.path == "scripts/deploy.sh" for d in fr.docs]
    assert "text" not in doc.__dict__ and doc.text == script  # read again, on access

    # the cache entries have no text either, and name the original path: a copy elsewhere that
    # uses the same cache reads its own file
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    shutil.rmtree(root)
    again = scan([str(copy)], Settings(root=str(copy), jobs=1, cache_dir=str(cache)), use_cache=True)
    assert key(again) == key(kept)
    (doc,) = [d for fr in again.files if fr.path == "scripts/deploy.sh" for d in fr.docs]
    assert "text" not in doc.__dict__

    # a file that changed since it was analysed reads as empty (UNREAD) rather than as other
    # content, and counts as evidence for a rule that searches it
    (copy / "scripts" / "deploy.sh").write_text(script + "echo changed\n")
    assert doc.text == "" and doc.text is UNREAD and reread_text(*doc.reread) is UNREAD
    assert doc.evidence(re.compile("no such words"))


def test_a_large_script_without_an_object_store_cli_is_not_read_again(make_repo, monkeypatch):
    """ML0101 searches a shell script's commands, split when it was loaded, for an object-store
    CLI: a large script that names none is not read again from disk (a generated install script
    read again held 5 MB of kserve's peak), and one that does still gives its finding."""
    import mllint.sources as sources

    filler = "echo 'step'\n" * (sources.LAZY_TEXT_MIN // 10)
    deploy = "#!/usr/bin/env bash\n" + filler + "aws s3 cp artifacts/model.pkl s3://acme-ml-artifacts/churn/model.pkl\n"
    root = make_repo({"scripts/install.sh": "#!/usr/bin/env bash\n" + filler + "kubectl apply -f x.yaml\n",
                      "scripts/deploy.sh": deploy, "train.py": SPLIT})
    read = []
    real = sources.reread_text

    def counting(abspath, digest):
        read.append(os.path.basename(abspath))
        return real(abspath, digest)

    counting.cache_clear = real.cache_clear
    monkeypatch.setattr(sources, "reread_text", counting)
    res = scan([str(root)], Settings(root=str(root), jobs=1, select=["ML0101"]))
    assert [(f.location.path, f.location.line) for f in res.findings] == [("scripts/deploy.sh", deploy.count("\n"))]
    assert "install.sh" not in read and "deploy.sh" in read  # the finding's line is read, on a hit only
