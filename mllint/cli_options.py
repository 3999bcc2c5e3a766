"""Options shared by the commands that scan (`check`, `review`); click only, cheap to import."""
from __future__ import annotations

import click


def scan_options(profile_help: str):
    """Decorator adding the selection, config and file-discovery options."""

    def decorate(f):
        opts = [
            click.option("--select", multiple=True, help="Rule codes, prefixes (ML03), names or ALL to enable."),
            click.option("--ignore", multiple=True, help="Rule codes, prefixes or names to disable."),
            click.option("--extend-select", multiple=True, help="Enable these in addition to the selected rules."),
            click.option("--per-file-ignores", multiple=True, help="PATTERN:CODES, e.g. 'tests/*:ML03'."),
            click.option("--config", "config", multiple=True,
                         help="A config file, or a TOML `key = value` override (repeatable)."),
            click.option("--isolated", is_flag=True, help="Ignore all configuration files."),
            click.option("--exclude", multiple=True, help="Paths/globs to exclude (replaces the configured list)."),
            click.option("--extend-exclude", multiple=True, help="Paths/globs to exclude in addition."),
            click.option("--force-exclude", is_flag=True,
                         help="Apply excludes even to paths named on the command line."),
            click.option("--respect-gitignore/--no-respect-gitignore", default=None, help="Honour .gitignore files."),
            click.option("--profile", type=click.Choice(["poc", "production", "strict"]), default=None,
                         help=profile_help),
        ]
        for o in reversed(opts):
            f = o(f)
        return f

    return decorate
