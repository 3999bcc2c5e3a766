#!/usr/bin/env python3
"""Benchmark mllint against ruff on the same files.

    python bench/bench.py PATH [PATH...] [--runs 3] [--synthetic N] [--jobs J] [--no-ruff]

For every target it prints: files and non-blank Python lines read; wall time of a cold scan
(no cache), a warm scan (cache filled, nothing changed) and a scan after touching one file;
peak memory (RSS and PSS summed over the process tree, sampled every 10 ms: RSS counts pages a
forked worker shares with the parent in every process, PSS splits them); lines per second; the
ratio to `ruff check --select ALL --no-cache` run in the same session; mllint's time per phase.
Each figure is the median of --runs runs.  Targets are copied to a temporary directory first
(the "touch" step edits a file, and mllint never writes into the scanned repository).
``--synthetic N`` generates an ML repository of N Python files (training, features, serving,
notebooks, configs) and benchmarks it; ``--scale`` benchmarks N and 2N to check linearity.
Numbers, not assertions: nothing here fails a build.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def tree_rss_kb(pid: int) -> int:
    """Sum of VmRSS over a process and its descendants (Linux /proc)."""
    return tree_mem_kb(pid)[0]


def tree_mem_kb(pid: int) -> tuple:
    """(RSS, PSS) summed over a process and its descendants (Linux /proc).  RSS counts the pages a
    forked worker shares with its parent once per process; PSS divides shared pages among them."""
    total = pss = 0
    children: dict = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
            children.setdefault(int(parts[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                        break
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return total, pss


def run(cmd: list, env=None) -> tuple:
    """-> (wall seconds, peak tree RSS in MB, stderr text, peak tree PSS in MB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = peak_pss = 0
    while proc.poll() is None:
        rss, pss = tree_mem_kb(proc.pid)
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        time.sleep(0.01)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    return wall, peak / 1024.0, err, peak_pss / 1024.0


def count(path: str) -> tuple:
    """Files and non-blank Python lines mllint reads (Python modules and notebook code cells)."""
    from mllint.discovery import discover, find_root

    root = find_root(path)
    disc = discover([path], root)
    files = lines = 0
    for f in disc.files:
        if f.kind not in ("python", "notebook"):
            continue
        files += 1
        try:
            with open(f.abspath, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            continue
        if f.kind == "notebook":
            try:
                nb = json.loads(text)
                text = "\n".join("".join(c.get("source", "")) if isinstance(c.get("source"), list) else str(c.get("source", ""))
                                 for c in nb.get("cells", []) if c.get("cell_type") == "code")
            except (ValueError, AttributeError):
                text = ""
        lines += sum(1 for l in text.splitlines() if l.strip())
    return files, lines, len(disc.files)


def mllint_cmd(path: str, cache_dir: str, *, cold: bool, jobs) -> list:
    exe = [sys.executable, "-m", "mllint", "check", path, "--exit-zero", "-q", "--output-format", "concise",
           "--timings"]
    exe += ["--no-cache"] if cold else ["--cache-dir", cache_dir]
    if jobs:
        exe += ["--jobs", str(jobs)]
    return exe


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def bench_target(path: str, runs: int, jobs, with_ruff: bool) -> dict:
    work = tempfile.mkdtemp(prefix="mllint-bench-")
    copy = os.path.join(work, os.path.basename(path.rstrip("/")) or "repo")
    shutil.copytree(path, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    cache = os.path.join(work, "cache")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed tool runs from compiled bytecode
    files, lines, analysed = count(copy)
    res = {"target": path, "files": files, "analysed_files": analysed, "lines": lines}
    cold, cold_mem, cold_pss, phases = [], [], [], []
    for _ in range(runs):
        w, m, err, pss = run(mllint_cmd(copy, cache, cold=True, jobs=jobs), env)
        cold.append(w)
        cold_mem.append(m)
        cold_pss.append(pss)
        phases.append(_timings(err))
    run(mllint_cmd(copy, cache, cold=False, jobs=jobs), env)  # fill the cache
    warm = [run(mllint_cmd(copy, cache, cold=False, jobs=jobs), env)[0] for _ in range(runs)]
    victim = _some_python_file(copy)
    # start-up as pre-commit and editors see it: one file of this repository, cache filled
    one = [run(mllint_cmd(victim, cache, cold=False, jobs=jobs), env)[0] for _ in range(runs)] if victim else []
    touched = []
    for i in range(runs):
        if victim:
            with open(victim, "a", encoding="utf-8") as fh:
                fh.write(f"\n# bench touch {i}\n")
        touched.append(run(mllint_cmd(copy, cache, cold=False, jobs=jobs), env)[0])
    res.update(cold_s=median(cold), warm_s=median(warm), touched_s=median(touched), peak_mb=median(cold_mem),
               peak_pss_mb=median(cold_pss), one_file_s=median(one),
               lines_per_s=lines / median(cold) if cold else 0.0,
               phases={k: median([p.get(k, 0.0) for p in phases]) for k in (phases[0] if phases else {})})
    if with_ruff and shutil.which("ruff"):
        rc = [run(["ruff", "check", "--select", "ALL", "--no-cache", "--exit-zero", "-q", copy], env) for _ in range(runs)]
        res.update(ruff_s=median([r[0] for r in rc]), ruff_peak_mb=median([r[1] for r in rc]),
                   ruff_peak_pss_mb=median([r[3] for r in rc]))
        res["ratio_to_ruff"] = res["cold_s"] / res["ruff_s"] if res["ruff_s"] else float("nan")
        res["warm_ratio_to_ruff"] = res["warm_s"] / res["ruff_s"] if res["ruff_s"] else float("nan")
    shutil.rmtree(work, ignore_errors=True)
    return res


def _timings(stderr: str) -> dict:
    for line in stderr.splitlines():
        if line.startswith("mllint-timings: "):
            try:
                return json.loads(line[len("mllint-timings: "):])
            except ValueError:
                pass
    return {}


def _some_python_file(root: str):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith(".py"):
                return os.path.join(dirpath, f)
    return None


def print_result(r: dict) -> None:
    print(f"\n== {r['target']}")
    print(f"  files (py+ipynb): {r['files']}   all analysed files: {r['analysed_files']}   non-blank lines: {r['lines']:,}")
    print(f"  mllint cold {r['cold_s']:.2f}s   warm {r['warm_s']:.2f}s   after touching one file {r['touched_s']:.2f}s   "
          f"`check one_file.py` (cache filled) {r['one_file_s']:.2f}s")
    print(f"  peak memory {r['peak_mb']:.0f} MB RSS, {r['peak_pss_mb']:.0f} MB PSS (summed over the process tree)   "
          f"{r['lines_per_s']:,.0f} lines/s")
    if "ruff_s" in r:
        print(f"  ruff check --select ALL --no-cache: {r['ruff_s']:.2f}s, peak {r['ruff_peak_mb']:.0f} MB RSS, "
              f"{r['ruff_peak_pss_mb']:.0f} MB PSS")
        print(f"  ratio to ruff: cold {r['ratio_to_ruff']:.2f}x   warm {r['warm_ratio_to_ruff']:.2f}x")
    if r.get("phases"):
        ph = "  ".join(f"{k} {v:.2f}s" for k, v in r["phases"].items())
        print(f"  phases (cold, summed over workers for load/summarise): {ph}")


def startup(runs: int) -> dict:
    """`mllint check one.py` outside any project (no cache) and the slowest imports on that path."""
    work = tempfile.mkdtemp(prefix="mllint-startup-")
    one = os.path.join(work, "train.py")
    with open(one, "w", encoding="utf-8") as fh:
        fh.write("import torch\n\nmodel = torch.nn.Linear(4, 1)\n")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = [sys.executable, "-m", "mllint", "check", one, "--exit-zero", "-q", "--no-cache"]
    walls = [run(cmd, env)[0] for _ in range(max(runs, 3))]
    proc = subprocess.run([sys.executable, "-X", "importtime"] + cmd[1:], env=env, capture_output=True, text=True)
    imports = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            imports.append((int(parts[1].strip()), parts[2][1:].rstrip()))  # nested imports keep their indent
    shutil.rmtree(work, ignore_errors=True)
    top = sorted((i for i in imports if not i[1].startswith(" ") and i[1] != "site"), reverse=True)[:6]
    return {"one_file_outside_s": median(walls), "import_total_ms": sum(us for us, name in imports
                                                                         if not name.startswith(" ")) / 1000.0,
            "top_imports_ms": [(name, us / 1000.0) for us, name in top]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--synthetic", type=int, default=0, help="generate a synthetic ML repository of N Python files")
    ap.add_argument("--scale", action="store_true", help="with --synthetic N: also benchmark 2N files")
    ap.add_argument("--no-ruff", action="store_true")
    ap.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = ap.parse_args(argv)
    targets = list(args.paths)
    tmp = None
    if args.synthetic:
        sys.path.insert(0, HERE)
        from synth import generate

        tmp = tempfile.mkdtemp(prefix="mllint-synth-")
        sizes = [args.synthetic] + ([args.synthetic * 2] if args.scale else [])
        for n in sizes:
            d = os.path.join(tmp, f"synthetic-{n}")
            generate(d, n)
            targets.append(d)
    if not targets:
        ap.error("give repository paths or --synthetic N")
    results = [bench_target(t, args.runs, args.jobs, not args.no_ruff) for t in targets]
    su = startup(args.runs)
    if args.json:
        print(json.dumps({"targets": results, "startup": su}, indent=2))
    else:
        print(f"== start-up: `mllint check one.py` outside a project {su['one_file_outside_s']:.2f}s; "
              f"imports {su['import_total_ms']:.0f} ms cumulative, slowest: "
              + ", ".join(f"{n} {ms:.0f} ms" for n, ms in su["top_imports_ms"]))
        for r in results:
            print_result(r)
        if len(results) > 1:
            tot_l = sum(r["lines"] for r in results)
            tot_c = sum(r["cold_s"] for r in results)
            line = f"\n== total: {sum(r['files'] for r in results)} files, {tot_l:,} lines, mllint cold {tot_c:.2f}s"
            if all("ruff_s" in r for r in results):
                tot_r = sum(r["ruff_s"] for r in results)
                line += f", ruff {tot_r:.2f}s, ratio {tot_c / tot_r:.2f}x, warm ratio {sum(r['warm_s'] for r in results) / tot_r:.2f}x"
            print(line)
            if all("ruff_peak_pss_mb" in r for r in results):
                top = max(results, key=lambda r: r["peak_pss_mb"])
                rtop = max(results, key=lambda r: r["ruff_peak_pss_mb"])
                under = sum(1 for r in results if r["peak_pss_mb"] <= r["ruff_peak_pss_mb"])
                print(f"== peak memory (PSS): mllint's largest {top['peak_pss_mb']:.0f} MB "
                      f"({os.path.basename(top['target'].rstrip('/'))}), ruff's largest {rtop['ruff_peak_pss_mb']:.0f} MB "
                      f"({os.path.basename(rtop['target'].rstrip('/'))}); mllint at or under ruff on {under} of "
                      f"{len(results)} targets")
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
