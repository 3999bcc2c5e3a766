"""A fast text pre-scan of the Python files, before the per-file walk.

It finds the modules that can hold serving request-path code: modules that mention a serving
framework or a serving handler signature, plus every project module they import, transitively
(a function on the request path can only live in a module the serving module imports). Expensive
per-function serving analyses run only there.  Imports are read with a regular expression, so
the import graph is an over-approximation, which is the safe direction: it can only add modules.
"""
from __future__ import annotations

import re

from mllint.knowledge import in_packages

# Serving frameworks (by imported module) and handler signatures that make a module a serving seed.
SERVING_MODULES = ("fastapi", "flask", "starlette", "bentoml", "kserve", "mlserver", "litestar", "sanic", "tornado",
                   "aiohttp", "quart", "falcon", "seldon_core", "ts.torch_handler", "functions_framework",
                   "triton_python_backend_utils", "ray.serve", "grpc", "robyn", "mlflow.pyfunc", "sagemaker_inference",
                   "azureml", "azure.functions", "aws_lambda_powertools")
_HANDLER_DEF = re.compile(r"def[ \t]+(?:model_fn|input_fn|predict_fn|output_fn|transform_fn|handler|lambda_handler)"
                          r"[ \t]*\(")
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([^\n#]*)|import[ \t]+([^\n#]+))", re.M)


_SERVING_SET = frozenset(SERVING_MODULES)


def is_serving_seed(text: str, imports: set) -> bool:
    if any(in_packages(imp, _SERVING_SET) for imp in imports):
        return True
    return "PythonModel" in text or ("def" in text and _HANDLER_DEF.search(text) is not None)


_IMPORT_LINE = re.compile(r"[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([^\n#]*)|import[ \t]+([^\n#]+))")


def _import_matches(text: str):
    """``_IMPORT.finditer(text)``, found by looking only at the lines that contain "import" (a
    multi-line ``^`` pattern is tried at every position of the text: 4x slower)."""
    find = text.find
    pos = find("import")
    while pos != -1:
        start = text.rfind("\n", 0, pos) + 1
        end = find("\n", pos)
        if end == -1:
            end = len(text)
        m = _IMPORT_LINE.match(text, start, end)
        if m is not None:
            yield m
        pos = find("import", end)


def _imports(text: str, module: str, is_pkg: bool) -> set:
    out = set()
    for m in _import_matches(text):
        if m.group(3):
            for part in m.group(3).split(","):
                name = part.strip().split(" as ")[0].strip()
                if name:
                    out.add(name)
            continue
        mod = m.group(1) or ""
        dots = len(mod) - len(mod.lstrip("."))
        mod = mod.lstrip(".")
        if dots:
            base = module.split(".")
            if not is_pkg:
                base = base[:-1]
            base = base[: len(base) - (dots - 1)] if dots - 1 <= len(base) else []
            mod = ".".join([p for p in base if p] + ([mod] if mod else []))
        if mod:
            out.add(mod)
        for part in (m.group(2) or "").split(","):
            name = part.strip().strip("()").split(" as ")[0].strip()
            if name and name.isidentifier():
                out.add(f"{mod}.{name}" if mod else name)
    return out


def serving_candidates(files: list, modules: dict, read) -> set:
    """Paths of modules that can hold request-path code.  ``read(df)`` returns the text or None."""
    by_name: dict = {}
    for path, (name, _) in modules.items():
        by_name.setdefault(name, []).append(path)
    imports: dict = {}
    seeds = set()
    for df in files:
        if df.kind not in ("python", "notebook"):
            continue
        text = read(df)
        if text is None:
            seeds.add(df.path)  # unreadable here: do not skip anything for it
            continue
        name, is_pkg = modules.get(df.path, ("", False))
        imports[df.path] = _imports(text, name, is_pkg) if "import" in text else set()
        if is_serving_seed(text, imports[df.path]):
            seeds.add(df.path)
    if not seeds:
        return set()
    out = set()
    stack = list(seeds)
    while stack:
        path = stack.pop()
        if path in out:
            continue
        out.add(path)
        if path not in imports:
            continue
        here = path.rsplit("/", 1)[0] if "/" in path else ""
        for imp in imports[path]:
            parts = imp.split(".")
            # the module itself, its packages, and a sibling script module of the same name
            for i in range(len(parts), 0, -1):
                for p in by_name.get(".".join(parts[:i]), ()):
                    if p not in out:
                        stack.append(p)
            for p in by_name.get(parts[-1], ()):
                there = p.rsplit("/", 1)[0] if "/" in p else ""
                if there == here and p not in out:
                    stack.append(p)
    return out
