"""Per-file summary built in ONE walk of the stdlib ``ast``, which also runs every FileRule.

The ``ModuleSummary`` is plain picklable data: it crosses process boundaries and is cached on
disk.  Everything project rules and the graph need from a module is here: resolved imports,
every call with its qualified name / receiver / literal arguments / enclosing scope and context
(``with`` blocks, loops, ``if`` guards, ``await``), definitions with decorators and parameters,
module constants, and normalised fingerprints of function bodies for clone detection.
"""
from __future__ import annotations

import ast
import builtins
import re
from array import array as _array
from collections import deque
from sys import intern as _intern
from zlib import crc32 as _crc32
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from mllint._hash import blake2b
from mllint.knowledge.distributed import SPAWNERS
from mllint.knowledge.training import SCALAR_DRAWS

MODULE_SCOPE = "<module>"
MAIN_SCOPE = "<main>"
_BUILTINS = frozenset(dir(builtins))
# Calls to these builtins are not recorded (noise for every rule), unless shadowed.
_SKIP_BUILTINS = frozenset({
    "len", "print", "range", "isinstance", "str", "int", "float", "bool", "list", "dict", "tuple",
    "set", "enumerate", "zip", "min", "max", "sum", "abs", "round", "sorted", "reversed", "map",
    "filter", "any", "all", "getattr", "setattr", "hasattr", "type", "super", "repr", "iter", "next",
    "id", "hash", "format", "divmod", "issubclass", "callable", "vars", "frozenset", "bytes", "ord", "chr",
})


_SHARED_TUPLES: dict = {}  # tuple/frozenset -> the one copy every unpickled record shares
_SHARED_TUPLES_MAX = 200_000


def _shared_tuple(t):
    if not t:
        return t
    s = _SHARED_TUPLES.get(t)
    if s is None:
        if len(_SHARED_TUPLES) >= _SHARED_TUPLES_MAX:
            return t
        s = _SHARED_TUPLES[t] = t
    return s


# a name or string that says the drawn number is a port or an address, or a hyperparameter drawn
# into a run's config (a random search: the value is recorded, and varying it is the point)
_AUX_WORDS = re.compile(r"(?i)(?:^|[_.\s-])(?:port|addr|address|host|url|init_method|config|cfg|hparams|"
                      r"hyperparams|hyperparameters)s?(?:$|[_.\s-])")


_SEED_NAME = re.compile(r"(?i)seed|session_id")
# functions that only show data: ``show_random_elements`` (every Hugging Face notebook), ``plot_samples``
_DISPLAY_FN = re.compile(r"^_*(?:show|display|plot|visuali[sz]e|print|render|preview)(?:_|$|[A-Z])", re.I)


def _aux_draw(parents: list) -> bool:
    """Is a scalar draw from ``random`` a port or an address (``MASTER_PORT``, ``dist_url``), a
    hyperparameter drawn into a config (``wandb.config.lr = 10 ** random.uniform(-5, -1)``), or a
    seed drawn when none is configured (``seed = np.random.randint(2**31)``, ``return`` from
    ``init_random_seed``; pycaret's ``session_id``)?
    Looks at what encloses the call up to its statement: the calls it is an argument of (their
    names, string arguments and keywords), an f-string, the assignment target, and the name of the
    function a ``return`` leaves.  Such a draw is not the training randomness a seed fixes: picking
    a free port changes no result, a random search draws on purpose and records what it drew, and
    a drawn seed is what then seeds the run.  A draw in a function that shows data
    (``show_random_elements``, ``plot_samples``) picks what to display."""
    fn = next((q for q in reversed(parents) if q.__class__ in (ast.FunctionDef, ast.AsyncFunctionDef)), None)
    if fn is not None and _DISPLAY_FN.match(fn.name):
        return True  # picks what to show
    words: list = []
    names: list = []  # what the value is stored as, or the function that returns it
    for p in reversed(parents):
        cls = p.__class__
        if cls is ast.Call:
            words.append(_dotted(p.func) or "")
            words.extend(a.value for a in p.args if a.__class__ is ast.Constant and isinstance(a.value, str))
            words.extend(k.arg for k in p.keywords if k.arg)
        elif cls is ast.keyword:
            words.append(p.arg or "")
        elif cls is ast.JoinedStr:
            words.extend(v.value for v in p.values if v.__class__ is ast.Constant and isinstance(v.value, str))
        elif cls in (ast.Assign, ast.AnnAssign, ast.AugAssign):
            for t in (p.targets if cls is ast.Assign else [p.target]):
                words.append(_dotted(t) or "")
                names.append(words[-1])
                if t.__class__ is ast.Subscript and t.slice.__class__ is ast.Constant and isinstance(t.slice.value, str):
                    words.append(t.slice.value)
        if isinstance(p, ast.stmt):
            if cls is ast.Return:  # ``def free_port(): return randint(...)``: the function's name
                words.append(fn.name if fn is not None else "")
                names.append(words[-1])
            break
    return any(_AUX_WORDS.search(w) for w in words if w) or any(_SEED_NAME.search(n) for n in names if n)


def _compact_pickle(cls=None, *, intern: tuple = (), share: tuple = (), same: tuple = (), skip: tuple = ()):
    """Pickle a slots dataclass as ``(cls, field values)``.  The default for slots objects stores a
    dict of slot names per object and sets them one by one on load: for the hundreds of thousands
    of records a large repository's summaries hold, that doubled the time the main process spends
    unpickling worker results and cached entries (diffusers: 1.15 s -> 0.50 s, 81 -> 62 MB).

    Pickle shares equal objects only within one dump, and the main process receives a large scan
    in a hundred batches: on load, the string fields named in ``intern`` are interned and the
    tuple fields in ``share`` are shared by equal records, so every batch's copy of
    ``'torch.nn.functional.interpolate'`` or ``('self', 'training')`` becomes one object (diffusers: about 30 MB of the main process).  ``same`` pairs
    (field, other) reuse the other field's int object when they are equal (a call's ``end_line``
    and ``line``).  ``skip`` fields (trailing, with defaults) are not pickled."""
    if cls is None:
        return lambda c: _compact_pickle(c, intern=intern, share=share, same=same, skip=skip)
    from dataclasses import fields as _fields
    from operator import attrgetter

    names = [f.name for f in _fields(cls) if f.name not in skip]
    get = attrgetter(*names)
    load = cls
    if intern or share or same:
        args = ", ".join(f"f{i}" for i in range(len(names)))
        other = {a: names.index(b) for a, b in same}

        def expr(i: int, n: str) -> str:
            if n in intern:
                return f"f{i} and _intern(f{i})"
            if n in share:  # (a list, from a record built by hand, is left alone: not hashable)
                return f"f{i} and (f{i} if f{i}.__class__ is list else (_shared_get(f{i}) or _shared_tuple(f{i})))"
            if n in other:
                return f"(f{other[n]} if f{i} == f{other[n]} else f{i})"
            return f"f{i}"

        vals = ", ".join(expr(i, n) for i, n in enumerate(names))
        ns = {"cls": cls, "_intern": _intern, "_shared_tuple": _shared_tuple, "_shared_get": _SHARED_TUPLES.get}
        exec(f"def load({args}):\n    return cls({vals})\n", ns)
        load = ns["load"]
        load.__name__ = load.__qualname__ = f"_load_{cls.__name__}"
        load.__module__ = __name__
        globals()[load.__name__] = load  # pickled by reference
    if len(names) == 1:
        cls.__reduce__ = lambda self: (load, (get(self),))
    else:
        cls.__reduce__ = lambda self: (load, get(self))
    return cls


@dataclass(slots=True)
class Val:
    """A compact, picklable view of an expression used as an argument or assigned value.

    kind: const (value = the Python constant), name (value = dotted name as written),
    fstr (value = list of str parts and ('{', source) placeholders), call (value = qualname or
    dotted callee), list (value = list of Val), dict (value = list of (key Val, value Val)),
    other (value = ast node type name)."""

    kind: str
    value: Any = None

    @property
    def is_literal(self) -> bool:
        return self.kind == "const" or (self.kind == "list" and all(v.is_literal for v in self.value))

    def literal(self) -> Any:
        if self.kind == "const":
            return self.value
        if self.kind == "list":
            return [v.literal() for v in self.value]
        return None


_VAL_INTERN: dict = {}
_VAL_INTERN_MAX = 200_000


def shared_val(kind: str, value: Any = None) -> "Val":
    """A ``Val`` shared by every holder of the same small scalar value (``Val("other", "param")``,
    ``Val("const", None)``, ``Val("name", "self")``...): records are read-only, and one object
    instead of hundreds of thousands saves tens of MB on a large repository.  Values that are not
    small scalars get their own object."""
    cls = value.__class__
    if value is None or cls is bool or (cls is int and -4096 <= value <= 4096) or (cls is str and len(value) <= 64):
        key = (kind, cls, value)  # the class too: 1 == True as a dict key
        v = _VAL_INTERN.get(key)
        if v is None:
            v = Val(kind, value)
            if len(_VAL_INTERN) < _VAL_INTERN_MAX:
                _VAL_INTERN[key] = v
        return v
    return Val(kind, _intern(value) if cls is str else value)


Val.__reduce__ = lambda self: (shared_val, (self.kind, self.value))  # unpickled values are shared too


class NameMap:
    """A small read-only mapping of names (``get``, ``in``, ``[]``, ``keys``/``values``/``items``,
    iteration, ``len``), stored as a tuple of names shared by every map with the same names and a
    tuple of values.  Used for a call's keyword arguments (name -> ``Val``) and, once unpickled, a
    scope's assignments and variable types: a dict each was the largest cost of a large
    repository's summaries after the call records (diffusers: 150 k dicts)."""

    __slots__ = ("_names", "_vals")

    def __init__(self, names: tuple, vals: tuple):
        self._names = names
        self._vals = vals

    @classmethod
    def of(cls, d: dict) -> "NameMap":
        if not d:
            return NO_KWARGS
        names = tuple(d)
        return cls(_SHARED_TUPLES.get(names) or _shared_tuple(names), tuple(d.values()))

    def get(self, name: str, default: Any = None) -> Any:
        names = self._names
        return self._vals[names.index(name)] if name in names else default

    def __getitem__(self, name: str) -> Any:
        names = self._names
        if name in names:
            return self._vals[names.index(name)]
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def keys(self) -> tuple:
        return self._names

    def values(self) -> tuple:
        return self._vals

    def items(self):
        return zip(self._names, self._vals)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):  # NameMap is registered as one
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"NameMap({dict(self.items())!r})"

    def __reduce__(self):
        if self is NO_KWARGS:
            return "NO_KWARGS"  # unpickles as this module's singleton
        return _load_name_map, (self._names, self._vals)


def _load_name_map(names: tuple, vals: tuple) -> NameMap:
    if not names:
        return NO_KWARGS
    shared = _SHARED_TUPLES.get(names)
    if shared is None:
        shared = _shared_tuple(tuple(map(_intern, names)))
    return NameMap(shared, vals)


def _interned_map(d: dict) -> NameMap:
    """An unpickled ``{name: value}`` dict as a NameMap with interned names (and string values)."""
    return _load_name_map(tuple(d), tuple(_intern(v) if v.__class__ is str else v for v in d.values()))


Mapping.register(NameMap)
NO_KWARGS = NameMap((), ())  # every call without keyword arguments (most calls) shares this one


STAR_ARGS, STAR_KWARGS, AWAITED, IN_RETURN, AUX_DRAW, IN_LAMBDA = 1, 2, 4, 8, 16, 32  # CallInfo.flags


@_compact_pickle(intern=("qualname", "attr", "receiver", "receiver_type", "scope", "assigned_to"),
                 share=("contexts", "loops", "guards"), same=(("end_line", "line"),),
                 skip=("target",))
@dataclass(slots=True)
class CallInfo:
    qualname: Optional[str]  # resolved dotted name of the callee (imports resolved), else None
    attr: Optional[str]  # method/attribute name for ``x.attr(...)`` calls
    receiver: Optional[str]  # dotted source of the receiver (``self.model``), if a plain chain
    receiver_type: Optional[str]  # qualname of the constructor/factory that made the receiver
    line: int
    col: int
    end_line: int
    end_col: int
    scope: str  # enclosing function qualname, MODULE_SCOPE or MAIN_SCOPE
    args: tuple  # tuple[Val] (positional, starred ones left out)
    kwargs: Mapping  # name -> Val: a NameMap (NO_KWARGS when there are none); tests may pass a dict
    # STAR_ARGS (*args present), STAR_KWARGS (**kwargs present), AWAITED, IN_RETURN: one int for
    # four booleans (a slot is 8 bytes on each of hundreds of thousands of records); read them as
    # the properties of the same names
    flags: int = 0
    contexts: tuple = ()  # qualnames (or dotted sources) of enclosing ``with`` items, innermost last
    loops: tuple = ()  # lines of enclosing for/while loops, innermost last
    guards: tuple = ()  # token strings of enclosing ``if`` tests, innermost last
    assigned_to: Optional[str] = None  # ``x = call(...)`` -> 'x' (dotted for self.x)
    # the scope id of the project function it calls, or None: set by the project graph
    # (``Project.calls``), never pickled (``_compact_pickle(skip=...)``)
    target: Optional[str] = None

    @property
    def name(self) -> str:
        return self.qualname or (self.attr or "")

    star_args = property(lambda self: bool(self.flags & STAR_ARGS), doc="``*args`` present")
    star_kwargs = property(lambda self: bool(self.flags & STAR_KWARGS), doc="``**kwargs`` present")
    awaited = property(lambda self: bool(self.flags & AWAITED), doc="``await call(...)``")
    in_return = property(lambda self: bool(self.flags & IN_RETURN), doc="``return call(...)``")
    in_lambda = property(lambda self: bool(self.flags & IN_LAMBDA),
                         doc="in the body of a lambda kept for later (not one passed to a call): runs when "
                             "the lambda is called, not where it is written")
    aux_draw = property(lambda self: bool(self.flags & AUX_DRAW),
                        doc="a scalar random draw for a port, an address or a searched hyperparameter "
                            "(``_aux_draw``), not training randomness")

    def kw(self, name: str) -> Optional[Val]:
        return self.kwargs.get(name)

    def arg(self, pos: Optional[int], name: Optional[str] = None) -> Optional[Val]:
        """The argument at position ``pos`` or keyword ``name`` (``pos`` None: keyword-only)."""
        if name and name in self.kwargs:
            return self.kwargs[name]
        return self.args[pos] if pos is not None and pos < len(self.args) else None

    def span(self) -> tuple:
        return (self.line, self.col, self.end_line, self.end_col)


@_compact_pickle(intern=("qualname", "dotted", "receiver_type"))
@dataclass(slots=True)
class Decorator:
    qualname: Optional[str]
    dotted: str  # as written, e.g. 'app.get' or 'router.post'
    args: list
    kwargs: dict
    receiver_type: Optional[str] = None  # e.g. 'fastapi.FastAPI' for @app.get


@_compact_pickle(intern=("qualname", "name", "class_name", "returns"), share=("params", "fields", "globals_written"))
@dataclass(slots=True)
class FunctionInfo:
    qualname: str  # 'func', 'Class.method', 'outer.<locals>.inner'
    name: str
    line: int
    col: int
    end_line: int
    is_async: bool
    decorators: tuple  # tuple[Decorator]
    params: tuple  # tuple[(name, annotation qualname or dotted or None)], shared by equal signatures
    class_name: Optional[str] = None
    returns: Optional[str] = None
    n_statements: int = 0  # statements in the body (counted only when fields and ops make it a clone candidate)
    fingerprint: bytes = b""  # winnowed k-gram hashes of the normalised body (pack_hashes; fingerprint_hashes)
    fields: frozenset = frozenset()  # string field names the body touches (df['a'], row.get('a'))
    ops: int = 0  # number of data-transformation operations in the body
    globals_written: tuple = ()
    def_end_col: int = 0

    def span(self) -> tuple:
        return (self.line, self.col, self.line, self.def_end_col or self.col + 3 + len(self.name))


@_compact_pickle(intern=("name", "scope"), share=("fields",))
@dataclass(slots=True)
class BlockInfo:
    """Straight-line top-level code fingerprinted like a function: a notebook cell, a script's
    module body, or its ``__main__`` block."""

    name: str  # '<cell 3>', '<module>', '<main>'
    scope: str  # MODULE_SCOPE or MAIN_SCOPE: where its calls are recorded
    line: int
    end_line: int
    n_statements: int = 0
    fingerprint: bytes = b""  # packed like FunctionInfo.fingerprint
    fields: frozenset = frozenset()
    ops: int = 0

    def span(self) -> tuple:
        return (self.line, 1, self.line, 2)


@_compact_pickle(intern=("qualname", "name"))
@dataclass(slots=True)
class ClassInfo:
    qualname: str
    name: str
    line: int
    col: int
    bases: list  # resolved qualnames or dotted sources
    decorators: list
    methods: list  # method names


@_compact_pickle(intern=("module", "name", "asname", "scope"))
@dataclass(slots=True)
class ImportInfo:
    module: str  # absolute module imported from (relative imports resolved)
    name: Optional[str]  # imported name for ``from m import name``; None for ``import m``
    asname: str  # local binding
    line: int
    level: int = 0
    scope: str = MODULE_SCOPE


@dataclass
class ModuleSummary:
    path: str
    module: str  # dotted module name
    kind: str  # python | notebook
    is_package: bool = False
    imports: list = field(default_factory=list)  # list[ImportInfo]
    aliases: dict = field(default_factory=dict)  # module-level local name -> qualified name
    calls: list = field(default_factory=list)  # list[CallInfo]
    functions: dict = field(default_factory=dict)  # qualname -> FunctionInfo
    blocks: list = field(default_factory=list)  # list[BlockInfo]
    classes: dict = field(default_factory=dict)  # qualname -> ClassInfo
    constants: dict = field(default_factory=dict)  # module-level NAME -> Val
    # scope -> {name: Val} (last simple assignment) / {name: qualname of constructor}; read-only
    # NameMaps instead of dicts once unpickled
    scope_assigns: dict = field(default_factory=dict)
    var_types: dict = field(default_factory=dict)
    main_line: int = 0  # line of ``if __name__ == "__main__":`` (0 if none)
    strings: list = field(default_factory=list)  # (line, col, value) of URI-like string literals
    facts: dict = field(default_factory=dict)  # rule code -> list of recorded facts
    magics: list = field(default_factory=list)  # notebooks: (virtual line, text)
    n_lines: int = 0
    top_level_names: frozenset = frozenset()

    def __setstate__(self, state: dict) -> None:
        """Unpickled (from a worker or the cache): the names that recur across modules become one
        string object each, like the records' fields (see ``_compact_pickle``)."""
        for key in ("aliases", "functions", "classes"):
            d = state.get(key)
            if d:
                state[key] = {_intern(k): (_intern(v) if v.__class__ is str else v) for k, v in d.items()}
        for key in ("var_types", "scope_assigns"):
            d = state.get(key)
            if d:
                state[key] = {_intern(k): _interned_map(inner) for k, inner in d.items()}
        self.__dict__.update(state)

    def calls_in(self, scope: str) -> list:
        return [c for c in self.calls if c.scope == scope]

    def imported_modules(self) -> set:
        return {i.module for i in self.imports}


# --------------------------------------------------------------------------------------- walk
_URI_PREFIXES = ("s3://", "s3a://", "gs://", "gcs://", "abfs://", "abfss://", "az://", "hdfs://",
                 "wasbs://", "models:/", "runs:/", "dbfs:/", "https://", "http://", "hf://")
_TRANSFORM_ATTRS = frozenset({
    "fillna", "map", "apply", "clip", "astype", "log1p", "log", "sqrt", "exp", "replace", "cut", "qcut",
    "get_dummies", "where", "round", "abs", "lower", "upper", "strip", "split", "dt", "str",
    "hour", "dayofweek", "weekday", "month", "year", "day", "total_seconds", "mean", "std", "sum",
    "isna", "notna", "isnull", "fill_null", "cast", "with_columns", "rolling", "diff", "pct_change",
    "floor", "ceil", "clip_lower", "clip_upper", "to_datetime", "minimum", "maximum",
})
_K = 5  # k-gram length for body fingerprints
# Only code that looks like feature engineering is fingerprinted (ML0501 compares nothing else):
# at least this many statements, distinct field names and data-transformation operations.
CLONE_MIN_STATEMENTS = 3
CLONE_MIN_FIELDS = 3
CLONE_MIN_OPS = 2


def _clone_candidate(n_statements: int, fields: set, ops: int) -> bool:
    return n_statements >= CLONE_MIN_STATEMENTS and len(fields) >= CLONE_MIN_FIELDS and ops >= CLONE_MIN_OPS
_WINDOW = 4  # winnowing window


def dotted(node: ast.AST) -> Optional[str]:
    """``a.b.c`` for a Name/Attribute chain, else None (shared by rules and fixers)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


_dotted = dotted


def iter_nodes(node: ast.AST):
    """Every node under ``node`` (itself included) in ``ast.walk``'s breadth-first order, about
    twice as fast: it skips the ``ctx`` (Load/Store/Del) and operator singleton children, which
    nothing reads as nodes (read ``node.op``/``node.ops`` instead)."""
    todo = deque([node])
    pop, push = todo.popleft, todo.append
    fields_of = _CHILD_FIELDS
    AST = ast.AST
    while todo:
        n = pop()
        yield n
        for name in fields_of.get(n.__class__) or _child_fields(n.__class__):
            v = getattr(n, name, None)
            if v is None:
                continue
            if v.__class__ is list:
                for item in v:
                    if isinstance(item, AST):
                        push(item)
            elif isinstance(v, AST):
                push(v)


def _guard_tokens(test: ast.AST) -> str:
    toks = []
    for n in iter_nodes(test):
        if isinstance(n, ast.Name):
            toks.append(n.id)
        elif isinstance(n, ast.Attribute):
            toks.append(n.attr)
        elif isinstance(n, ast.Constant) and (n.value is None or (isinstance(n.value, (int, str))
                                                                 and not isinstance(n.value, bool))):
            toks.append(repr(n.value))
        elif isinstance(n, ast.Compare):
            toks.extend(type(o).__name__ for o in n.ops)
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not):
            toks.append("Not")
        if len(toks) > 24:
            break
    return " ".join(toks)


guard_tokens = _guard_tokens  # the token string CallInfo.guards holds for an ``if`` test


_TOKEN_IDS: dict = {}


def _token_id(tok: str) -> int:
    v = _TOKEN_IDS.get(tok)
    if v is None:
        # zlib.crc32, not hash(): str hashes are salted per process, and fingerprints must
        # compare across worker processes and cached runs
        v = _TOKEN_IDS[tok] = _crc32(tok.encode())
    return v


def _winnow(tokens: list) -> frozenset:
    """Fingerprint of a normalised token stream: hashes of the k-grams inside each statement
    (k-grams never span a statement boundary, so reordering statements keeps the fingerprint),
    winnowed (minimum per window) only when the body is large.  A k-gram hashes as the tuple of its
    tokens' crc32 ids: hashing a tuple of ints is deterministic across processes (only str hashes
    are salted) and, for a given Python version, across runs; the cache key includes that version."""
    hashes = []
    seg: list = []
    ids = _TOKEN_IDS
    for tok in tokens + ["|"]:
        if tok != "|":
            seg.append(ids.get(tok) or _token_id(tok))
            continue
        n = len(seg)
        if n >= _K:
            # the k-grams as tuples, zipped from K shifted copies of the segment (in C, no slices)
            hashes.extend(h & 0xFFFFFFFF for h in map(hash, zip(*[seg[j:] for j in range(_K)])))
        elif n >= 2:
            hashes.append(hash(tuple(seg)) & 0xFFFFFFFF)
        seg = []
    if len(hashes) <= 64:
        return frozenset(hashes)
    # the minimum of each window of _WINDOW consecutive hashes: min() over shifted copies
    return frozenset(map(min, *[hashes[j:] for j in range(_WINDOW)]))


_U32 = next(code for code in ("I", "L") if _array(code).itemsize == 4)


def pack_hashes(hashes: frozenset) -> bytes:
    """A fingerprint as packed sorted uint32s: 4 bytes a hash instead of ~60 in a frozenset of ints
    (clone fingerprints were the largest part of the summaries kept for the project phase)."""
    return _array(_U32, sorted(hashes)).tobytes()


def fingerprint_hashes(packed: bytes) -> frozenset:
    """The hash set of a packed fingerprint."""
    a = _array(_U32)
    a.frombytes(packed)
    return frozenset(a)


def stable_hash(tokens: list) -> int:
    return int.from_bytes(blake2b("\x1f".join(tokens).encode(), digest_size=4).digest(), "big")


class _Frame:
    __slots__ = ("qualname", "kind", "tokens", "fields", "ops", "assigns", "types", "globals", "info", "node",
                 "aliases", "skip", "first", "last", "nstmts")

    def __init__(self, qualname, kind, info=None, node=None):
        self.qualname = qualname
        self.kind = kind  # module | function | class | main
        self.tokens: list = []
        self.fields: set = set()
        self.ops = 0
        self.assigns: dict = {}
        self.types: dict = {}
        self.globals: set = set()
        self.info = info
        self.node = node
        self.aliases: dict = {}
        self.skip = None
        self.first = 0
        self.last = 0
        self.nstmts = 0


class FileContext:
    """What a FileRule sees during the walk."""

    def __init__(self, summary: ModuleSummary, source: Any, settings: Any = None):
        self.summary = summary
        self.source = source
        self.path = summary.path
        self.module = summary.module
        self.settings = settings
        # False when the pre-scan proved no serving module imports this one: request-path code
        # cannot live here, and serving rules skip it (FileRule.begin() returns False)
        self.maybe_serving = True
        self.parents: list = []  # ancestors of the node being visited, outermost first
        self.frames: list = []
        self.with_stack: list = []
        self.loop_stack: list = []
        self.guard_stack: list = []
        # the stacks as tuples, rebuilt only after a push or pop: calls in the same block share one
        # tuple (and one pickled copy)
        self._stack_tuples: list = [(), (), ()]  # None once the stack changed
        self._cq_node = None
        self._cq_value = None
        self._import_prefixes = None  # (number of imports, their dotted prefixes)
        self._has_memo: dict = {}  # needles -> text_has answer
        self.lambda_depth = 0  # lambdas around the node being visited
        self._ascii = source.text.isascii() if source is not None and isinstance(getattr(source, "text", None), str) \
            else False

    def stack_tuple(self, which: int) -> tuple:
        """``tuple(with_stack | loop_stack | guard_stack)`` (0, 1, 2), shared until the stack changes."""
        t = self._stack_tuples[which]
        if t is None:
            t = self._stack_tuples[which] = tuple((self.with_stack, self.loop_stack, self.guard_stack)[which])
        return t

    def stack_changed(self, which: int) -> None:
        self._stack_tuples[which] = None

    # ---- module facts for begin() gates
    def text_has(self, *needles: str) -> bool:
        """Cheap gate: does the analysed source text contain any of these substrings?  (Remembered
        per set of needles: several rules gate on the same table.)"""
        hit = self._has_memo.get(needles)
        if hit is None:
            text = self.source.text if self.source is not None else ""
            hit = self._has_memo[needles] = any(n in text for n in needles)
        return hit

    def imports_any(self, prefixes) -> bool:
        """Does this module import any of these packages/modules (prefix match on the dotted name)?"""
        names = self._imported_prefixes()
        return any(p in names for p in prefixes)

    def _imported_prefixes(self) -> frozenset:
        """Every dotted prefix of every imported name and module (``a``, ``a.b``, ``a.b.c`` for
        ``from a.b import c``), rebuilt when the walk has added an import."""
        imports = self.summary.imports
        cached = self._import_prefixes
        if cached is not None and cached[0] == len(imports):
            return cached[1]
        out = set()
        for imp in imports:
            for full in ((f"{imp.module}.{imp.name}" if imp.name and imp.name != "*" else imp.module), imp.module):
                parts = full.split(".")
                for i in range(1, len(parts) + 1):
                    out.add(".".join(parts[:i]))
        names = frozenset(out)
        self._import_prefixes = (len(imports), names)
        return names

    # ---- positions
    def line_label(self, line: int) -> str:
        """How a message names a line of this file: ``line 12``, or in a notebook ``cell 4, line 3``
        (a line number of the virtual module means nothing to the reader)."""
        for number, first, n in getattr(self.source, "cells", None) or ():
            if first <= line < first + max(n, 1):
                return f"cell {number}, line {line - first + 1}"
        return f"line {line}"

    def char_col(self, lineno: int, byte_offset: int) -> int:
        """1-based column in characters from an ``ast`` offset, which counts UTF-8 bytes."""
        if byte_offset <= 0:
            return 1
        if self._ascii:
            return byte_offset + 1
        line = self.source.line_text(lineno) if self.source is not None else ""
        if line.isascii():
            return byte_offset + 1
        return len(line.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1

    def span_of(self, node: ast.AST) -> tuple:
        """(line, col, end_line, end_col) in characters, end exclusive."""
        line = getattr(node, "lineno", 1) or 1
        end_line = getattr(node, "end_lineno", None) or line
        col = self.char_col(line, getattr(node, "col_offset", 0) or 0)
        end_off = getattr(node, "end_col_offset", None)
        end_col = self.char_col(end_line, end_off) if end_off is not None else col + 1
        return line, col, end_line, end_col

    # ---- scope
    @property
    def scope(self) -> str:
        for f in reversed(self.frames):
            if f.kind in ("function", "main"):
                return f.qualname
        return MODULE_SCOPE

    @property
    def function(self) -> Optional[FunctionInfo]:
        for f in reversed(self.frames):
            if f.kind == "function":
                return f.info
        return None

    @property
    def class_name(self) -> Optional[str]:
        for f in reversed(self.frames):
            if f.kind == "class":
                return f.qualname
            if f.kind == "function":
                continue
        return None

    @property
    def in_async(self) -> bool:
        fn = self.function
        return bool(fn and fn.is_async)

    # ---- names
    def resolve_name(self, name: str) -> Optional[str]:
        for frame in reversed(self.frames):
            if name in frame.aliases:
                return frame.aliases[name]
            if frame.kind == "function" and name in frame.assigns:
                return None  # a local variable or parameter shadows
        return resolve_module_name(self.summary, name)

    def qualname(self, node: ast.AST) -> Optional[str]:
        """Qualified dotted name of a Name/Attribute chain with imports resolved, else None."""
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        base = self.resolve_name(head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base

    def var_type(self, name: str) -> Optional[str]:
        for frame in reversed(self.frames):
            if name in frame.types:
                return frame.types[name]
        return self.summary.var_types.get(MODULE_SCOPE, {}).get(name)

    def call_qualname(self, call: ast.Call) -> Optional[str]:
        # several rules ask for the same Call node in a row (their visit_Call hooks): remember one
        if call is self._cq_node:
            return self._cq_value
        q = self.qualname(call.func)
        self._cq_node, self._cq_value = call, q
        return q

    def value(self, node: ast.AST, depth: int = 0) -> Val:
        return _val(self, node, depth)

    def literal(self, node: ast.AST) -> Any:
        v = _val(self, node, 0)
        return v.literal() if v.is_literal else _MISSING

    def resolve_const(self, val: Val) -> Val:
        """Follow a ``name`` Val through local and module constants (one level)."""
        if val.kind != "name":
            return val
        name = val.value
        for frame in reversed(self.frames):
            if name in frame.assigns:
                return frame.assigns[name]
        return self.summary.constants.get(name, val)


def resolve_module_name(summary: "ModuleSummary", name: str) -> Optional[str]:
    """A name as module level sees it: an import, a top-level definition, or a builtin."""
    aliases = summary.aliases
    if name in aliases:
        return aliases[name]
    if name in summary.top_level_names:
        return f"{summary.module}.{name}"
    if name in _BUILTINS:
        return name
    return None


class _Missing:
    def __repr__(self):
        return "MISSING"


_MISSING = _Missing()
MISSING = _MISSING


def _val(ctx: Optional[FileContext], node: ast.AST, depth: int) -> Val:
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, (str, int, float, bool, type(None))):
            return shared_val("const", v)
        return shared_val("other", type(v).__name__)
    if isinstance(node, (ast.Name, ast.Attribute)):
        d = _dotted(node)
        if d is not None:
            return shared_val("name", d)
        return shared_val("other", type(node).__name__)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for p in node.values:
            if isinstance(p, ast.Constant):
                parts.append(str(p.value))
            elif isinstance(p, ast.FormattedValue):
                inner = p.value
                src = _dotted(inner) or (ast.unparse(inner) if depth < 2 else "?")
                parts.append(("{", src))
        return Val("fstr", parts)
    if isinstance(node, (ast.List, ast.Tuple)) and depth < 2 and len(node.elts) <= 256:
        return Val("list", [_val(ctx, e, depth + 1) for e in node.elts])
    if isinstance(node, ast.Dict) and depth < 2 and len(node.keys) <= 128:
        return Val("dict", [(_val(ctx, k, depth + 1) if k is not None else shared_val("other", "**"), _val(ctx, v, depth + 1))
                            for k, v in zip(node.keys, node.values)])
    if isinstance(node, ast.Call):
        q = ctx.qualname(node.func) if ctx is not None else _dotted(node.func)
        return shared_val("call", q or _dotted(node.func) or (node.func.attr if isinstance(node.func, ast.Attribute) else None))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and depth < 3:
        l, r = _val(ctx, node.left, depth + 1), _val(ctx, node.right, depth + 1)
        if l.kind == "const" and r.kind == "const" and isinstance(l.value, str) and isinstance(r.value, str):
            return shared_val("const", l.value + r.value)
        if l.kind in ("const", "fstr", "name") and r.kind in ("const", "fstr", "name") and (
                isinstance(l.value, (str, list)) or isinstance(r.value, (str, list))):
            parts = []
            for side in (l, r):
                if side.kind == "const":
                    parts.append(str(side.value))
                elif side.kind == "fstr":
                    parts.extend(side.value)
                else:
                    parts.append(("{", side.value))
            return Val("fstr", parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)):
        return shared_val("const", -node.operand.value)
    return shared_val("other", type(node).__name__)


import os as _os
import time as _time

_PROFILE_RULES = bool(_os.environ.get("MLLINT_PROFILE_RULES"))
_RULE_PROFILE: dict = {}  # rule code -> seconds in its hooks (this process)


def _timed(hook, rule, profile):
    if profile is None:
        return hook
    code = rule.meta.code

    def timed(node):
        t = _time.perf_counter()
        try:
            return hook(node)
        finally:
            profile[code] = profile.get(code, 0.0) + _time.perf_counter() - t
    timed.__self__ = rule  # error reports name the rule
    timed.__wrapped__ = hook
    return timed


def rule_profile() -> dict:
    return dict(_RULE_PROFILE)


_HOOK_NAMES: dict = {}


def _hook_names(cls) -> list:
    """[(attribute, node type name, is_leave)] of a rule class's ``visit_*``/``leave_*`` hooks."""
    out = _HOOK_NAMES.get(cls)
    if out is None:
        out = [(a, a[6:], a.startswith("leave_")) for a in dir(cls) if a.startswith(("visit_", "leave_"))]
        _HOOK_NAMES[cls] = out
    return out


_DEF_NAMES = frozenset({"FunctionDef", "AsyncFunctionDef", "ClassDef"})
_Name = ast.Name
_Module = ast.Module
_AST = ast.AST


class Summariser:
    """Builds a ModuleSummary and dispatches nodes to FileRules in the same walk."""

    def __init__(self, path: str, module: str, kind: str, source: Any, rules: list, sink: list,
                 *, is_package: bool = False, settings: Any = None):
        self.summary = ModuleSummary(path=path, module=module, kind=kind, is_package=is_package)
        self.ctx = FileContext(self.summary, source, settings)
        self.rules = rules
        self.sink = sink
        self.enter: dict = {}
        self.leave: dict = {}
        profile = _RULE_PROFILE if _PROFILE_RULES else None
        for rule in rules:
            rule.bind(self.ctx, sink)
            for attr, node_type, is_leave in _hook_names(type(rule)):
                table = self.leave if is_leave else self.enter
                table.setdefault(node_type, []).append(_timed(getattr(rule, attr), rule, profile))
        self._specs: dict = {}  # node class -> dispatch spec (built after begin() gates)
        self._name_fast = False
        self.errors: list = []  # (rule, exception)
        self._block: Optional[_Frame] = None
        self._blocks: dict = {}
        self._cells = list(getattr(source, "cells", None) or []) if kind == "notebook" else []

    # -- pre-pass over top-level statements: imports and defined names (not a walk)
    def _prepass(self, tree: ast.Module) -> None:
        names = set()
        stack = list(tree.body)
        while stack:
            stmt = stack.pop()
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(stmt.name)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self._import(stmt, self.summary.aliases, MODULE_SCOPE)
            elif isinstance(stmt, (ast.If, ast.Try, getattr(ast, "TryStar", ast.Try), ast.With)):
                for attr in ("body", "orelse", "finalbody"):
                    stack.extend(getattr(stmt, attr, []) or [])
                for h in getattr(stmt, "handlers", []) or []:
                    stack.extend(h.body)
        self.summary.top_level_names = frozenset(names - set(self.summary.aliases))

    def _import(self, stmt: ast.AST, aliases: dict, scope: str) -> None:
        s = self.summary
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    head = a.name.split(".")[0]
                    aliases[head] = head
                s.imports.append(ImportInfo(a.name, None, a.asname or a.name.split(".")[0], stmt.lineno, 0, scope))
        else:
            mod = stmt.module or ""
            if stmt.level:
                pkg_parts = s.module.split(".")
                if not s.is_package:
                    pkg_parts = pkg_parts[:-1]
                up = stmt.level - 1
                base = pkg_parts[: len(pkg_parts) - up] if up <= len(pkg_parts) else []
                mod = ".".join([p for p in base if p] + ([mod] if mod else []))
            for a in stmt.names:
                if a.name == "*":
                    s.imports.append(ImportInfo(mod, "*", "*", stmt.lineno, stmt.level, scope))
                    continue
                aliases[a.asname or a.name] = f"{mod}.{a.name}" if mod else a.name
                s.imports.append(ImportInfo(mod, a.name, a.asname or a.name, stmt.lineno, stmt.level, scope))

    def run(self, tree: ast.Module) -> ModuleSummary:
        self._prepass(tree)
        module_frame = _Frame(MODULE_SCOPE, "module")
        self.ctx.frames.append(module_frame)
        # A rule's begin() may return False: it has nothing to look for in this module (e.g. the
        # module imports none of its frameworks), so its hooks are not dispatched at all.
        active = []
        for rule in self.rules:
            try:
                if rule.begin() is False:
                    continue
            except Exception as exc:
                self.errors.append((rule, exc))
                continue
            active.append(rule)
        keep = {id(r) for r in active}
        for table in (self.enter, self.leave):
            for k in list(table):
                hooks, seen = [], set()
                for h in table[k]:
                    if id(h.__self__) not in keep:
                        continue
                    fn = getattr(h, "__wrapped__", h)
                    fn = getattr(fn, "__func__", fn)
                    if getattr(fn, "once_per_module", False):
                        if fn in seen:
                            continue  # a shared recorder another active rule already runs
                        seen.add(fn)
                    hooks.append(h)
                if hooks:
                    table[k] = hooks
                else:
                    del table[k]
        self._specs = {}
        # ``Name`` leaves (a third of all nodes) are tokenised inline when nothing hooks them
        self._name_fast = "Name" not in self.enter and "Name" not in self.leave and "Name" not in _ENTER
        self._walk(tree)
        for rule in active:
            self._safe(rule, rule.finish)
        s = self.summary
        s.scope_assigns.setdefault(MODULE_SCOPE, {}).update(module_frame.assigns)
        s.var_types.setdefault(MODULE_SCOPE, {}).update(module_frame.types)
        for name, b in self._blocks.items():
            cand = _clone_candidate(b.nstmts, b.fields, b.ops)
            s.blocks.append(BlockInfo(name=name, scope=MAIN_SCOPE if name == "<main>" else MODULE_SCOPE,
                                      line=b.first, end_line=b.last, n_statements=b.nstmts,
                                      fingerprint=pack_hashes(_winnow(b.tokens)) if cand else b"",
                                      fields=frozenset(b.fields) if cand else frozenset(), ops=b.ops))
        return s

    def _safe(self, rule, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as exc:  # a broken rule never stops the scan
            self.errors.append((rule, exc))

    # -- the walk
    def _spec(self, cls) -> tuple:
        tname = cls.__name__
        spec = (tname, _CHILD_FIELDS.get(cls) or _child_fields(cls), _ENTER.get(tname), self.enter.get(tname),
                self.leave.get(tname), issubclass(cls, ast.stmt), _TOKEN_MODE.get(tname, 1))
        self._specs[cls] = spec
        return spec

    def _walk(self, node: ast.AST) -> None:
        ctx = self.ctx
        tname, fields, handler, hooks, lhooks, is_stmt, tok_mode = \
            self._specs.get(node.__class__) or self._spec(node.__class__)
        frame = ctx.frames[-1]
        kind = frame.kind
        # normalised token stream for clone fingerprints (functions, and top-level blocks); most
        # node types just add their name (mode 1) or nothing (mode 0), inline
        target = None
        if kind == "function":
            target = frame
        elif kind != "class":  # module or main
            parents = ctx.parents
            if is_stmt and parents and parents[-1].__class__ is _Module:
                self._block = self._block_for(node, kind)
            if self._block is not None and tname not in _DEF_NAMES:
                target = self._block
        if target is not None:
            if tok_mode == 2:
                self._token(target, node, tname, is_stmt)
            else:
                t = target.tokens
                if is_stmt:
                    t.append("|")
                if tok_mode == 1:
                    t.append(tname)
        pushed = handler(self, node) if handler is not None else None
        if hooks:
            for h in hooks:
                try:
                    h(node)
                except Exception as exc:
                    self.errors.append((h.__self__, exc))
        parents = ctx.parents
        parents.append(node)
        if tname == "If" and kind == "module" and _is_main_guard(node):
            self._block = None
            self._walk_main(node)
        else:
            walk = self._walk
            name_fast = self._name_fast
            cur = ctx.frames[-1]
            in_fn = cur.kind == "function"
            in_cls = cur.kind == "class"
            for fname in fields:
                value = getattr(node, fname, None)
                if value is None:
                    continue
                if value.__class__ is list:
                    for item in value:
                        if item.__class__ is _Name and name_fast:
                            if in_fn:
                                cur.tokens.append("N")
                            elif not in_cls and self._block is not None:
                                self._block.tokens.append("N")
                        elif isinstance(item, _AST):
                            walk(item)
                elif value.__class__ is _Name and name_fast:
                    if in_fn:
                        cur.tokens.append("N")
                    elif not in_cls and self._block is not None:
                        self._block.tokens.append("N")
                elif isinstance(value, _AST):
                    walk(value)
        parents.pop()
        if lhooks:
            for h in lhooks:
                try:
                    h(node)
                except Exception as exc:
                    self.errors.append((h.__self__, exc))
        if pushed:
            _LEAVE[pushed](self, node)

    def _block_for(self, stmt: ast.stmt, kind: str) -> Optional[_Frame]:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
            return None
        if kind == "module" and isinstance(stmt, ast.If) and _is_main_guard(stmt):
            return None
        if kind == "main":
            name = "<main>"
        elif self._cells:
            name = "<module>"
            for number, first, n in self._cells:
                if first <= stmt.lineno < first + max(n, 1):
                    name = f"<cell {number}>"
                    break
        else:
            name = "<module>"
        b = self._blocks.get(name)
        if b is None:
            b = _Frame(name, "block")
            b.first = stmt.lineno
            self._blocks[name] = b
        b.last = max(b.last, getattr(stmt, "end_lineno", stmt.lineno) or stmt.lineno)
        b.nstmts += 1
        return b

    def _walk_main(self, node: ast.If) -> None:
        self.summary.main_line = node.lineno
        self.ctx.frames.append(_Frame(MAIN_SCOPE, "main"))
        self._walk(node.test)
        saved = self._block
        for stmt in node.body:
            self._block = self._block_for(stmt, "main")
            self._walk(stmt)
        self._block = saved
        main = self.ctx.frames.pop()
        self.summary.scope_assigns[MAIN_SCOPE] = main.assigns
        self.summary.var_types[MAIN_SCOPE] = main.types
        for stmt in node.orelse:
            self._walk(stmt)

    def _token(self, frame: _Frame, node: ast.AST, tname: str, is_stmt: bool) -> None:
        """Normalised tokens: local names -> N, numbers -> C, field accesses (``df["a"]``,
        ``row["a"]``, ``row.get("a")``, ``req.a``) -> F:a, method/function attributes kept."""
        t = frame.tokens
        if is_stmt:
            t.append("|")
        if frame.skip is not None and id(node) == frame.skip:
            frame.skip = None
            return
        if tname == "Name":
            t.append("N")
        elif tname == "Constant":
            v = node.value
            if isinstance(v, str):
                if 0 < len(v) <= 40 and v.replace("_", "").replace("-", "").isalnum():
                    parent = self.ctx.parents[-1] if self.ctx.parents else None
                    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and \
                            parent.func.attr in ("get", "pop", "getattr") and parent.args and parent.args[0] is node:
                        t.append("F:" + v)
                    else:
                        t.append("S:" + v)
                    frame.fields.add(v)
                else:
                    t.append("S")
            else:
                t.append("C")
        elif tname == "Subscript":
            sl = node.slice
            if isinstance(sl, ast.Constant) and isinstance(sl.value, str) and 0 < len(sl.value) <= 40:
                t.append("F:" + sl.value)
                frame.fields.add(sl.value)
                frame.skip = id(sl)
            else:
                t.append("Subscript")
        elif tname == "Attribute":
            parent = self.ctx.parents[-1] if self.ctx.parents else None
            is_call = isinstance(parent, ast.Call) and parent.func is node
            value = node.value
            if not is_call and isinstance(value, ast.Name) and value.id not in ("self", "cls") and \
                    value.id not in self.summary.aliases and not isinstance(node.ctx, ast.Store):
                t.append("F:" + node.attr)
                frame.fields.add(node.attr)
            else:
                t.append("." + node.attr)
            if node.attr in _TRANSFORM_ATTRS:
                frame.ops += 1
        elif tname in ("Load", "Store", "Del", "arguments", "arg", "keyword", "alias", "Expr"):
            return
        elif tname in ("BinOp", "AugAssign", "UnaryOp", "BoolOp"):
            # operator nodes are not walked: fold the operator into the token
            t.append(tname + ":" + type(node.op).__name__)
            if tname != "BoolOp":
                frame.ops += 1
        elif tname == "Compare":
            t.append("Compare:" + ",".join(type(o).__name__ for o in node.ops))
        else:
            t.append(tname)


# How ``_token`` treats a node type: 0 = no token (statement bar only), 2 = special handling
# (``_token``); every other type (1) adds its name.
_TOKEN_MODE = {name: 0 for name in ("Load", "Store", "Del", "arguments", "arg", "keyword", "alias", "Expr")}
_TOKEN_MODE.update({name: 2 for name in ("Name", "Constant", "Subscript", "Attribute", "BinOp", "AugAssign", "UnaryOp",
                                         "BoolOp", "Compare")})

# Fields that can hold child nodes, per node class: ``ctx`` (Load/Store/Del) and operator
# singletons are skipped - nothing reads them and they are a third of all nodes.
_SKIP_FIELDS = frozenset({"ctx", "op", "ops"})
_CHILD_FIELDS: dict = {}


def _child_fields(cls) -> tuple:
    fields = tuple(f for f in cls._fields if f not in _SKIP_FIELDS)
    _CHILD_FIELDS[cls] = fields
    return fields


def _is_main_guard(node: ast.If) -> bool:
    t = node.test
    if isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq):
        sides = [t.left, t.comparators[0]]
        names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
        consts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
        return bool(names and consts)
    return False


# -- enter/leave handlers of the summariser itself ----------------------------------------
def _enter_function(self: Summariser, node) -> str:
    ctx = self.ctx
    parent = ctx.frames[-1]
    if parent.kind == "function":
        qual = f"{parent.qualname}.<locals>.{node.name}"
    elif parent.kind == "class":
        qual = f"{parent.qualname}.{node.name}"
    else:
        qual = node.name
    decorators = []
    for d in node.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        dotted = _dotted(target) or ""
        head = dotted.split(".")[0] if dotted else ""
        decorators.append(Decorator(
            qualname=ctx.qualname(target), dotted=dotted,
            args=[_val(ctx, a, 1) for a in d.args] if isinstance(d, ast.Call) else [],
            kwargs={k.arg: _val(ctx, k.value, 1) for k in d.keywords if k.arg} if isinstance(d, ast.Call) else {},
            receiver_type=ctx.var_type(head) if head and "." in dotted else None))
    params = []
    a = node.args
    for arg in list(a.posonlyargs) + list(a.args) + ([a.vararg] if a.vararg else []) + list(a.kwonlyargs) + (
            [a.kwarg] if a.kwarg else []):
        ann = None
        if arg.annotation is not None:
            ann_node = arg.annotation
            if isinstance(ann_node, ast.Subscript):
                ann = "[]" + (ctx.qualname(ann_node.value) or _dotted(ann_node.value) or "")
            elif isinstance(ann_node, ast.Constant) and isinstance(ann_node.value, str):
                ann = ann_node.value
            else:
                ann = ctx.qualname(ann_node) or _dotted(ann_node)
        params.append((arg.arg, ann))
    returns = None
    if node.returns is not None:
        returns = ctx.qualname(node.returns) or _dotted(node.returns)
    class_name = parent.qualname if parent.kind == "class" else None
    col = ctx.char_col(node.lineno, node.col_offset)
    end_col = col + len("async def " if isinstance(node, ast.AsyncFunctionDef) else "def ") + len(node.name)
    info = FunctionInfo(qualname=qual, name=node.name, line=node.lineno, col=col,
                        end_line=node.end_lineno or node.lineno, is_async=isinstance(node, ast.AsyncFunctionDef),
                        decorators=tuple(decorators), params=tuple(params), class_name=class_name, returns=returns,
                        def_end_col=end_col)  # n_statements: counted at the end, for clone candidates only
    self.summary.functions[qual] = info
    frame = _Frame(qual, "function", info, node)
    # parameters shadow module names; parameters typed with a class are known receivers
    for pname, ann in params:
        frame.assigns[pname] = shared_val("other", "param")
        if ann and not ann.startswith("[]"):
            frame.types[pname] = ann
    ctx.frames.append(frame)
    # defaults and decorators were evaluated in the enclosing scope; fine to walk inside.
    return "function"


def _statements(body: list):
    for stmt in body:
        yield stmt
        for attr in ("body", "orelse", "finalbody"):
            sub = getattr(stmt, attr, None)
            if isinstance(sub, list) and not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from _statements(sub)


def _leave_function(self: Summariser, node) -> None:
    frame = self.ctx.frames.pop()
    info: FunctionInfo = frame.info
    if len(frame.fields) >= CLONE_MIN_FIELDS and frame.ops >= CLONE_MIN_OPS:
        info.n_statements = sum(1 for _ in _statements(node.body))
        if _clone_candidate(info.n_statements, frame.fields, frame.ops):
            info.fingerprint = pack_hashes(_winnow(frame.tokens))
            info.fields = frozenset(frame.fields)
    info.ops = frame.ops
    info.globals_written = tuple(sorted(frame.globals))
    if frame.assigns:
        self.summary.scope_assigns[info.qualname] = frame.assigns
    if frame.types:
        self.summary.var_types[info.qualname] = frame.types


def _enter_class(self: Summariser, node: ast.ClassDef) -> str:
    ctx = self.ctx
    parent = ctx.frames[-1]
    qual = f"{parent.qualname}.{node.name}" if parent.kind == "class" else (
        f"{parent.qualname}.<locals>.{node.name}" if parent.kind == "function" else node.name)
    bases = [ctx.qualname(b) or _dotted(b) or "?" for b in node.bases]
    decos = [ctx.qualname(d.func if isinstance(d, ast.Call) else d) or _dotted(d.func if isinstance(d, ast.Call) else d) or "?"
             for d in node.decorator_list]
    methods = [b.name for b in node.body if isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef))]
    self.summary.classes[qual] = ClassInfo(qual, node.name, node.lineno, ctx.char_col(node.lineno, node.col_offset),
                                           bases, decos, methods)
    ctx.frames.append(_Frame(qual, "class", None, node))
    return "class"


def _leave_class(self: Summariser, node) -> None:
    self.ctx.frames.pop()


def _enter_import(self: Summariser, node) -> None:
    ctx = self.ctx
    frame = ctx.frames[-1]
    if frame.kind == "module":
        return None  # done in the pre-pass
    # function-local imports: visible for the rest of the function (or class body)
    self._import(node, frame.aliases, ctx.scope)
    return None


def _enter_call(self: Summariser, node: ast.Call) -> None:
    ctx = self.ctx
    func = node.func
    qual = None
    attr = None
    receiver = None
    receiver_type = None
    # Each branch below leaves in ``qual`` what ``ctx.call_qualname(node)`` computes, except for an
    # attribute of an unshadowed builtin (``dict.fromkeys``: None here): the rules' visit_Call hooks,
    # which run next, get it from the memo instead of resolving the name again.
    if isinstance(func, ast.Name):
        qual = ctx.resolve_name(func.id)
        ctx._cq_node, ctx._cq_value = node, qual
        if qual == func.id and qual in _SKIP_BUILTINS:
            return None  # an unshadowed builtin such as len() or print()
        if qual is None:
            # a local variable called (e.g. ``model(x)``): keep its name as the receiver
            receiver = func.id
            receiver_type = ctx.var_type(func.id)
    elif isinstance(func, ast.Attribute):
        attr = func.attr
        dotted = _dotted(func.value)
        if dotted is not None:
            receiver = dotted
            head = dotted.split(".")[0]
            base = ctx.resolve_name(head)
            if base is None:
                ctx._cq_node, ctx._cq_value = node, None
            elif not (base == head and head in _BUILTINS):
                qual = f"{base}{dotted[len(head):]}.{attr}"
                ctx._cq_node, ctx._cq_value = node, qual
            if qual is None:
                receiver_type = ctx.var_type(dotted)
                if receiver_type is None and dotted.startswith("self.") and ctx.class_name:
                    receiver_type = ctx.summary.var_types.get("@" + ctx.class_name, {}).get(dotted[5:])
        elif isinstance(func.value, ast.Call):
            ctx._cq_node, ctx._cq_value = node, None
            receiver = None
            inner = ctx.qualname(func.value.func)
            receiver_type = inner
    parents = ctx.parents
    parent = parents[-1] if parents else None
    assigned = None
    if isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1:
        assigned = _dotted(parent.targets[0])
    elif isinstance(parent, (ast.AnnAssign,)) and parent.value is node:
        assigned = _dotted(parent.target)
    elif isinstance(parent, ast.withitem) and parent.optional_vars is not None:
        assigned = _dotted(parent.optional_vars)
    line, col, end_line, end_col = ctx.span_of(node)
    args, star_args = (), False
    if node.args:
        vals = []
        for a in node.args:
            if a.__class__ is ast.Starred:
                star_args = True
            else:
                vals.append(_val(ctx, a, 0))
        args = tuple(vals)
    kwargs, star_kwargs = NO_KWARGS, False
    if node.keywords:
        kw = {}
        for k in node.keywords:
            if k.arg is None:
                star_kwargs = True
            else:
                kw[k.arg] = _val(ctx, k.value, 0)
        if kw:
            kwargs = NameMap.of(kw)
    info = CallInfo(
        qualname=qual, attr=attr, receiver=receiver, receiver_type=receiver_type,
        line=line, col=col, end_line=end_line, end_col=end_col, scope=ctx.scope,
        args=args, kwargs=kwargs,
        flags=(STAR_ARGS if star_args else 0) | (STAR_KWARGS if star_kwargs else 0)
        | (AWAITED if parent.__class__ is ast.Await else 0) | (IN_RETURN if parent.__class__ is ast.Return else 0)
        | (AUX_DRAW if qual in SCALAR_DRAWS and _aux_draw(parents) else 0) | (IN_LAMBDA if ctx.lambda_depth else 0),
        contexts=ctx.stack_tuple(0), loops=ctx.stack_tuple(1), guards=ctx.stack_tuple(2), assigned_to=assigned,
    )
    self.summary.calls.append(info)
    if qual in SPAWNERS:
        _spawned_call(self, node, info, SPAWNERS[qual])
    return None


def _spawned_call(self: Summariser, node: ast.Call, info: CallInfo, where: tuple) -> None:
    """``mp.spawn(main_worker, ...)`` runs ``main_worker`` (in each new process): recorded as a call
    of it at the same place, so the project graph follows the entrypoint into its workers (DDP
    scripts train there)."""
    pos, kw = where
    fn = next((k.value for k in node.keywords if k.arg == kw), None)
    if fn is None and pos is not None and len(node.args) > pos and node.args[pos].__class__ is not ast.Starred:
        fn = node.args[pos]
    if fn.__class__ is not ast.Name:
        return
    q = self.ctx.resolve_name(fn.id)
    if not q:
        return
    self.summary.calls.append(CallInfo(
        qualname=q, attr=None, receiver=None, receiver_type=None, line=info.line, col=info.col,
        end_line=info.end_line, end_col=info.end_col, scope=info.scope, args=(), kwargs=NO_KWARGS, flags=0,
        contexts=info.contexts, loops=info.loops, guards=info.guards))


def _enter_assign(self: Summariser, node) -> None:
    ctx = self.ctx
    frame = ctx.frames[-1]
    value = node.value
    if value is None:
        return None
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for t in targets:
        if isinstance(t, ast.Name):
            v = _val(ctx, value, 0)
            frame.assigns[t.id] = v
            if frame.kind == "module":
                self.summary.constants[t.id] = v
            if isinstance(value, ast.Call):
                q = ctx.qualname(value.func)
                if q is None and isinstance(value.func, ast.Attribute):
                    # ``x = obj.method(...)``: type by the receiver's known type
                    inner = _dotted(value.func.value)
                    rt = ctx.var_type(inner) if inner else None
                    q = f"{rt}.{value.func.attr}()" if rt else None
                if q:
                    frame.types[t.id] = q
                else:
                    frame.types.pop(t.id, None)
            else:
                frame.types.pop(t.id, None)
        elif isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
            cls = ctx.class_name
            if cls and isinstance(value, ast.Call):
                q = ctx.qualname(value.func)
                if q is None and isinstance(value.func, ast.Attribute):
                    inner = _dotted(value.func.value)
                    rt = ctx.var_type(inner) if inner else None
                    q = f"{rt}.{value.func.attr}()" if rt else None
                if q:
                    self.summary.var_types.setdefault("@" + cls, {})[t.attr] = q
                    frame.types["self." + t.attr] = q
        elif isinstance(t, ast.Attribute) and frame.kind in ("function", "main"):
            d = _dotted(t)
            if d and isinstance(value, ast.Call):
                q = ctx.qualname(value.func)
                if q:
                    frame.types[d] = q
    return None


def _enter_global(self: Summariser, node: ast.Global) -> None:
    frame = self.ctx.frames[-1]
    frame.globals.update(node.names)
    return None


def _enter_with(self: Summariser, node) -> str:
    ctx = self.ctx
    items = []
    for item in node.items:
        e = item.context_expr
        target = e.func if isinstance(e, ast.Call) else e
        items.append(ctx.qualname(target) or _dotted(target) or (target.attr if isinstance(target, ast.Attribute) else "?"))
    ctx.with_stack.append("|".join(items))
    ctx.stack_changed(0)
    return "with"


def _leave_with(self: Summariser, node) -> None:
    self.ctx.with_stack.pop()
    self.ctx.stack_changed(0)


def _enter_loop(self: Summariser, node) -> str:
    self.ctx.loop_stack.append(node.lineno)
    self.ctx.stack_changed(1)
    return "loop"


def _leave_loop(self: Summariser, node) -> None:
    self.ctx.loop_stack.pop()
    self.ctx.stack_changed(1)


def _enter_if(self: Summariser, node: ast.If) -> str:
    self.ctx.guard_stack.append(_guard_tokens(node.test))
    self.ctx.stack_changed(2)
    return "if"


def _leave_if(self: Summariser, node) -> None:
    self.ctx.guard_stack.pop()
    self.ctx.stack_changed(2)


def _enter_constant(self: Summariser, node: ast.Constant) -> None:
    v = node.value
    if isinstance(v, str) and len(v) < 2048 and v.startswith(_URI_PREFIXES):
        self.summary.strings.append((node.lineno, self.ctx.char_col(node.lineno, node.col_offset), v))
    return None


def _enter_lambda(self: Summariser, node) -> Optional[str]:
    """A lambda kept for later (a table of constructors, a default, a returned callback) runs when it
    is called; one passed to a call (``df.apply(lambda r: ...)``, ``sorted(key=...)``) runs there."""
    parents = self.ctx.parents
    parent = parents[-1] if parents else None
    if parent.__class__ is ast.Call or parent.__class__ is ast.keyword:
        return None
    self.ctx.lambda_depth += 1
    return "lambda"


def _leave_lambda(self: Summariser, node) -> None:
    self.ctx.lambda_depth -= 1


_ENTER = {
    "Lambda": _enter_lambda,
    "FunctionDef": _enter_function,
    "AsyncFunctionDef": _enter_function,
    "ClassDef": _enter_class,
    "Import": _enter_import,
    "ImportFrom": _enter_import,
    "Call": _enter_call,
    "Assign": _enter_assign,
    "AnnAssign": _enter_assign,
    "Global": _enter_global,
    "With": _enter_with,
    "AsyncWith": _enter_with,
    "For": _enter_loop,
    "AsyncFor": _enter_loop,
    "While": _enter_loop,
    "If": _enter_if,
    "Constant": _enter_constant,
}
_LEAVE = {
    "lambda": _leave_lambda,
    "function": _leave_function,
    "class": _leave_class,
    "with": _leave_with,
    "loop": _leave_loop,
    "if": _leave_if,
}


def summarise(tree: ast.Module, path: str, module: str, kind: str, source: Any, rules: list, sink: list,
              *, is_package: bool = False, settings: Any = None, maybe_serving: bool = True) -> tuple:
    """-> (ModuleSummary, [(rule, exception)])."""
    s = Summariser(path, module, kind, source, rules, sink, is_package=is_package, settings=settings)
    s.ctx.maybe_serving = maybe_serving
    summary = s.run(tree)
    if source is None:
        summary.n_lines = 0
    elif "\r" not in source.text:
        summary.n_lines = source.text.count("\n") + 1  # == len(source.lines), without splitting
    else:
        summary.n_lines = len(source.lines)
    if kind == "notebook" and source is not None:
        summary.magics = list(source.magics)
    return summary, s.errors
