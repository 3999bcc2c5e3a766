"""`mllint review`: scorecard statuses on fixture repositories, the three output formats, valid
HTML (html5lib, strict) and a headless-Chromium rendering of it."""
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURES, run_cli

REVIEW = os.path.join(FIXTURES, "review")
SERVING_CPS = range(9, 16)
DEPLOY_CPS = range(16, 21)


def review_model(name, *extra):
    code, out, err = run_cli(["review", os.path.join(REVIEW, name), "--output-format", "json", *extra])
    assert code == 0, err
    return json.loads(out)


def rows(model):
    return {r["checkpoint"]: r for cat in model["scorecard"] for r in cat["checkpoints"]}


# ------------------------------------------------------------------------------ scorecard
def test_scorecard_has_20_checkpoints_in_five_categories():
    m = review_model("training_only")
    assert [c["title"] for c in m["scorecard"]] == ["Training infrastructure", "Data pipeline", "Model serving",
                                                   "Monitoring", "Deployment process"]
    assert [r["checkpoint"] for c in m["scorecard"] for r in c["checkpoints"]] == list(range(1, 21))
    for c in m["scorecard"]:
        assert len(c["checkpoints"]) == 4
    for r in rows(m).values():
        assert r["status"] in ("findings", "ok", "n/a", "ask")
        assert r["label"] and r["detail"]


def test_training_only_repo_shows_serving_checkpoints_not_applicable():
    m = review_model("training_only")
    assert m["roles"] == {"training": True, "serving": False, "deploy": False}
    rs = rows(m)
    for cp in SERVING_CPS:
        assert rs[cp]["status"] == "n/a", (cp, rs[cp])
        assert rs[cp]["missing_roles"] == ["serving"]
        assert "serving code" in rs[cp]["detail"]
    for cp in DEPLOY_CPS:
        assert rs[cp]["status"] == "n/a"
        assert "deploy configs" in rs[cp]["detail"]
    assert rs[18]["missing_roles"] == ["deploy"]  # rollouts are judged on manifests
    assert set(rs[20]["missing_roles"]) == {"deploy", "serving"}  # incident response: either one
    # training-serving consistency needs both sides
    assert rs[5]["status"] == "n/a" and rs[5]["missing_roles"] == ["serving"]
    # training checkpoints are judged
    for cp in (1, 2, 3, 6):
        assert rs[cp]["status"] != "n/a"


def test_clean_full_project_shows_no_problems_for_code_detectable_checkpoints():
    """The fixture is written to satisfy every rule in the registry.  When a new rule fires here, either
    the rule is wrong or the fixture needs the practice the rule asks for: fix one of them."""
    m = review_model("clean_full")
    assert m["roles"] == {"training": True, "serving": True, "deploy": True}
    rs = rows(m)
    flagged = {cp: r["detail"] for cp, r in rs.items() if r["status"] == "findings"}
    assert not flagged, (flagged, [(g["code"], f["where"], f["message"]) for cp in m["findings"]
                                   for g in cp["rules"] for f in g["findings"]])
    assert not [r for r in rs.values() if r["status"] == "n/a"]
    checked = 0
    for cp, r in rs.items():
        if cp in (12, 15, 19, 20):
            assert r["status"] == "ask" and r["question"], cp
        elif r["rules"]:
            assert r["status"] == "ok", (cp, r)
            checked += 1
        else:
            assert r["status"] == "ask" and r["reason"] in ("no-rules", "rules-disabled") and r["question"]
    assert checked >= 3  # ML0301, ML0000's neighbours... at least a few checkpoints have rules
    assert m["summary"]["findings"] == {"error": 0, "warning": 0, "note": 0}
    assert m["findings"] == []


def test_repo_with_findings_shows_counts():
    m = review_model("with_findings")
    rs = rows(m)
    r3 = rs[3]
    assert r3["status"] == "findings"
    cp3 = next(c for c in m["findings"] if c["checkpoint"] == 3)
    listed = [f for g in cp3["rules"] for f in g["findings"]]
    assert r3["counts"]["warning"] == sum(1 for f in listed if f["level"] == "warning")
    assert sum(r3["counts"].values()) == cp3["count"] == len(listed)
    split = next(g for g in cp3["rules"] if g["code"] == "ML0301")
    assert split["count"] == 2
    assert [f["line"] for f in split["findings"]] == [17, 18]
    assert split["why"] and not split["why"].startswith("Checkpoint")
    assert split["findings"][0]["link"] == "src/train.py#L17"
    assert "warning" in r3["detail"]
    assert any(rule["code"] == "ML0301" for rule in r3["rules"])
    # findings are grouped most severe first
    levels = [g["level"] for g in cp3["rules"]]
    rank = {"error": 3, "warning": 2, "note": 1}
    assert levels == sorted(levels, key=lambda l: -rank[l])


def test_selection_and_config_are_those_of_check():
    m = review_model("with_findings", "--ignore", "ML0301")
    r3 = rows(m)[3]
    assert "ML0301" not in [r["code"] for r in r3["rules"]]
    assert all(g["code"] != "ML0301" for c in m["findings"] for g in c["rules"])


def test_checkpoint_whose_rules_are_all_disabled_is_not_a_pass():
    m = review_model("clean_full", "--ignore", "ML03")
    r3 = rows(m)[3]
    assert r3["status"] == "ask" and r3["reason"] == "rules-disabled"
    assert "ML0301" in r3["detail"] and r3["label"].startswith("not checked")


def test_not_code_detectable_checkpoints_ask_the_team():
    m = review_model("clean_full")
    rs = rows(m)
    for cp in (12, 15, 19, 20):
        assert rs[cp]["status"] == "ask"
        assert rs[cp]["reason"] == "not-code-detectable"
        assert rs[cp]["question"].endswith("?")


# ------------------------------------------------------------------------ repository view
def test_repository_section_lists_roles_and_diagram():
    m = review_model("clean_full")
    r = m["repository"]
    assert [e["path"] for e in r["training_entrypoints"]] == ["src/churn/train.py"]
    routes = {h["route"] for h in r["serving"]["handlers"]}
    assert {"POST /predict", "POST /feedback"} <= routes
    assert {(d["kind"], d["name"]) for d in r["deploy_configs"]} >= {("Rollout", "churn-api"),
                                                                    ("HorizontalPodAutoscaler", "churn-api")}
    dvc = next(p for p in r["pipelines"] if p["path"] == "dvc.yaml")
    assert any(x["path"] == "src/churn/train.py" and x["training"] for x in dvc["runs"])
    assert "src/churn/features.py" in r["shared_modules"]
    groups = {n["group"] for n in r["diagram"]["nodes"]}
    assert {"training", "serving", "deploy", "pipeline", "shared"} <= groups
    assert any(e["label"] == "runs" for e in r["diagram"]["edges"])
    names = {f["name"] for f in m["header"]["frameworks"]}
    assert {"scikit-learn", "FastAPI", "MLflow", "Argo Rollouts", "Docker", "DVC pipelines"} <= names
    assert m["header"]["files"] > 10 and m["header"]["lines"] > 100


# ------------------------------------------------------------------------------- formats
def test_markdown_report_order_links_and_mermaid(tmp_path):
    out = tmp_path / "review.md"
    code, _, err = run_cli(["review", os.path.join(REVIEW, "with_findings"), "-o", str(out)])
    assert code == 0
    assert "review written to" in err
    text = out.read_text(encoding="utf-8")
    heads = [text.index(h) for h in ("# Architecture review", "## Scorecard", "## What the repository is",
                                     "## Findings")]
    assert heads == sorted(heads)
    # the report is outside the repository: links are relative to the repository root
    assert "](src/train.py#L17)" in text
    assert "| 9 | Serving scalability | ➖ not applicable | no serving code found |" in text
    assert "```mermaid\nflowchart LR" in text
    assert "**Why:**" in text


def test_links_are_relative_to_the_report_inside_the_repository(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(os.path.join(REVIEW, "with_findings"), repo)
    (repo / "reports").mkdir()
    code, _, _ = run_cli(["review", str(repo), "-o", str(repo / "reports" / "review.md")])
    assert code == 0
    assert "](../src/train.py#L17)" in (repo / "reports" / "review.md").read_text(encoding="utf-8")


def test_link_base_makes_absolute_links():
    code, out, _ = run_cli(["review", os.path.join(REVIEW, "with_findings"), "--link-base",
                            "https://github.com/o/r/blob/abc123"])
    assert code == 0
    assert "](https://github.com/o/r/blob/abc123/src/train.py#L17)" in out


def test_format_from_extension_and_errors(tmp_path):
    code, _, _ = run_cli(["review", os.path.join(REVIEW, "with_findings"), "-o", str(tmp_path / "r.json")])
    assert code == 0
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["schema_version"] == 1 and len(data["scorecard"]) == 5
    code, _, _ = run_cli(["review", os.path.join(REVIEW, "with_findings"), "-o", str(tmp_path / "r.txt")])
    assert code == 2
    code, _, _ = run_cli(["review", str(tmp_path / "missing")])
    assert code == 2


def test_header_without_git(tmp_path, monkeypatch):
    from mllint import review

    repo = tmp_path / "nogit"
    shutil.copytree(os.path.join(REVIEW, "training_only"), repo)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    m = review_model_at(str(repo))
    assert m["header"]["commit"] is None
    assert m["header"]["date"] == "2023-11-14 22:13 UTC"
    assert m["header"]["repository"] == "nogit"
    assert review._clean_remote("https://user:s3cret@github.com/o/r.git") == "https://github.com/o/r"
    assert review._clean_remote("git@github.com:o/r.git") == "https://github.com/o/r"
    # an archive snapshot reviewed with --link-base takes its name and commit from it
    _, out, _ = run_cli(["review", str(repo), "--output-format", "json", "--link-base",
                              "https://github.com/acme/churn/blob/0123456789abcdef0123456789abcdef01234567/"])
    h = json.loads(out)["header"]
    assert (h["repository"], h["commit"], h["commit_source"]) == (
        "acme/churn", "0123456789abcdef0123456789abcdef01234567", "--link-base")


def review_model_at(path):
    code, out, err = run_cli(["review", path, "--output-format", "json"])
    assert code == 0, err
    return json.loads(out)


def test_first_sentence_of_why():
    from mllint.review import first_sentence

    assert first_sentence("Checkpoint 3 (reproducible training): each run draws a different split, e.g. with "
                          "another seed, so metrics move. More.") == \
        "Each run draws a different split, e.g. with another seed, so metrics move."
    assert first_sentence("Models v1.2 drift whenever the data behind the storage pointer moves. Then more.") == \
        "Models v1.2 drift whenever the data behind the storage pointer moves."
    # a very short first sentence takes the next one along
    assert first_sentence("A model is an input. Unpickling it runs code. More.") == \
        "A model is an input. Unpickling it runs code. More."
    assert first_sentence("Short. " + "x" * 70 + ". Tail.") == "Short. " + "x" * 70 + "."


def test_cli_start_up_stays_light():
    """Start-up loads neither the engine nor the subcommands in their own modules (`review`,
    `graph`, `server`): those are imported when run or listed."""
    code = ("import sys, click, mllint.cli; "
            "bad = [m for m in ('mllint.engine', 'mllint.graph', 'mllint.review', 'mllint.review_render', 'mllint.lsp', "
            "'mllint.graph_cmd', 'networkx') if m in sys.modules]; assert not bad, bad; "
            "ctx = click.Context(mllint.cli.main); "
            "assert {'review', 'graph', 'server', 'check'} <= set(mllint.cli.main.list_commands(ctx)); "
            "assert mllint.cli.main.get_command(ctx, 'review').name == 'review' and 'mllint.review' in sys.modules; "
            "assert 'mllint.engine' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------------------------- HTML
def _html(tmp_path, name="clean_full"):
    out = tmp_path / "review.html"
    code, _, err = run_cli(["review", os.path.join(REVIEW, name), "-o", str(out)])
    assert code == 0, err
    return out


@pytest.mark.parametrize("name", ["clean_full", "with_findings", "training_only"])
def test_html_is_valid_and_self_contained(tmp_path, name):
    import html5lib

    out = _html(tmp_path, name)
    raw = out.read_bytes()
    parser = html5lib.HTMLParser(strict=True)
    doc = parser.parse(raw)  # raises on any parse error
    assert not parser.errors
    text = raw.decode("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        "http://prometheus", "")
    assert "<link" not in text and "@import" not in text and "url(http" not in text
    assert "@media print" in text
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    assert doc.find(".//h:table", ns) is not None
    if name == "clean_full":
        assert "<svg" in text and "serving/app.py" in text


def _chromium():
    for exe in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(exe)
        if path:
            return path
    return None


def test_html_renders_in_headless_chromium(tmp_path):
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail("Chromium is not installed, and CI must render the review report (.ci/run installs it)")
        pytest.skip("Chromium is not installed (apt-get install chromium) - cannot render the HTML report")
    out = _html(tmp_path, "clean_full")
    png = tmp_path / "review.png"
    profile = tmp_path / "chromium-profile"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1200,2000",
           "file://" + str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 2000)
    assert len(data) > 20_000  # a rendered page, not a blank one
    keep = os.environ.get("MLLINT_REVIEW_PNG")
    if keep:
        shutil.copy(png, keep)


def test_notebook_findings_name_the_cell_and_link_the_notebook(make_repo):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": [
        "import pandas as pd\n", "from sklearn.model_selection import train_test_split\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": [
            "df = pd.read_csv('data.csv')\n", "a, b = train_test_split(df, test_size=0.2)\n"]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    root = make_repo({"pyproject.toml": "[project]\nname = 'nb'\n", "explore.ipynb": json.dumps(nb)})
    m = review_model_at(str(root))
    f = next(x for cp in m["findings"] for g in cp["rules"] for x in g["findings"] if x["code"] == "ML0301")
    assert f["where"] == "explore.ipynb:cell 2:2"
    assert f["link"] == "explore.ipynb"  # GitHub renders notebooks: no line anchor


def test_markdown_escaping_keeps_code_spans():
    from mllint.review_render import _code, _md, _md_cell

    assert _md("pin `revision=\"<sha>\"` or v<N>") == "pin `revision=\"<sha>\"` or v&lt;N&gt;"
    assert _md_cell("a | b") == "a \\| b"
    assert _code("x`y") == "`` x`y ``"


def test_repository_config_and_in_source_suppressions_apply(make_repo):
    train = open(os.path.join(REVIEW, "with_findings", "src", "train.py"), encoding="utf-8").read()
    train = train.replace("test_size=0.2)\n", "test_size=0.2)  # noqa: ML0301 - the split is fixed upstream\n")
    root = make_repo({"pyproject.toml": "[project]\nname = 'x'\n\n[tool.mllint]\nignore = ['ML0201']\n",
                      "src/train.py": train})
    m = review_model_at(str(root))
    rs = rows(m)
    assert "ML0201" not in [r["code"] for r in rs[2]["rules"]]
    split = next(g for c in m["findings"] for g in c["rules"] if g["code"] == "ML0301")
    assert split["count"] == 1 and split["findings"][0]["line"] == 18
    assert rs[3]["suppressed"] == 1


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_queries_do_not_run_the_reviewed_repositorys_fsmonitor(tmp_path):
    """Reviewers scan third-party checkouts: a `core.fsmonitor` command in the repository's own
    .git/config must not run."""
    repo = tmp_path / "untrusted"
    shutil.copytree(os.path.join(REVIEW, "training_only"), repo)
    marker = tmp_path / "pwned"
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@e")
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "init"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "config", "core.fsmonitor", f"touch {marker}; false"], check=True)
    m = review_model_at(str(repo))
    assert m["header"]["commit"] and len(m["header"]["commit"]) == 40
    assert m["header"]["dirty"] is False
    assert not marker.exists()
