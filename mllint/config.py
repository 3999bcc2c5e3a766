"""Settings: ``[tool.mllint]`` in the nearest pyproject.toml, or ``mllint.toml``/``.mllint.toml``;
CLI flags override.  Unknown keys and bad values are errors (exit 2) naming the key."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
    import tomli as tomllib  # type: ignore


class ConfigError(Exception):
    pass


LIST_KEYS = {"select", "ignore", "extend-select", "exclude", "extend-exclude", "extend-ignore"}
DICT_KEYS = {"per-file-ignores", "extend-per-file-ignores"}
OTHER_KEYS = {"profile", "respect-gitignore", "force-exclude", "cache-dir", "jobs", "extend", "rules",
              "torch-version", "sarif-category"}
KNOWN_KEYS = LIST_KEYS | DICT_KEYS | OTHER_KEYS


@dataclass
class Settings:
    root: str
    select: Optional[list] = None
    ignore: list = field(default_factory=list)
    extend_select: list = field(default_factory=list)
    per_file_ignores: dict = field(default_factory=dict)
    exclude: list = field(default_factory=list)
    extend_exclude: list = field(default_factory=list)
    respect_gitignore: bool = True
    force_exclude: bool = False
    profile: Optional[str] = None  # None: automatic
    rule_options: dict = field(default_factory=dict)  # rule code -> {option: value}
    cache_dir: Optional[str] = None
    jobs: int = 0
    config_path: Optional[str] = None
    sarif_category: Optional[str] = None

    def excludes(self) -> list:
        return list(self.exclude) + list(self.extend_exclude)

    def fingerprint(self) -> str:
        """What affects per-file results (for the cache key)."""
        from mllint._hash import blake2b
        import json

        data = json.dumps({"rules": self.rule_options}, sort_keys=True, default=str)
        return blake2b(data.encode(), digest_size=8).hexdigest()


def find_config(start: str) -> Optional[str]:
    cur = os.path.abspath(start)
    if not os.path.isdir(cur):
        cur = os.path.dirname(cur)
    while True:
        for name in (".mllint.toml", "mllint.toml"):
            p = os.path.join(cur, name)
            if os.path.isfile(p):
                return p
        p = os.path.join(cur, "pyproject.toml")
        if os.path.isfile(p):
            try:
                with open(p, "rb") as fh:
                    data = tomllib.load(fh)
                if isinstance(data.get("tool"), dict) and "mllint" in data["tool"]:
                    return p
            except (OSError, ValueError, RecursionError):  # unreadable, not UTF-8, invalid or too deep
                pass
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def read_config_table(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: {exc}")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8")
    except RecursionError:
        raise ConfigError(f"invalid TOML in {path}: nested too deeply")
    if os.path.basename(path) == "pyproject.toml":
        table = (data.get("tool") or {}).get("mllint") or {}
    else:
        table = data.get("tool", {}).get("mllint", data) if "tool" in data else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.mllint] must be a table")
    if "extend" in table:
        base_path = os.path.join(os.path.dirname(path), str(table["extend"]))
        base = read_config_table(base_path)
        merged = dict(base)
        merged.update({k: v for k, v in table.items() if k != "extend"})
        return merged
    return table


def validate(table: dict, origin: str) -> dict:
    from mllint import registry

    out: dict = {}
    for key, value in table.items():
        if key not in KNOWN_KEYS:
            raise ConfigError(f"{origin}: unknown key `{key}` in [tool.mllint]")
        if key in LIST_KEYS:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{origin}: `{key}` must be a list of strings")
            if key in ("select", "ignore", "extend-select", "extend-ignore"):
                for v in value:
                    try:
                        registry.expand_selector(v)
                    except registry.RuleLoadError as exc:
                        raise ConfigError(f"{origin}: `{key}`: {exc}")
        elif key in DICT_KEYS:
            if not isinstance(value, dict) or not all(
                    isinstance(v, list) and all(isinstance(x, str) for x in v) for v in value.values()):
                raise ConfigError(f"{origin}: `{key}` must map glob patterns to lists of rule selectors")
            for v in value.values():
                for sel in v:
                    try:
                        registry.expand_selector(sel)
                    except registry.RuleLoadError as exc:
                        raise ConfigError(f"{origin}: `{key}`: {exc}")
        elif key == "profile":
            if value not in ("poc", "production", "strict"):
                raise ConfigError(f"{origin}: `profile` must be one of poc, production, strict (got {value!r})")
        elif key in ("respect-gitignore", "force-exclude"):
            if not isinstance(value, bool):
                raise ConfigError(f"{origin}: `{key}` must be true or false")
        elif key == "jobs":
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"{origin}: `jobs` must be a non-negative integer")
        elif key in ("cache-dir", "torch-version", "sarif-category"):
            if not isinstance(value, str):
                raise ConfigError(f"{origin}: `{key}` must be a string")
        elif key == "rules":
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: [tool.mllint.rules] must be a table of rule tables")
            opts = {}
            for rk, rv in value.items():
                rule = registry.lookup(rk)
                if rule is None:
                    raise ConfigError(f"{origin}: [tool.mllint.rules.{rk}]: unknown rule")
                if not isinstance(rv, dict):
                    raise ConfigError(f"{origin}: [tool.mllint.rules.{rk}] must be a table")
                for ok, ov in rv.items():
                    if ok not in rule.meta.options:
                        known = ", ".join(sorted(rule.meta.options)) or "none"
                        raise ConfigError(f"{origin}: unknown option `{ok}` for rule {rule.name} (known: {known})")
                    default = rule.meta.options[ok]
                    if default is not None and not isinstance(ov, type(default)):
                        raise ConfigError(f"{origin}: option `{ok}` of rule {rule.name} must be {type(default).__name__}")
                opts[rule.meta.code] = dict(rv)
            value = opts
        out[key] = value
    return out


def parse_override(text: str) -> dict:
    """``--config "select = ['ML03']"`` style overrides."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {text!r} is neither a file nor a valid TOML `key = value`: {exc}")
    return data


def build_settings(root: str, table: dict, config_path: Optional[str]) -> Settings:
    s = Settings(root=root, config_path=config_path)
    apply_table(s, table)
    return s


def apply_table(s: Settings, table: dict) -> None:
    if "select" in table:
        s.select = list(table["select"])
    if "ignore" in table:
        s.ignore = list(table["ignore"])
    if "extend-ignore" in table:
        s.ignore = s.ignore + list(table["extend-ignore"])
    if "extend-select" in table:
        s.extend_select = list(table["extend-select"])
    if "per-file-ignores" in table:
        s.per_file_ignores = dict(table["per-file-ignores"])
    if "extend-per-file-ignores" in table:
        s.per_file_ignores = {**s.per_file_ignores, **table["extend-per-file-ignores"]}
    if "exclude" in table:
        s.exclude = list(table["exclude"])
    if "extend-exclude" in table:
        s.extend_exclude = list(table["extend-exclude"])
    if "respect-gitignore" in table:
        s.respect_gitignore = bool(table["respect-gitignore"])
    if "force-exclude" in table:
        s.force_exclude = bool(table["force-exclude"])
    if "profile" in table:
        s.profile = table["profile"]
    if "rules" in table:
        s.rule_options = {**s.rule_options, **table["rules"]}
    if "cache-dir" in table:
        base = os.path.dirname(s.config_path) if s.config_path else s.root
        s.cache_dir = os.path.join(base, table["cache-dir"])
    if "jobs" in table:
        s.jobs = table["jobs"]
    if "torch-version" in table:
        s.rule_options.setdefault("_project", {})["torch-version"] = table["torch-version"]
    if "sarif-category" in table:
        s.sarif_category = table["sarif-category"]


def load_settings(paths: list, root: str, *, config: tuple = (), isolated: bool = False) -> Settings:
    """Settings from the nearest config file (unless isolated), then ``--config`` values."""
    table: dict = {}
    config_path = None
    files = [c for c in config if os.path.isfile(c)]
    overrides = [c for c in config if not os.path.isfile(c)]
    if files:
        config_path = os.path.abspath(files[-1])
        table = validate(read_config_table(config_path), config_path)
    elif not isolated:
        start = paths[0] if paths else "."
        found = find_config(start)
        if found:
            config_path = found
            table = validate(read_config_table(found), found)
    for ov in overrides:
        if "=" not in ov:
            raise ConfigError(f"--config {ov!r}: no such file")
        data = parse_override(ov)
        if "tool" in data and "mllint" in data.get("tool", {}):
            data = data["tool"]["mllint"]
        table.update(validate(data, "--config"))
    return build_settings(root, table, config_path)


def glob_match(path: str, pattern: str) -> bool:
    import fnmatch

    pattern = pattern.lstrip("./") if pattern.startswith("./") else pattern
    if fnmatch.fnmatch(path, pattern):
        return True
    if "/" not in pattern:
        return fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern)
    return fnmatch.fnmatch(path, pattern.rstrip("/") + "/*")


def ignored_for_path(settings: Settings, path: str) -> set:
    from mllint import registry

    out: set = set()
    for pattern, sels in settings.per_file_ignores.items():
        if glob_match(path, pattern):
            for sel in sels:
                out |= registry.expand_selector(sel)[0]
    return out
