"""Config loaders: YAML (with a line for every key), TOML, requirements, Dockerfile, shell, Markdown.

Each returns a list of ``ConfigDocument``.  Errors raise ``Unreadable`` (the engine reports ML0000).
"""
from __future__ import annotations

import re
import shlex
from array import array
from sys import intern as _intern
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple, Optional

from mllint.sources import ConfigDocument, Unreadable, decode_text


# --------------------------------------------------------------------------------------- YAML
class YMap(dict):
    """A YAML mapping that remembers where each key and value sits (1-based lines).

    The lines are one ``array`` of (key line, value line) pairs in the order of the keys, not two
    dicts per mapping: kserve's 12,600 mappings took 7.4 MB so.  A key looked up in a large
    mapping is found through an index built on the first lookup."""

    __slots__ = ("line", "_lines", "_index")

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.line = 1
        self._lines = _NO_LINES
        self._index = None

    def _pos(self, key: Any) -> int:
        """The key's position in the line pairs, or -1 (a key added after loading has none)."""
        if len(self._lines) != 2 * len(self):
            return -1  # changed since it was loaded: no line is trusted
        if len(self) <= 16:
            for i, k in enumerate(self):
                if k == key:
                    return i
            return -1
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self)}
        return self._index.get(key, -1)

    def line_of(self, key: Any, default: Optional[int] = None) -> int:
        i = self._pos(key) if key in self else -1
        return self._lines[2 * i] if i >= 0 else (default if default is not None else self.line)

    def value_line(self, key: Any, default: Optional[int] = None) -> int:
        """The line where the key's value starts (a block value starts below its key)."""
        i = self._pos(key) if key in self else -1
        return self._lines[2 * i + 1] if i >= 0 else (default if default is not None else self.line)

    def _set_lines(self, key_lines: dict, value_lines: dict) -> None:
        self._lines = array("I", [n for k in self for n in (key_lines[k], value_lines[k])]) if self else _NO_LINES

    def __reduce__(self):
        return (_rebuild_ymap, (dict(self), self.line, self._lines))


_NO_LINES = array("I")


def _rebuild_ymap(items, line, lines):
    m = YMap(items)
    m.line, m._lines = line, lines
    return m


class YList(list):
    __slots__ = ("line", "item_lines")

    def __init__(self, *a):
        super().__init__(*a)
        self.line = 1
        self.item_lines = array("I")

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line

    def __reduce__(self):
        return (_rebuild_ylist, (list(self), self.line, self.item_lines))


def _rebuild_ylist(items, line, item_lines):
    l = YList(items)
    l.line, l.item_lines = line, item_lines
    return l


_yaml_loader = None


def _loader():
    global _yaml_loader
    if _yaml_loader is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        _yaml_loader = (yaml, base)
    return _yaml_loader


def _convert(node, yaml, constructor, memo=None) -> Any:
    """Composed node -> YMap/YList/scalar.  Aliased nodes are converted once (``memo``), so
    alias-heavy documents ("billion laughs") stay linear."""
    if memo is None:
        memo = {}
    key_id = id(node)
    if key_id in memo:
        return memo[key_id]
    out = _convert_node(node, yaml, constructor, memo)
    memo[key_id] = out
    return out


_STR_TAG = "tag:yaml.org,2002:str"


def _convert_node(node, yaml, constructor, memo) -> Any:
    if isinstance(node, yaml.MappingNode):
        m = YMap()
        m.line = node.start_mark.line + 1
        key_lines: dict = {}
        value_lines: dict = {}
        for knode, vnode in node.value:
            if knode.tag == "tag:yaml.org,2002:merge":
                merged = _convert(vnode, yaml, constructor, memo)
                for item in merged if isinstance(merged, list) else [merged]:
                    if isinstance(item, YMap):
                        for k, v in item.items():
                            m.setdefault(k, v)
                            key_lines.setdefault(k, item.line_of(k))
                            value_lines.setdefault(k, item.value_line(k))
                continue
            key = _convert(knode, yaml, constructor, memo)
            if key.__class__ is str:
                key = _intern(key)  # the same few key names in every manifest
            else:
                try:
                    hash(key)
                except TypeError:
                    key = str(key)
            m[key] = _convert(vnode, yaml, constructor, memo)
            key_lines[key] = knode.start_mark.line + 1
            value_lines[key] = vnode.start_mark.line + 1
        m._set_lines(key_lines, value_lines)
        return m
    if isinstance(node, yaml.SequenceNode):
        l = YList()
        l.line = node.start_mark.line + 1
        for item in node.value:
            l.append(_convert(item, yaml, constructor, memo))
            l.item_lines.append(item.start_mark.line + 1)
        return l
    # scalar
    if node.tag == _STR_TAG:
        return node.value  # what the constructor returns for a str scalar, without its dispatch
    try:
        return constructor.construct_object(node, deep=True)
    except Exception:
        return node.value


# Documents no rule reads, and which are huge in real repositories (multi-megabyte CRD schemas):
# blanked before composing (line numbers stay valid).
SKIPPED_K8S_KINDS = ("CustomResourceDefinition",)
_DOC_SEP = re.compile(r"^---[ \t]*(?:#.*)?$", re.M)
_TOP_KIND = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z]+)", re.M)


def _blank_skipped_documents(text: str) -> str:
    if not any(k in text for k in SKIPPED_K8S_KINDS):
        return text
    out, last = [], 0
    bounds = [m.start() for m in _DOC_SEP.finditer(text)] + [len(text)]
    for b in bounds:
        chunk = text[last:b]
        m = _TOP_KIND.search(chunk)
        if m and m.group(1) in SKIPPED_K8S_KINDS:
            first_nl = chunk.find("\n") if chunk.startswith("---") else -1
            keep = chunk[: first_nl + 1] if first_nl >= 0 else ""
            chunk = keep + "\n" * chunk[len(keep):].count("\n")
        out.append(chunk)
        last = b
    return "".join(out)


def load_yaml_documents(path: str, text: str) -> list:
    """Compose every document of a YAML stream, with marks -> list of (data, first line)."""
    text = _blank_skipped_documents(text)
    yaml, Loader = _loader()
    loader = Loader(text)
    docs = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            docs.append((_convert(node, yaml, loader), node.start_mark.line + 1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        ctx_mark = getattr(exc, "context_mark", None)
        if mark is not None and ctx_mark is not None and mark.line >= len(text.splitlines()):
            mark = ctx_mark  # the parser ran to the end of the file: point at the open construct
        line = mark.line + 1 if mark is not None else 1
        col = mark.column + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise Unreadable(f"invalid YAML: {problem}", line, col)
    except RecursionError:
        raise Unreadable("invalid YAML: nesting too deep")
    finally:
        try:
            loader.dispose()
        except Exception:
            pass
    return docs


K8S_KINDS_SERVING = {"Deployment", "StatefulSet", "InferenceService", "SeldonDeployment", "Rollout",
                     "ServingRuntime", "ClusterServingRuntime", "RayService", "Service"}


def classify_yaml_doc(path: str, data: Any, hint: str) -> tuple:
    """-> (kind, subkind).  ``hint`` is the kind discovery gave from the file name."""
    if hint in ("github-workflow", "gitlab-ci", "dvc", "mlproject", "dvc-lock", "conda-env"):
        return hint, ""
    if isinstance(data, dict):
        if "apiVersion" in data and "kind" in data and isinstance(data.get("kind"), str):
            return "k8s", data["kind"]
        if "AWSTemplateFormatVersion" in data or (isinstance(data.get("Resources"), dict) and any(
                isinstance(v, dict) and str(v.get("Type", "")).startswith("AWS::") for v in data["Resources"].values())):
            return "cloudformation", ""
        groups = data.get("groups")
        if isinstance(groups, list) and any(isinstance(g, dict) and isinstance(g.get("rules"), list) for g in groups):
            return "prometheus-rules", ""
        if "route" in data and "receivers" in data:
            return "alertmanager", ""
    if hint == "params":
        return "params", ""
    return "yaml", ""


# Go-template actions that Prometheus/Alertmanager evaluate at alert time (`{{ $labels.x }}`,
# `{{ $value | humanize }}`, `{{ .Labels.x }}`): such files are plain YAML, unlike Helm charts.
_ALERT_TEMPLATE_RE = re.compile(r"\{\{-?\s*(\$(labels|value|externalLabels|externalURL)\b|humanize|printf\s+\"|"
                                r"\.Labels|\.Value|\.Annotations|\.CommonLabels|\.CommonAnnotations|\.GroupLabels|"
                                r"\.Status|\.ExternalURL|reReplaceAll|toUpper|toLower|title\s|end\s*-?\}\}|"
                                r"range\s+\.Alerts)")
_ALERTING_RE = re.compile(r"^[ \t]*(?:-[ \t]*)?(?:alert|receivers)[ \t]*:", re.M)  # [ \t], not \s: no backtracking over blank lines


def _only_alert_templates(text: str) -> bool:
    if "alert" not in text and "receivers" not in text:
        return False  # a substring test first: the multi-line regex costs ~20 ms per MB
    return bool(_ALERTING_RE.search(text)) and text.count("{{") == len(_ALERT_TEMPLATE_RE.findall(text))


# placeholders a script fills before the file is YAML: ``%(cluster-name)s``, ``%AWS_REGION%``
_PERCENT_FIELD = re.compile(r"%\([A-Za-z0-9_.-]+\)[sdifr]|%[A-Z][A-Z0-9_]*%")


def load_yaml(path: str, data: bytes, hint: str) -> list:
    text = decode_text(data)
    if hint in ("yaml", "params") and (("{{" in text and not _only_alert_templates(text)) or "{%" in text):
        return []  # Helm/Jinja templates are not YAML until rendered (a chart's templates/config/ too)
    try:
        parsed = load_yaml_documents(path, text)
    except Unreadable:
        if hint == "yaml" and _PERCENT_FIELD.search(text):
            return []  # a %-format template (filled by jsonnet or Python before use): not YAML yet
        raise
    docs = []
    for index, (value, first_line) in enumerate(parsed):
        if value is None:
            continue
        kind, subkind = classify_yaml_doc(path, value, hint)
        docs.append(ConfigDocument(path=path, kind=kind, data=value, text=text, index=index,
                                   line=first_line, subkind=subkind))
    return docs


# --------------------------------------------------------------------------------------- TOML
def load_toml(path: str, data: bytes, kind: str) -> list:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib  # type: ignore
    text = decode_text(data)
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"line (\d+), column (\d+)", msg)
        raise Unreadable(f"invalid TOML: {msg}", int(m.group(1)) if m else 1, int(m.group(2)) if m else 1)
    return [ConfigDocument(path=path, kind=kind, data=value, text=text)]


def toml_key_line(text: str, key: str, after_table: Optional[str] = None) -> int:
    """Best-effort line of ``key = ...`` (inside ``[after_table]`` when given)."""
    lines = text.splitlines()
    start = 0
    if after_table:
        for i, l in enumerate(lines):
            if l.strip() == f"[{after_table}]":
                start = i
                break
    pat = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for i in range(start, len(lines)):
        if pat.match(lines[i]):
            return i + 1
    return 1


# ------------------------------------------------------------------------------- requirements
@dataclass(slots=True)
class Requirement:
    name: str  # normalised (lowercase, '-' separators)
    raw: str
    specifier: str  # e.g. '==1.2.3', '>=1.0,<2', '' when unconstrained
    line: int
    col: int
    end_col: int
    pinned: bool  # '==' (without wildcard) or '==='
    has_hash: bool
    url: bool = False


_REQ_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(\(?[^;#@]*\)?)?\s*(@\s*\S+)?\s*(;[^#]*)?")


def normalise_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def is_pinned(spec: str) -> bool:
    parts = [p.strip() for p in spec.replace("(", "").replace(")", "").split(",") if p.strip()]
    return any((p.startswith("==") and "*" not in p) or p.startswith("===") for p in parts)


def parse_requirement_line(text: str, line: int, col_offset: int = 0) -> Optional[Requirement]:
    body = text.split(" #", 1)[0].split("\t#", 1)[0]
    if body.lstrip().startswith("#") or not body.strip():
        return None
    stripped = body.strip()
    if stripped.startswith("-") or "://" in stripped.split("@")[0] or stripped.startswith((".", "/")):
        return None  # options (-r, -e, --hash...), local paths, bare URLs
    m = _REQ_RE.match(body)
    if not m:
        return None
    name = m.group(1)
    spec = (m.group(3) or "").strip()
    url = bool(m.group(4))
    start = body.find(name)
    return Requirement(name=normalise_name(name), raw=stripped, specifier=spec, line=line,
                       col=col_offset + start + 1, end_col=col_offset + len(body.rstrip()) + 1,
                       pinned=is_pinned(spec) or url, has_hash="--hash" in text, url=url)


@dataclass
class RequirementsFile:
    requirements: list = field(default_factory=list)
    includes: list = field(default_factory=list)  # -r / -c targets
    hashes: bool = False
    compiled: bool = False  # pip-compile output ('# via' annotations)


def load_requirements(path: str, data: bytes) -> list:
    text = decode_text(data)
    rf = RequirementsFile()
    logical = ""
    start_line = 0
    for i, raw in enumerate(text.splitlines(), start=1):
        if "# via" in raw or raw.strip().startswith("#    via"):
            rf.compiled = True
        if not logical:
            start_line = i
        if raw.rstrip().endswith("\\"):
            logical += raw.rstrip()[:-1] + " "
            continue
        logical += raw
        line_text, logical = logical, ""
        s = line_text.strip()
        if "--hash" in s:
            rf.hashes = True
        if s.startswith(("-r ", "-c ", "--requirement", "--constraint")):
            parts = s.split(None, 1)
            if len(parts) == 2:
                rf.includes.append(parts[1].split("=", 1)[-1].strip())
            continue
        req = parse_requirement_line(line_text if start_line == i else line_text, start_line)
        if req:
            rf.requirements.append(req)
    return [ConfigDocument(path=path, kind="requirements", data=rf, text=text)]


# ---------------------------------------------------------------------------------- Dockerfile
@dataclass(slots=True)
class DockerInstruction:
    keyword: str  # upper-case: FROM, RUN, CMD, ...
    args: str  # joined continuation lines
    line: int
    end_line: int
    stage: int  # index of the FROM stage


@dataclass
class Dockerfile:
    instructions: list = field(default_factory=list)

    def of(self, keyword: str) -> list:
        return [i for i in self.instructions if i.keyword == keyword]


# a BuildKit here-document: ``RUN python - <<'EOF'`` ... ``EOF`` (``<<-`` strips leading tabs)
_DOCKER_HEREDOC_RE = re.compile(r"(?<!<)<<(?!<)(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


def load_dockerfile(path: str, data: bytes) -> list:
    text = decode_text(data)
    df = Dockerfile()
    stage = -1
    buf, start = "", 0
    escape = "\\"
    lines = text.splitlines()
    heredocs: list = []  # delimiters still to read, in order: the lines up to each are a document's body
    for i, raw in enumerate(lines, start=1):
        if heredocs:
            if (raw.lstrip("\t") if heredocs[0][0] else raw) == heredocs[0][1]:
                heredocs.pop(0)
                if not heredocs and df.instructions:
                    df.instructions[-1].end_line = i
            continue  # a line of a here-document (a script, a file's content), not an instruction
        s = raw.strip()
        if not buf:
            if not s:
                continue
            m = re.match(r"#\s*escape\s*=\s*(\S)", s)
            if m and not df.instructions:
                escape = m.group(1)
                continue
            if s.startswith("#"):
                continue
            start = i
        elif s.startswith("#"):
            continue  # comments inside continuations are dropped
        if s.endswith(escape):
            buf += s[:-1] + " "
            continue
        buf += s
        parts = buf.split(None, 1)
        kw = parts[0].upper()
        if kw == "FROM":
            stage += 1
        df.instructions.append(DockerInstruction(kw, parts[1] if len(parts) > 1 else "", start, i, max(stage, 0)))
        if kw in ("RUN", "COPY", "ADD") and "<<" in buf:
            heredocs = [(m.group(1) == "-", m.group(3)) for m in _DOCKER_HEREDOC_RE.finditer(buf)]
        buf = ""
    if buf:
        parts = buf.split(None, 1)
        df.instructions.append(DockerInstruction(parts[0].upper(), parts[1] if len(parts) > 1 else "", start, len(lines), max(stage, 0)))
    return [ConfigDocument(path=path, kind="dockerfile", data=df, text=text)]


# --------------------------------------------------------------------------------------- shell
class ShellCommand(NamedTuple):
    argv: tuple  # the words of one simple command (read-only: shared between equal commands)
    line: int


class ShellScript:
    """A script's simple commands, stored as one word tuple and one line number per command.
    Versioned copies of one generated install script repeat the same commands: kserve holds
    86,000 commands in 165 scripts, which took 12 MB as one record each with interned words, and
    takes 2 MB so."""

    __slots__ = ("argvs", "lines")

    def __init__(self, commands: Iterable = ()):
        same: dict = {}
        argvs, lines = [], array("I")
        for argv, line in commands:
            argv = tuple(argv)
            argvs.append(same.setdefault(argv, argv))
            lines.append(line)
        self.argvs, self.lines = tuple(argvs), lines

    @property
    def commands(self) -> list:
        return list(map(ShellCommand, self.argvs, self.lines))

    def __reduce__(self):
        return _load_shell_script, (self.argvs, self.lines)


def _load_shell_script(argvs: tuple, lines) -> ShellScript:
    """Equal commands of one script arrive as one tuple (pickle's memo); the words and the tuples
    are also shared with every other script loaded in this process."""
    from mllint.summary import _shared_tuple

    script = ShellScript.__new__(ShellScript)
    shared: dict = {}  # id -> the shared copy, so each distinct command is looked up once
    out = []
    for argv in argvs:
        s = shared.get(id(argv))
        if s is None:
            s = shared[id(argv)] = _shared_tuple(tuple(map(_intern, argv)))
        out.append(s)
    script.argvs, script.lines = tuple(out), lines
    return script


_SHLEX_SPECIAL = re.compile(r"[\"'\\#\x0b\x0c\x1c-\x1f\x85\xa0]|[^\x00-\x7f]")
# one character (or one quoted run) per step: unambiguous, so a failing match is linear, not exponential
_QUOTED_WORDS = re.compile(r"""(?:[^\s'"]|'[^']*'|"[^"]*"|[ \t])*""")
_QUOTE_PAIR = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_WORD = re.compile(r"""(?:[^\s'"]|'[^']*'|"[^"]*")+""")


def _split_words(piece: str) -> list:
    """``shlex.split(piece, comments=True)`` (POSIX words), with fast paths: shlex reads one
    character at a time in Python, which dominated loading shell-heavy repositories."""
    if _SHLEX_SPECIAL.search(piece) is None:
        return piece.split()  # no quotes, escapes or comments
    if "\\" not in piece and "#" not in piece and piece.isascii() and _QUOTED_WORDS.fullmatch(piece):
        # balanced '...' / "..." quotes only (no escapes, no comment): drop the quote pairs
        return [_QUOTE_PAIR.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), w)
                if ("'" in w or '"' in w) else w for w in _WORD.findall(piece)]
    try:
        return shlex.split(piece, comments=True)
    except ValueError:
        return piece.split()


_HEREDOC = re.compile(r"<<(-?)[ \t]*[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")


class _HeredocJumper:
    """Finds a here-document's closing line by searching the script (its lines joined by newlines)
    for the delimiter, instead of comparing every line of the document with it."""

    def __init__(self, lines: list):
        self.lines = lines
        self.joined = "\n".join(lines)
        self.line, self.off = 0, 0  # a line's index and its offset in ``joined``

    def _offset(self, i: int) -> int:
        line, off, lines = self.line, self.off, self.lines
        if i < line:
            line, off = 0, 0
        while line < i:  # only the lines read since the last jump: they were read as commands
            off += len(lines[line]) + 1
            line += 1
        self.line, self.off = line, off
        return off

    def after_delimiter(self, i: int, delimiter: str, strip_tabs: bool) -> int:
        """The index after the first line from ``i`` on that closes the document: the delimiter,
        after tabs with ``<<-``, then only whitespace (``str.rstrip``'s); len(lines) if none."""
        n = len(self.lines)
        if i >= n:
            return i
        joined = self.joined
        start = pos = self._offset(i)
        while True:
            k = joined.find(delimiter, pos)
            if k < 0:
                return n
            line_start = joined.rfind("\n", start, k) + 1 if k > start else start
            line_start = max(line_start, start)
            eol = joined.find("\n", k)
            if eol < 0:
                eol = len(joined)
            head, tail = joined[line_start:k], joined[k + len(delimiter):eol]
            if (not head or (strip_tabs and not head.strip("\t"))) and (not tail or tail.isspace()):
                index = i + joined.count("\n", start, k)
                self.line, self.off = index + 1, eol + 1
                return index + 1
            pos = eol + 1  # the delimiter elsewhere on this line does not start it


def split_shell_commands(text: str, first_line: int = 1) -> list:
    """Split shell text into simple commands (joined continuations, split on ; && || |);
    here-document bodies are data, not commands, and are skipped."""
    out = []
    buf, start = "", first_line
    heredoc = None  # (delimiter, strip tabs)
    lines = text.splitlines()
    n = len(lines)
    jumper = None
    i = 0
    while i < n:
        if heredoc is not None:
            # the body is data: go to the line after its delimiter line (install scripts embed
            # multi-megabyte manifests in here-documents)
            if jumper is None:
                jumper = _HeredocJumper(lines)
            i = jumper.after_delimiter(i, *heredoc)
            heredoc = None
            continue
        raw = lines[i]
        line_no = first_line + i
        i += 1
        hd = _HEREDOC.search(raw) if "<<" in raw else None
        if hd and "<<<" not in raw:
            heredoc = (hd.group(2), bool(hd.group(1)))
        if not buf:
            start = line_no
        s = raw.rstrip()
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        logical, buf = buf, ""
        stripped = logical.strip()
        if not stripped or stripped.startswith("#"):
            continue
        for piece in re.split(r"\s*(?:&&|\|\||;|\|)\s*", stripped):
            piece = piece.strip()
            if not piece or piece.startswith("#"):
                continue
            argv = _split_words(piece)
            if argv:
                out.append(ShellCommand(tuple(argv), start))
    return out


def load_shell(path: str, data: bytes) -> list:
    text = decode_text(data)
    return [ConfigDocument(path=path, kind="shell", data=ShellScript(split_shell_commands(text)), text=text)]


# ------------------------------------------------------------------------------------ Markdown
@dataclass(slots=True)
class Heading:
    level: int
    text: str
    line: int


@dataclass
class MarkdownDoc:
    headings: list = field(default_factory=list)


def load_markdown(path: str, data: bytes) -> list:
    text = decode_text(data)
    md = MarkdownDoc()
    in_code = False
    for i, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code:
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", raw)
        if m:
            md.headings.append(Heading(len(m.group(1)), m.group(2), i))
    return [ConfigDocument(path=path, kind="markdown", data=md, text=text)]
