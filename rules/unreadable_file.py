"""A file mllint could not read or parse.

## What it does
Reports files that could not be analysed: syntax errors (including Python 2 code), notebooks that
are not valid nbformat 4 JSON or have cells that do not parse, files that are not UTF-8 or are
binary, invalid YAML or TOML, unreadable files and broken symlinks. The rest of the scan goes on;
the same problem is also listed as a SARIF tool-execution notification.

## Why is this bad?
Every checkpoint review assumes the code was read. A file mllint cannot parse is a file none of
the other rules looked at, so its problems stay hidden; the build that runs it will often fail too.

## Example
```python
print "accuracy", acc
```

## Use instead
```python
print("accuracy", acc)
```

## Known limits
Helm and Jinja templates (YAML files containing `{{` or `{%`) are not parsed and not reported.
"""
from mllint.rule import Rule, RuleMeta


class UnreadableFile(Rule):
    meta = RuleMeta(code="ML0000", level="error", precision="very-high", tags=("parse-error",))
