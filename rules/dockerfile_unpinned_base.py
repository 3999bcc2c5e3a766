"""A Dockerfile builds on a floating base image (no tag, `:latest`, a bare major) or pip-installs unpinned packages.

## What it does
Flags `FROM` lines whose image has no tag, the `latest` tag, or a floating major tag such as
`python:3`, `python:3-slim` or `nvidia/cuda:12`. Digests (`@sha256:`) are pinned; references to an
earlier build stage (`FROM builder`), `scratch`, and images built from an `ARG` that cannot be
resolved stay silent (an `ARG` with a literal default is resolved). In images that train or serve a
model (an ML base image, an ML package installed, or a command that starts training or serving),
also flags `RUN pip install pkg` for each package given without any version; `-r requirements.txt`,
`-c constraints.txt`, local paths and URLs are fine.

## Why is this bad?
Checkpoint 3 (reproducible training pipelines): the same Dockerfile builds a different image next
week. A new Python minor, CUDA or library release changes numerics, breaks pickled models or the
serving stack, and the image that was validated is no longer the one deployed.

## Example
```dockerfile
FROM python:3
RUN pip install torch fastapi
```

## Use instead
```dockerfile
FROM python:3.11.9-slim@sha256:8fb099199b9f2d70342674bd9dbccd3ed03a258f26bbd1d556822c6dfc60c317
COPY requirements.txt .
RUN pip install -r requirements.txt
```

## Known limits
A moving named tag (`ubuntu:jammy`, `python:slim`, `node:lts`) and a minor tag (`python:3.11`) are
not flagged. `pip install pkg>=1.0` (a range) is not flagged here; lock files are checked by
`unpinned-ml-dependency`. `pip`, `setuptools` and `wheel` upgrades are ignored.

## Fix safety
The fix pins a floating base tag only when the exact tag is known: the same image pinned to one
full version elsewhere in the repository (another `FROM`, a compose `image:`), or `python` with a
`.python-version` file naming a full `X.Y.Z`; the variant suffix (`-slim`) is kept. `pip install`
arguments are pinned to the version recorded in a lock file or installed in the current
environment. It is unsafe: the image or package version may differ from what was last validated.
"""
import re

from mllint.knowledge import deploy as DK
from mllint.rule import ConfigRule, RuleMeta

_ML_BASE_RE = re.compile(r"pytorch|tensorflow|nvidia|cuda|jupyter|huggingface|sagemaker|vertex|deeplearning|"
                         r"rapidsai|mlflow|ray|conda|anaconda|mambaforge|miniforge|triton|kserve|bentoml|vllm", re.I)
_ML_PACKAGES = {"torch", "torchvision", "tensorflow", "tensorflow-cpu", "keras", "scikit-learn", "sklearn", "xgboost",
                "lightgbm", "catboost", "transformers", "datasets", "mlflow", "onnxruntime", "onnxruntime-gpu",
                "jax", "jaxlib", "pytorch-lightning", "lightning", "sentence-transformers", "spacy", "kserve",
                "mlserver", "bentoml", "vllm", "seldon-core", "accelerate", "diffusers", "ultralytics", "optuna",
                "evidently", "wandb", "pandas", "numpy", "scipy", "statsmodels", "prophet", "timm", "peft", "joblib"}
_SKIP_PACKAGES = {"pip", "setuptools", "wheel", "pipenv", "poetry", "uv", "pip-tools", "virtualenv"}
_FLOATING_MAJOR = re.compile(r"^v?\d{1,2}(-[a-z][a-z0-9.-]*)?$", re.I)  # `3`, `v2-slim`; not a date or build number
_PIP_RE = re.compile(r"(?:^|[\s;&|(])(?:python[\d.]*\s+-m\s+)?(?:uv\s+)?pip[\d.]*\s+install\b(?P<rest>[^;&|]*)")
_OPTS_WITH_VALUE = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--target", "-t", "--prefix",
                    "--root", "--trusted-host", "--cache-dir", "--platform", "--python-version", "--implementation",
                    "--abi", "--only-binary", "--no-binary", "--progress-bar", "--src", "--timeout", "--retries",
                    "--python", "--log", "--index-strategy", "--resolution",
                    "--prerelease", "--torch-backend", "--python-platform", "--index", "--default-index", "--proxy", "--cert", "--client-cert", "--upgrade-strategy", "--config-settings"}


def _split_image(ref: str) -> tuple:
    """-> (name, tag or None, digest or None)."""
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        name_last, tag = last.split(":", 1)
        return ref[: len(ref) - len(last)] + name_last, tag, digest
    return ref, None, digest


class DockerfileUnpinnedBase(ConfigRule):
    meta = RuleMeta(code="ML0308", level="warning", precision="high", tags=("reproducibility", "docker"),
                    fix="unsafe", config_kinds=("dockerfile",))

    def check_config(self, doc, project):
        if DK.is_test(project, doc.path):
            return
        df = doc.data
        lines = doc.text.splitlines()
        args: dict = {}
        stages: set = set()
        ml_image = False
        for ins in df.instructions:
            if ins.keyword == "ARG":
                m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*[\"']?([^\"'\s]+)", ins.args)
                if m:
                    args.setdefault(m.group(1), m.group(2))
            if ins.keyword != "FROM":
                continue
            toks = [t for t in ins.args.split() if not t.startswith("--")]
            if not toks:
                continue
            image = toks[0]
            if len(toks) >= 3 and toks[1].lower() == "as":
                alias = toks[2].lower()
            else:
                alias = None
            resolved = self._resolve(image, args)
            if _ML_BASE_RE.search(resolved or image):
                ml_image = True
            if resolved is None or resolved.lower() in stages or resolved.lower() == "scratch":
                pass
            else:
                name, tag, digest = _split_image(resolved)
                if not digest:
                    if tag is None:
                        yield self.finding(doc, ins.line, f"base image `{resolved}` has no tag: it follows `latest`; "
                                                          f"pin a full version tag or a digest")
                    elif tag.lower() == "latest":
                        yield self.finding(doc, ins.line, f"base image `{resolved}` uses `:latest`; pin a full "
                                                          f"version tag or a digest")
                    elif _FLOATING_MAJOR.match(tag):
                        yield self.finding(doc, ins.line, f"base image `{resolved}` floats on major version `{tag}`; "
                                                          f"pin a full version tag or a digest")
            if alias:
                stages.add(alias)
        yield from self._pip(doc, project, lines, ml_image)

    @staticmethod
    def _resolve(image: str, args: dict):
        if "$" not in image:
            return image

        def sub(m):
            name = m.group(1) or m.group(2)
            if name not in args:
                raise KeyError(name)
            return args[name]
        try:
            return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", sub, image)
        except KeyError:
            return None

    def _pip(self, doc, project, lines, ml_image):
        runs = doc.data.of("RUN")
        found = []  # (line, [packages])
        for ins in runs:
            for m in _PIP_RE.finditer(ins.args):
                pkgs = self._unpinned(m.group("rest"))
                if pkgs is None:
                    continue
                for p in pkgs:
                    base = re.split(r"[\[<>=!~ ]", p, 1)[0].lower().replace("_", "-")
                    if base in _ML_PACKAGES:
                        ml_image = True
                    found.append((self._line_of(lines, ins, p), p))
        if not ml_image and not self._runs_ml(doc, project):
            return
        by_line: dict = {}
        for line, p in found:
            by_line.setdefault(line, []).append(p)
        for line, pkgs in sorted(by_line.items()):
            names = ", ".join(f"`{p}`" for p in pkgs)
            yield self.finding(doc, line, f"`pip install` of {names} without a version in a training/serving "
                                          f"image; pin versions (`pkg==1.2.3`) or install from a locked "
                                          f"requirements file")

    @staticmethod
    def _unpinned(rest: str):
        toks = rest.split()
        out = []
        skip = False
        for t in toks:
            if skip:
                skip = False
                continue
            if t in ("-r", "--requirement", "-c", "--constraint"):
                return None  # a requirements/constraints file governs versions
            if t.startswith(("--requirement=", "--constraint=", "-r", "-c")) and not t.startswith("--"):
                return None
            if t.startswith(("--requirement=", "--constraint=")):
                return None
            if t in _OPTS_WITH_VALUE:
                skip = True
                continue
            if t.startswith("-"):
                continue
            if t in ("\\", "&&") or t.startswith("#"):
                break
            t = t.strip("\"'")
            if not t or "$" in t or "/" in t or t.startswith(".") or "://" in t or "@" in t or t.endswith(
                    (".whl", ".tar.gz", ".zip")):
                continue
            name = re.split(r"[\[<>=!~;]", t, 1)[0]
            if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", name):
                continue
            if re.search(r"[<>=!~]", t):
                continue  # any version constraint
            if name.lower() in _SKIP_PACKAGES:
                continue
            out.append(t)
        return out

    @staticmethod
    def _line_of(lines, ins, pkg):
        rx = re.compile(r"(^|[\s\"'])" + re.escape(pkg) + r"($|[\s\"'\\;&])")
        for n in range(ins.line, min(ins.end_line, len(lines)) + 1):
            text = lines[n - 1]
            if text.lstrip().startswith("#"):
                continue
            if rx.search(text):
                return n
        return ins.line

    @staticmethod
    def _runs_ml(doc, project):
        if any(d is doc for d in DK.model_serving_configs(project)):
            return True
        for ep in project.training_entrypoints:
            if ep.source and ep.source.split(":", 1)[0] == doc.path:
                return True
        return False
