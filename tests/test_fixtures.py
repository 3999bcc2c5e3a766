"""Every rule's fixture folder: expectations on the offending lines, exhaustive both ways."""
import os

import pytest

from mllint import registry
from mllint.testing import describe_mismatch, run_fixture

from conftest import FIXTURES

RULES = [r for r in registry.all_rules()]


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_fixture(rule):
    folder = os.path.join(FIXTURES, "rules", rule.module_name)
    assert os.path.isdir(folder), f"rule {rule.meta.code} has no fixtures/rules/{rule.module_name}/"
    actual, exp, result = run_fixture(folder, [rule.meta.code])
    assert exp.expected, f"fixtures/rules/{rule.module_name} has no `# expect: {rule.meta.code}` marker"
    problems = describe_mismatch(actual, exp, result)
    assert not problems, problems
    assert exp.ok or rule.meta.code == "ML0000", f"fixtures/rules/{rule.module_name} documents no trap (`# ok: {rule.meta.code}`)"
