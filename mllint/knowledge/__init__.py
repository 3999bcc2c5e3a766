"""Shared API knowledge, keyed by qualified name, so rules never match spellings.

Domain tables live in sibling modules (``training``, ``serving``, ``deploy``); this module holds
the matching helpers.  A qualified name is what ``mllint.summary`` resolved through the
imports: ``import sklearn.model_selection as ms; ms.train_test_split`` ->
``sklearn.model_selection.train_test_split``.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Optional

def in_packages(q: str, names) -> bool:
    """Is the dotted name ``q`` one of ``names`` or inside one (``a.b.c`` is inside ``a`` and ``a.b``)?
    ``names`` is a set: the check is a lookup per dotted prefix of ``q``, not a scan of ``names``."""
    if q in names:
        return True
    i = q.find(".")
    while i > 0:
        if q[:i] in names:
            return True
        i = q.find(".", i + 1)
    return False


# Public re-exports that code may import from a private or alternative path.
_PREFIX_ALIASES = (
    ("tensorflow.keras.", "keras."),
    ("tf_keras.", "keras."),
    ("pytorch_lightning.", "lightning.pytorch."),
    ("sklearn.cross_validation.", "sklearn.model_selection."),
    # transformers' trainer classes imported from their defining modules
    ("transformers.trainer.", "transformers."),
    ("transformers.trainer_seq2seq.", "transformers."),
    ("transformers.training_args.", "transformers."),
    ("transformers.training_args_seq2seq.", "transformers."),
)


@lru_cache(maxsize=65536)
def canonical(qualname: Optional[str]) -> str:
    """Normalise a qualified name: drop private submodules (``sklearn.model_selection._split.X`` ->
    ``sklearn.model_selection.X``) and map known re-export prefixes."""
    if not qualname:
        return ""
    q = qualname
    if "._" in q:
        parts = q.split(".")
        keep = [p for i, p in enumerate(parts) if not (p.startswith("_") and not p.startswith("__") and 0 < i < len(parts) - 1)]
        q = ".".join(keep)
    for a, b in _PREFIX_ALIASES:
        if a and q.startswith(a):
            q = b + q[len(a):]
    return q


def in_table(qualname: Optional[str], table: Iterable[str]) -> bool:
    if not qualname:
        return False
    q = canonical(qualname)
    return q in table or qualname in table


def last(qualname: Optional[str]) -> str:
    return (qualname or "").rsplit(".", 1)[-1]


def root_package(qualname: Optional[str]) -> str:
    return (qualname or "").split(".", 1)[0]


def matches_any(qualname: Optional[str], patterns: Iterable[str]) -> bool:
    """Patterns: exact dotted names, or 'pkg.*' prefixes, or '*.Name' suffixes."""
    if not qualname:
        return False
    q = canonical(qualname)
    for p in patterns:
        if p.endswith(".*"):
            if q.startswith(p[:-1]) or q == p[:-2]:
                return True
        elif p.startswith("*."):
            if q.endswith(p[1:]):
                return True
        elif q == p or qualname == p:
            return True
    return False


VERSION_LIKE = re.compile(
    r"(version|ver\b|sha|commit|run_id|runid|run-id|git|rev|revision|build|tag|timestamp|date|datetime|"
    r"time|now|today|utc|uuid|hash|digest|epoch|release|GITHUB_SHA|CI_COMMIT|BUILD_ID|BUILD_NUMBER|"
    r"experiment|exp_id|job_id|\bv\d+)", re.I)


def is_test_path(path: str) -> bool:
    """A test file: under a ``tests/`` or ``test/`` folder (or ``tests_*``/``*_tests``, such as
    ``unit_tests/``), ``test_*.py``, ``*_test.py`` or a ``conftest.py``.  Tests build synthetic data
    and toy models on purpose: the ML rules judge the pipeline, not its tests."""
    p = "/" + path
    if "/tests/" in p or "/test/" in p or path.rsplit("/", 1)[-1].startswith("test_") or \
            path.endswith("_test.py") or "/conftest.py" in p:
        return True
    return "tests" in p and _TEST_DIR.search(p) is not None


_TEST_DIR = re.compile(r"/(?:tests_[^/]+|[^/]+_tests)/")
