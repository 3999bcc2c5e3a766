"""A Dockerfile builds on a floating base image (no tag, `:latest`, a bare major) or pip-installs unpinned packages.

## What it does
Flags `FROM` lines whose image has no tag, the `latest` tag, or a floating major tag such as
`python:3`, `python:3-slim` or `nvidia/cuda:12`. Digests (`@sha256:`) are pinned; references to an
earlier build stage (`FROM builder`), `scratch`, images built from an `ARG` that cannot be
resolved (an `ARG` with a literal default is resolved), and images the repository builds itself
(a compose service with `build:` and `image:`, `docker build -t name` in a script, a CI job or a
README, and the names `docker tag` gives such a build, the `tags` of `docker/build-push-action`) stay silent, as do developer workspaces
(`.gitpod.Dockerfile`, `.devcontainer/`). In images that train or serve a
model (an ML base image, an ML package installed, or a command that starts training or serving),
also flags `RUN pip install pkg` for each package given without any version; `-r requirements.txt`,
`-c constraints.txt`, local paths and URLs are fine. A conda base or scientific packages alone
(numpy, pandas, scipy) do not make an image ML, and an image that installs test tooling (`pytest`,
a `[test]` or `[dev]` extra) is a CI test environment unless a command in it trains or serves.

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
`unpinned-ml-dependency`. Installer and build tooling (`pip`, `setuptools`, `wheel`, `packaging`,
`ninja`, `cmake`) is ignored.

## Fix safety
The fix pins a floating base tag only when the exact tag is known: the same image pinned to one
full version elsewhere in the repository (another `FROM`, a compose `image:`), or `python` with a
`.python-version` file naming a full `X.Y.Z`; the variant suffix (`-slim`) is kept. `pip install`
arguments are pinned to the version recorded in a lock file or installed in the current
environment. It is unsafe: the image or package version may differ from what was last validated.
"""
import re
import shlex
from typing import Optional

from mllint.knowledge import deploy as DK
from mllint.knowledge import packages as PK
from mllint.rule import ConfigRule, RuleMeta
from mllint.sources.config import normalise_name

_ML_BASE_RE = re.compile(r"pytorch|tensorflow|nvidia|cuda|jupyter|huggingface|sagemaker|vertex|deeplearning|"
                         r"rapidsai|mlflow|ray|triton|kserve|bentoml|vllm", re.I)
_ML_PACKAGES = {"torch", "torchvision", "tensorflow", "tensorflow-cpu", "keras", "scikit-learn", "sklearn", "xgboost",
                "lightgbm", "catboost", "transformers", "datasets", "mlflow", "onnxruntime", "onnxruntime-gpu",
                "jax", "jaxlib", "pytorch-lightning", "lightning", "sentence-transformers", "spacy", "kserve",
                "mlserver", "bentoml", "vllm", "seldon-core", "accelerate", "diffusers", "ultralytics", "optuna",
                "evidently", "wandb", "statsmodels", "prophet", "timm", "peft"}
# an image that installs test tooling is a CI test environment, not a training or serving image
_TEST_ENV_RE = re.compile(r"\bpytest\b|\[(?:[\w-]+,\s*)*(?:test|tests|testing|dev)(?:,\s*[\w-]+)*\]")
_FLOATING_MAJOR = re.compile(r"^v?\d{1,2}(-[a-z][a-z0-9.-]*)?$", re.I)  # `3`, `v2-slim`; not a date or build number
_PIP_RE = re.compile(r"(?:^|[\s;&|(])(?:python[\d.]*\s+-m\s+)?(?:uv\s+)?pip[\d.]*\s+install\b(?P<rest>[^;&|]*)")
_OPTS_WITH_VALUE = {"-e", "--editable", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--target", "-t", "--prefix",
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


_BUILDERS = ("docker", "podman", "buildah", "nerdctl")
# developer workspaces (Gitpod, dev containers, GitHub Codespaces): an editor's environment, never
# trained in or deployed
_DEV_ENV_RE = re.compile(r"(^|/)(\.gitpod\.Dockerfile|\.devcontainer/|\.codespaces?/)|(^|/)[^/]*(codespace|devcontainer)[^/]*$",
                         re.I)
# ``docker build ... -t name`` in documentation (a README's build instructions)
_DOC_BUILD_RE = re.compile(r"\b(?:docker|podman)\s+(?:buildx\s+)?build\b[^\n`]*?(?:-t|--tag)[ =]+([^\s`'\"]+)")
# ``docker tag SOURCE TARGET`` (a build given its registry name before a push)
_DOC_TAG_RE = re.compile(r"\b(?:docker|podman)\s+(?:image\s+)?tag\s+([^\s`'\"-][^\s`'\"]*)\s+([^\s`'\"]+)")


def _local_images(project) -> frozenset:
    """Names (without tag) of the images this repository builds itself: a compose service with
    both ``build:`` and ``image:``, ``docker build -t name`` (also ``buildx build``, podman and
    buildah) in a script or CI job, and the ``tags`` of a ``docker/build-push-action`` step.  A
    ``FROM`` of such an image is the repository's own layering; its base is pinned, or reported,
    in the Dockerfile that builds it."""
    if project is None:
        return frozenset()
    memo = project.__dict__.get("_ml0308_local_images")
    if memo is not None:
        return memo
    refs: list = []
    retags: list = []  # (source, target) of ``docker tag``
    commands_of = getattr(project, "_commands_of", None)
    for d in project.configs:
        data = d.data
        if d.kind in ("yaml", "params") and isinstance(data, dict) and isinstance(data.get("services"), dict):
            for svc in data["services"].values():
                if isinstance(svc, dict) and svc.get("build") and isinstance(svc.get("image"), str):
                    refs.append(svc["image"])
        if d.kind == "github-workflow" and isinstance(data, dict) and isinstance(data.get("jobs"), dict):
            for job in data["jobs"].values():
                for st in (job.get("steps") or []) if isinstance(job, dict) else []:
                    if isinstance(st, dict) and str(st.get("uses", "")).startswith("docker/build-push-action"):
                        tags = (st.get("with") or {}).get("tags") if isinstance(st.get("with"), dict) else None
                        if isinstance(tags, str):
                            env = {**DK.ci_env_constants(data.get("env")), **DK.ci_env_constants(job.get("env")),
                                   **DK.ci_env_constants(st.get("env"))}
                            tags = _GH_ENV_RE.sub(lambda m: env.get(m.group(1), m.group(0)), tags)
                            refs.extend(t for t in re.split(r"[\s,]+", tags) if t)
        if commands_of is not None and d.kind in ("shell", "github-workflow", "gitlab-ci"):
            for argv, _line in commands_of(d):
                refs.extend(_build_tags(argv))
                retags.extend(_retag(argv))
        if d.kind == "markdown" and hasattr(project, "doc_text"):
            text = project.doc_text(d) or ""
            if "build" in text:
                refs.extend(_DOC_BUILD_RE.findall(text))
                if " tag " in text:
                    retags.extend(_DOC_TAG_RE.findall(text))
    names = {_split_image(r)[0].lower() for r in refs if r and "$" not in r}
    # an image the repository builds keeps being its own under the names it is tagged with
    grew = True
    while grew:
        grew = False
        for src, dst in retags:
            if "$" not in dst and _split_image(src)[0].lower() in names and _split_image(dst)[0].lower() not in names:
                names.add(_split_image(dst)[0].lower())
                grew = True
    out = frozenset(names)
    project.__dict__["_ml0308_local_images"] = out
    return out


def _builder_args(argv, group: str, commands: tuple) -> Optional[list]:
    """The arguments of ``docker [GROUP] COMMAND ...`` (also podman, buildah, nerdctl) when COMMAND
    is one of ``commands``, else None."""
    argv = list(argv)
    if not argv or argv[0].rsplit("/", 1)[-1] not in _BUILDERS:
        return None
    rest = argv[1:]
    if rest[:1] == [group]:
        rest = rest[1:]
    if not rest or rest[0] not in commands:
        return None
    return rest[1:]


def _build_tags(argv) -> list:
    """The ``-t``/``--tag`` values of an image build command."""
    rest = _builder_args(argv, "buildx", ("build", "bud"))
    out = []
    for i, tok in enumerate(rest or ()):
        if tok in ("-t", "--tag") and i + 1 < len(rest):
            out.append(rest[i + 1])
        elif tok.startswith("--tag="):
            out.append(tok[6:])
        elif tok.startswith("-t") and len(tok) > 2 and not tok.startswith("--"):
            out.append(tok[2:])
    return out


_GH_ENV_RE = re.compile(r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _retag(argv) -> list:
    """``[(source, target)]`` of ``docker tag SOURCE TARGET`` (also ``docker image tag``)."""
    rest = _builder_args(argv, "image", ("tag",))
    pos = [t for t in rest or () if not t.startswith("-")]
    return [(pos[0], pos[1])] if len(pos) == 2 else []


class DockerfileUnpinnedBase(ConfigRule):
    meta = RuleMeta(code="ML0308", level="warning", precision="high", tags=("reproducibility", "docker"),
                    fix="unsafe", config_kinds=("dockerfile",))

    def check_config(self, doc, project):
        if DK.is_test(project, doc.path) or _DEV_ENV_RE.search(doc.path):
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
                if not digest and (tag is None or tag.lower() == "latest" or _FLOATING_MAJOR.match(tag)) and \
                        name.lower() in _local_images(project):
                    digest = "local"  # built by this repository (its own Dockerfile pins the base)
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
        if any(_TEST_ENV_RE.search(ins.args) for ins in runs) and not self._runs_ml(doc, project):
            return  # a test environment (pytest, a [test] extra): it neither trains nor serves
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
        try:
            # quoted requirements stay whole: ``"robomme @ git+https://...@<commit>"``
            toks = shlex.split(rest.split("&&", 1)[0].split(";", 1)[0], comments=True)
        except ValueError:
            toks = rest.split()
        out = []
        skip = 0
        for i, t in enumerate(toks):
            if skip:
                skip -= 1
                continue
            if i + 1 < len(toks) and toks[i + 1] == "@":
                skip = 2  # ``name @ url`` written unquoted: a direct reference, pinned by its URL
                continue
            if t in ("-r", "--requirement", "-c", "--constraint"):
                return None  # a requirements/constraints file governs versions
            if t.startswith(("--requirement=", "--constraint=", "-r", "-c")) and not t.startswith("--"):
                return None
            if t.startswith(("--requirement=", "--constraint=")):
                return None
            if t in _OPTS_WITH_VALUE:
                skip = 1
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
            if normalise_name(name) in PK.INSTALL_TOOLING:
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
