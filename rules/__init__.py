"""Built-in mllint rules, one file per rule (installed as ``mllint.rules``).

A new rule is ``rules/<snake_slug>.py`` plus ``fixtures/rules/<snake_slug>/``; nothing else to edit.
"""
