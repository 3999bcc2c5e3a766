"""A shuffling train/test split or cross-validation splitter has no `random_state`.

## What it does
Flags `train_test_split` (which shuffles by default), `ShuffleSplit`, `StratifiedShuffleSplit`,
`GroupShuffleSplit`, `RepeatedKFold`/`RepeatedStratifiedKFold`, and `KFold`/`StratifiedKFold`
with `shuffle=True`, when no `random_state` is passed, in Python modules and notebooks, through
any import alias.

## Why is this bad?
Checkpoint 3 (reproducible training): each run draws a different split, so metrics move between
runs for reasons that have nothing to do with the change under test, and a reported result
cannot be reproduced.

## Example
```python
from sklearn.model_selection import train_test_split

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
```

## Use instead
```python
from sklearn.model_selection import train_test_split

SEED = 42
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=SEED)
```

## Known limits
Test files (under `tests/` or `test/`, `test_*.py`, `*_test.py`, `conftest.py`) are not checked:
they build synthetic data on purpose. A `random_state` given through a variable, `**kwargs` or a config object counts as set (the
value cannot be resolved statically). `shuffle=False` never needs a seed, and scikit-learn ≥ 0.24
rejects `random_state` with `KFold(shuffle=False)`. An inference notebook (it calls `predict` but
trains nothing, and no training code runs it) is not checked: its split feeds no model (a row picked
to query a deployed endpoint).

Without a `random_state`, scikit-learn draws from numpy's global generator, so a global numpy
seed (`np.random.seed`, `seed_everything`, `set_seed`...) makes the split repeatable. The rule
stays silent when one is set earlier in the same function, at module level or in the
`__main__` block, or anywhere an entrypoint that reaches the split runs (a training script or a
data-preparation stage; a seed helper in another module counts), as
`estimator-without-random-state` does.

## Fix safety
The fix adds `random_state=` with the module's `SEED`/`RANDOM_STATE` constant when there is one,
else `42`. It is unsafe: the split, and so every metric, changes once.
"""
import ast

from mllint.knowledge import canonical, is_test_path
from mllint.knowledge import training as TK
from mllint.rule import FileRule, ProjectRule, RuleMeta
from mllint.summary import MAIN_SCOPE, MODULE_SCOPE


class SplitWithoutRandomState(FileRule, ProjectRule):
    meta = RuleMeta(code="ML0301", level="warning", precision="very-high", tags=("reproducibility",),
                    fix="unsafe")

    # ------------------------------------------------------------------ walk: candidates
    def begin(self):
        self._seeds: dict = {}  # scope -> line of its first global numpy seed
        self._splits: list = []  # (span, scope, name)
        if is_test_path(self.ctx.path):
            return False  # a test's split of synthetic data is not the pipeline's (as for ML0305)
        # the import of a splitter spells its name (``train_test_split as tts`` too)
        return self.ctx.text_has(*TK.SPLITTER_NAMES)

    def visit_Call(self, node: ast.Call) -> None:
        q = canonical(self.ctx.call_qualname(node))
        if not q:
            return
        if q in TK.NUMPY_SEEDERS:
            self._seeds.setdefault(self.ctx.scope, node.lineno)
            return
        if q in TK.SPLIT_FUNCTIONS:
            needs = True
            shuffle = _kw(node, "shuffle")
            if shuffle is not None and self.ctx.literal(shuffle) is False:
                needs = False
        elif q in TK.SHUFFLING_SPLITTERS or q in TK.ALWAYS_SHUFFLE_REPEATED:
            needs = True
        elif q in TK.OPTIONAL_SHUFFLE_SPLITTERS:
            shuffle = _kw(node, "shuffle")
            # KFold(n_splits, *, shuffle=False, random_state=None): shuffle is keyword-only in
            # current sklearn; an old positional form is KFold(5, True)
            if shuffle is None and len(node.args) >= 2:
                shuffle = node.args[1]
            needs = shuffle is not None and self.ctx.literal(shuffle) is True
        else:
            return
        if not needs:
            return
        if any(k.arg is None for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
            return  # **kwargs / *args may carry random_state
        rs = _kw(node, "random_state")
        if rs is not None:
            if self.ctx.literal(rs) is not None:
                return  # a literal seed, a variable, a config value: set
            # explicit random_state=None is the same as not passing it
        self._splits.append((self.ctx.span_of(node), self.ctx.scope, q.rsplit(".", 1)[-1]))

    def finish(self) -> None:
        for span, scope, name in self._splits:
            if not self._seeded_here(scope, span[0]):
                self.record((*span, scope, name))

    def _seeded_here(self, scope: str, line: int) -> bool:
        """Is numpy's global generator seeded before this line runs, by code in this file: earlier
        in the same scope, or (for a function) at module level or in the ``__main__`` block, which
        run before the functions they call (for the ``__main__`` block: at module level above)."""
        seeds = self._seeds
        if seeds.get(scope, line) < line:
            return True
        if scope == MAIN_SCOPE:
            return seeds.get(MODULE_SCOPE, line) < line
        return scope != MODULE_SCOPE and (MODULE_SCOPE in seeds or MAIN_SCOPE in seeds)

    # ------------------------------------------- project: seeds set by a training entrypoint
    def check_project(self, project):
        reaching = getattr(project, "entrypoints_reaching", None)
        for path, summary in sorted(project.summaries.items()):
            facts = summary.facts.get(self.meta.code, ())
            # an inference notebook (it predicts, trains nothing, and no training code runs it):
            # its split picks rows to send to a model trained elsewhere (a deployed endpoint)
            idle_notebook = bool(facts) and summary.kind == "notebook" and \
                any(c.attr in _PREDICT_ATTRS for c in summary.calls) and \
                not any(TK.is_training_call(c) for c in summary.calls)
            for line, col, end_line, end_col, scope, name in facts:
                sid = f"{path}::{scope}"
                if idle_notebook and not project.entrypoints_reaching(path, scope, training=True):
                    continue
                eps = reaching(path, scope, training=False) if reaching is not None else []
                if scope in (MODULE_SCOPE, MAIN_SCOPE):
                    from mllint.graph import Entrypoint

                    # the file's own top level, run as a script (a seed helper it calls counts)
                    roots = [f"{path}::{s}" for s in (MODULE_SCOPE, MAIN_SCOPE) if f"{path}::{s}" in project.scope_calls]
                    eps = eps + [Entrypoint("module", path, roots or [sid])]
                if any(_seeded_for(project, ep, sid, line) for ep in eps):
                    continue  # sklearn falls back to numpy's generator, which is seeded first
                yield self.finding(path, (line, col, end_line, end_col),
                                   f"`{name}` shuffles without a fixed `random_state`; pass `random_state=SEED` "
                                   f"so the split is reproducible")


def _seeded_for(project, ep, sid: str, line: int) -> bool:
    """Does the entrypoint seed numpy before the split runs?  A split in a function it calls: a
    seed anywhere it runs counts (order-insensitive, as for estimators).  A split in its own top
    level (a script's module body or ``__main__`` block, a notebook): only a seed before that line,
    or in the modules it imports, or at module level for a split in the ``__main__`` block."""
    if sid not in ep.scopes:
        return "numpy" in project.seeded_frameworks(ep)
    scope = sid.rpartition("::")[2]
    for e in project.seed_trace(ep):
        if e.kind != "seed" or "numpy" not in e.frameworks:
            continue
        via = e.via
        if via is None or (via.scope == scope and via.line < line) or (scope == MAIN_SCOPE and via.scope == MODULE_SCOPE):
            return True
    return False


_PREDICT_ATTRS = frozenset({"predict", "predict_proba", "raw_predict", "invoke_endpoint", "explain"})


def _kw(node: ast.Call, name: str):
    for k in node.keywords:
        if k.arg == name:
            return k.value
    return None
