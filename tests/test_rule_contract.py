"""The contract every rule keeps: code, checkpoint, docs headings, examples that fire and stay clean."""
import ast
import os
import re

import pytest

from mllint import registry
from mllint.rule import REQUIRED_HEADINGS, ConfigRule, FileRule, ProjectRule

from conftest import FIXTURES

RULES = list(registry.all_rules())


def test_rules_load_without_errors():
    assert registry.load_errors() == []
    assert len(RULES) >= 2


def test_codes_and_names_unique():
    codes = [r.meta.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(codes) == len(set(codes))
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_contract(rule):
    assert registry.validate_rule(rule) == []
    m = re.match(r"^ML(\d{2})(\d{2})$", rule.meta.code)
    assert m
    cp = int(m.group(1))
    assert rule.meta.checkpoint == cp
    if rule.meta.code != "ML0000":
        assert 1 <= cp <= 20
        assert issubclass(rule, (FileRule, ConfigRule, ProjectRule))
    # kebab-case name derived from the file; class is the PascalCase slug
    assert re.match(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", rule.name)
    assert rule.__name__.lower() == rule.name.replace("-", "").lower()
    doc = rule.doc
    assert doc.summary and len(doc.summary) <= 200
    for heading in REQUIRED_HEADINGS:
        assert doc.section(heading).strip(), f"{rule.name}: missing section '## {heading}'"
    why = doc.section("Why is this bad?")
    if cp:
        assert re.search(rf"[Cc]heckpoints? (\d+/)?{cp}\b|checkpoint {cp}\b|[Cc]heckpoints? \d+/{cp}\b", why), \
            f"{rule.name}: 'Why is this bad?' must name checkpoint {cp}"
    if rule.meta.fix != "none":
        assert doc.section("Fix safety").strip(), f"{rule.name}: fixable rules need a '## Fix safety' section"
    if rule.meta.config_kinds:
        assert issubclass(rule, ConfigRule)
    assert os.path.isdir(os.path.join(FIXTURES, "rules", rule.module_name))


def _python_example_rules():
    out = []
    for r in RULES:
        if r.meta.code == "ML0000" or r.meta.profile == "production":
            continue  # repository-level absence rules need a whole repository, see their fixtures
        if not (issubclass(r, FileRule) or issubclass(r, ProjectRule)):
            continue
        if "```python" in r.doc.section("Example"):
            out.append(r)
    return out


@pytest.mark.parametrize("rule", _python_example_rules(), ids=lambda r: r.name)
def test_doc_examples(rule, tmp_path):
    """Python *Example* blocks fire; *Use instead* blocks stay clean (each block is a file)."""
    from mllint.config import Settings
    from mllint.engine import scan

    ex = rule.doc.code_blocks("Example", "python")
    good = rule.doc.code_blocks("Use instead", "python")
    assert ex and good
    (tmp_path / ".git").mkdir()
    for i, block in enumerate(ex):
        ast.parse(block)
        (tmp_path / f"bad_{i}.py").write_text(block)
    for i, block in enumerate(good):
        ast.parse(block)
        (tmp_path / f"good_{i}.py").write_text(block)
    s = Settings(root=str(tmp_path), select=[rule.meta.code], jobs=1)
    res = scan([str(tmp_path)], s)
    fired = {f.location.path for f in res.findings if f.code == rule.meta.code}
    for i in range(len(ex)):
        assert f"bad_{i}.py" in fired, f"{rule.name}: Example block {i} does not fire"
    for i in range(len(good)):
        assert f"good_{i}.py" not in fired, f"{rule.name}: Use-instead block {i} fires"


def test_a_rule_module_that_fails_to_import_is_named_not_hidden(monkeypatch):
    import importlib

    real = importlib.import_module

    def broken(name, *a, **k):
        if name.endswith(".unversioned_data_path"):
            raise SyntaxError("unmatched ')'")
        return real(name, *a, **k)

    monkeypatch.setattr(registry.importlib, "import_module", broken)
    registry.all_rules.cache_clear()
    try:
        assert any("unversioned_data_path failed to import: SyntaxError" in e for e in registry.load_errors())
        with pytest.raises(registry.RuleLoadError, match="unversioned_data_path failed to import"):
            registry.expand_selector("ML0304")
    finally:
        monkeypatch.undo()
        registry.all_rules.cache_clear()
    assert registry.lookup("ML0304") is not None and registry.load_errors() == []
