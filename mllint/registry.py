"""Rule discovery: every module in ``mllint.rules`` (the top-level ``rules/`` folder) that defines a
``Rule`` subclass with ``meta``.  Nothing is registered by hand."""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from mllint.rule import CODE_RE, PROFILES, Rule, parse_doc


class RuleLoadError(Exception):
    pass


@lru_cache(maxsize=1)
def all_rules() -> tuple:
    """All rule classes, sorted by code.  A rule module that fails to import is reported as an
    internal error by ``load_errors()`` instead of breaking every scan."""
    import mllint.rules as pkg

    found = []
    _errors.clear()
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        modname = f"{pkg.__name__}.{info.name}"
        try:
            mod = importlib.import_module(modname)
        except Exception as exc:  # a test breaks one module's import
            _errors.append(f"rule module {info.name} failed to import: {type(exc).__name__}: {exc}")
            continue
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, Rule) and obj.__module__ == modname and "meta" in vars(obj):
                obj.name = info.name.replace("_", "-")
                obj.module_name = info.name
                obj.doc = parse_doc(mod.__doc__ or "")
                found.append(obj)
    found.sort(key=lambda r: r.meta.code)
    return tuple(found)


_errors: list = []


def load_errors() -> list:
    all_rules()
    return list(_errors)


def by_code() -> dict:
    return {r.meta.code: r for r in all_rules()}


def lookup(key: str):
    """A rule by code (case-insensitive) or kebab-case name."""
    k = key.strip()
    for r in all_rules():
        if r.meta.code.lower() == k.lower() or r.name == k.lower() or r.name == k.lower().replace("_", "-"):
            return r
    return None


def expand_selector(sel: str) -> tuple:
    """-> (set of codes, exact) for a selector: ALL, a code, a code prefix, or a rule name."""
    s = sel.strip()
    if not s:
        raise RuleLoadError("empty rule selector")
    rules = all_rules()
    if s.upper() == "ALL":
        return {r.meta.code for r in rules}, False
    r = lookup(s)
    if r is not None:
        return {r.meta.code}, True
    up = s.upper()
    if up.startswith("ML") and up[2:].isdigit() and len(up) <= 6:
        codes = {r.meta.code for r in rules if r.meta.code.startswith(up)}
        # a prefix must name checkpoints that exist (ML0..ML2, ML00..ML20) even if no rule matches yet
        cp_digits = up[2:4]
        valid = len(cp_digits) < 2 or 0 <= int(cp_digits) <= 20
        if codes or (valid and len(up) < 6):
            return codes, False
    broken = "; ".join(_errors)
    raise RuleLoadError(f"unknown rule selector: {sel!r}" + (f" ({broken})" if broken else ""))


def select_rules(select, ignore=(), extend_select=(), profile: str = "production") -> list:
    """Rule classes enabled by ruff-style selection.  Rules reached only through a prefix or ALL
    are limited to ``profile``; rules named exactly are enabled whatever the profile."""
    chosen: dict = {}
    for group in (select if select is not None else ["ALL"], extend_select or []):
        for sel in group:
            codes, exact = expand_selector(sel)
            for c in codes:
                chosen[c] = chosen.get(c, False) or exact
    for sel in ignore or []:
        codes, _ = expand_selector(sel)
        for c in codes:
            chosen.pop(c, None)
    limit = PROFILES.index(profile) if profile in PROFILES else len(PROFILES) - 1
    out = []
    for r in all_rules():
        if r.meta.code not in chosen:
            continue
        exact = chosen[r.meta.code]
        if not exact and PROFILES.index(r.meta.profile) > limit:
            continue
        out.append(r)
    return out


def validate_rule(r) -> list:
    """Contract problems of one rule class (used by tests and `mllint rules --check`)."""
    problems = []
    m = CODE_RE.match(r.meta.code)
    if not m:
        problems.append(f"{r.__name__}: code {r.meta.code!r} is not ML + 2-digit checkpoint + 2-digit serial")
    elif not (0 <= int(m.group(1)) <= 20):
        problems.append(f"{r.meta.code}: checkpoint out of range")
    if r.meta.level not in ("note", "warning", "error"):
        problems.append(f"{r.meta.code}: bad level {r.meta.level!r}")
    if r.meta.profile not in PROFILES:
        problems.append(f"{r.meta.code}: bad profile {r.meta.profile!r}")
    if r.meta.precision not in ("very-high", "high", "medium", "low"):
        problems.append(f"{r.meta.code}: bad precision {r.meta.precision!r}")
    return problems
