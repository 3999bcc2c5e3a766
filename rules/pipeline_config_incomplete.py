"""A DVC or MLflow pipeline definition leaves part of the run unreproducible.

## What it does
In `dvc.yaml`: flags a stage whose `cmd` runs a Python script (`python src/train.py`,
`python -m pkg.train`) that is not covered by its `deps` (the script or a parent directory), a
model output (`.pkl`, `.joblib`, `.pt`, `.onnx`, `.h5`, `model*/`...) declared with
`cache: false`, and a stage that uses `params:` from a params file (default `params.yaml`) that
does not exist. In `MLproject`: flags a project that declares none of `python_env`, `conda_env`
or `docker_env`.

## Why is this bad?
Checkpoint 3 (reproducible training pipelines): DVC decides what to re-run from `deps`. A script
missing from them means `dvc repro` skips a stage after its code changed and reports a stale model
as up to date. An uncached model output is not versioned with the data that produced it. An MLflow
project without an environment runs with whatever the caller has installed.

## Example
```yaml
stages:
  train:
    cmd: python src/train.py
    deps:
      - data/features.parquet
    params:
      - train.lr
    outs:
      - models/model.pkl:
          cache: false
```

## Use instead
```yaml
stages:
  train:
    cmd: python src/train.py
    deps:
      - src/train.py
      - data/features.parquet
    params:
      - train.lr
    outs:
      - models/model.pkl
```

## Known limits
Commands built from `${...}` templates or `foreach` items are only checked when the script path
is literal. A script imported by the stage's script (helpers) is not required in `deps`.
"""
import posixpath
import re
import shlex

from mllint.knowledge import deploy as DK
from mllint.rule import ConfigRule, RuleMeta

_MODEL_OUT = re.compile(r"\.(pkl|pickle|joblib|pt|pth|ckpt|onnx|h5|keras|safetensors|bin|model|cbm|ubj|xgb|lgb|"
                        r"pb|tflite|mar)$|(^|/)models?(/|$)|model[^/.]*/?$", re.I)  # `model_v2/`, not `model_metrics.json`


class PipelineConfigIncomplete(ConfigRule):
    meta = RuleMeta(code="ML0309", level="warning", precision="medium", tags=("reproducibility", "pipeline"),
                    config_kinds=("dvc", "mlproject"))

    def check_config(self, doc, project):
        if DK.is_test(project, doc.path):
            return
        data = DK.as_map(doc.data)
        if doc.kind == "mlproject":
            if not any(k in data for k in ("python_env", "conda_env", "docker_env")):
                line = data.line_of("name") if "name" in data else 1
                yield self.finding(doc, line, "MLproject declares no environment (`python_env`, `conda_env` or "
                                              "`docker_env`): runs use whatever the caller has installed")
            return
        base = posixpath.dirname(doc.path)
        stages = DK.as_map(data.get("stages"))
        for name, st in stages.items():
            if not isinstance(st, dict):
                continue
            if "foreach" in st or "matrix" in st:
                st = st.get("do") if isinstance(st.get("do"), dict) else st
            wdir = posixpath.normpath(posixpath.join(base, str(st.get("wdir") or ".")))
            yield from self._deps(doc, project, name, st, wdir)
            yield from self._outs(doc, name, st)
            yield from self._params(doc, project, name, st, wdir)

    def _deps(self, doc, project, name, st, wdir):
        cmds = st.get("cmd")
        cmds = cmds if isinstance(cmds, list) else [cmds]
        deps = [posixpath.normpath(posixpath.join(wdir, str(d))) for d in DK.as_list(st.get("deps"))
                if isinstance(d, str) and "${" not in d]
        if any(isinstance(d, str) and "${" in d for d in DK.as_list(st.get("deps"))):
            return  # templated deps: cannot compare
        for cmd in cmds:
            if not isinstance(cmd, str) or "${" in cmd:
                continue
            script = _script_of(cmd)
            if not script:
                continue
            if script.endswith(".py"):
                path = posixpath.normpath(posixpath.join(wdir, script))
                candidates = [path]
            else:
                rel = script.replace(".", "/") + ".py"
                path = posixpath.normpath(posixpath.join(wdir, rel))
                # ``python -m pkg.mod`` runs the module wherever it sits on the path (src/ layouts)
                candidates = [p for p in project.inventory if p == path or p.endswith("/" + rel)]
                if not candidates:
                    continue  # an installed module, not project code
            if path.startswith("..") or (script.endswith(".py") and path not in project.inventory_set):
                continue  # outside the analysed tree, or a generated script
            if any(c == d or c.startswith(d.rstrip("/") + "/") or d == "." for c in candidates for d in deps):
                continue
            if not script.endswith(".py") and any(d.rstrip("/").endswith(script.split(".")[0]) for d in deps):
                continue  # the package directory is a dependency
            yield self.finding(doc, st.line_of("cmd"), f"stage `{name}` runs `{script}` but does not list it in "
                                                       f"`deps`: `dvc repro` will not re-run the stage when the code "
                                                       f"changes")

    def _outs(self, doc, name, st):
        for key in ("outs", "outs_no_cache"):
            for item in DK.as_list(st.get(key)):
                if not isinstance(item, dict):
                    continue
                for path, opts in item.items():
                    if isinstance(opts, dict) and opts.get("cache") is False and _MODEL_OUT.search(str(path)):
                        yield self.finding(doc, opts.line_of("cache"),
                                           f"stage `{name}` declares model output `{path}` with `cache: false`: the "
                                           f"model is not versioned with the data and code that produced it")

    def _params(self, doc, project, name, st, wdir):
        params = st.get("params")
        if not isinstance(params, list) or not params:
            return
        files = set()
        for p in params:
            if isinstance(p, str):
                files.add("params.yaml")
            elif isinstance(p, dict):
                files |= {str(k) for k in p}
        for f in sorted(files):
            if "${" in f:
                continue
            path = posixpath.normpath(posixpath.join(wdir, f))
            if path not in project.inventory_set:
                yield self.finding(doc, st.line_of("params"), f"stage `{name}` reads params from `{f}`, which does "
                                                              f"not exist: the stage's parameters are not tracked")
                return


def _script_of(cmd: str):
    try:
        argv = shlex.split(cmd.split("&&")[-1] if "cd " in cmd.split("&&")[0] else cmd)
    except ValueError:
        return None
    if "cd " in cmd.split("&&")[0] and "&&" in cmd:
        return None  # changes directory first: paths are relative to elsewhere
    for i, a in enumerate(argv):
        exe = a.rsplit("/", 1)[-1]
        if re.match(r"^python(\d(\.\d+)?)?$", exe):
            rest = argv[i + 1:]
            j = 0
            while j < len(rest):
                if rest[j] == "-m" and j + 1 < len(rest):
                    return rest[j + 1]
                if rest[j].endswith(".py"):
                    return rest[j]
                if rest[j].startswith("-"):
                    j += 1
                    continue
                return None
            return None
    return None
