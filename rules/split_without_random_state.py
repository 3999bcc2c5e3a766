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
A `random_state` given through a variable, `**kwargs` or a config object counts as set (the
value cannot be resolved statically). `shuffle=False` never needs a seed, and scikit-learn ≥ 0.24
rejects `random_state` with `KFold(shuffle=False)`.

## Fix safety
The fix adds `random_state=` with the module's `SEED`/`RANDOM_STATE` constant when there is one,
else `42`. It is unsafe: the split, and so every metric, changes once.
"""
import ast

from mllint.knowledge import canonical
from mllint.knowledge import training as TK
from mllint.rule import FileRule, RuleMeta


class SplitWithoutRandomState(FileRule):
    meta = RuleMeta(code="ML0301", level="warning", precision="very-high", tags=("reproducibility",),
                    fix="unsafe")

    def visit_Call(self, node: ast.Call) -> None:
        q = canonical(self.ctx.call_qualname(node))
        if not q:
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
        name = q.rsplit(".", 1)[-1]
        self.report(node, f"`{name}` shuffles without a fixed `random_state`; pass `random_state=SEED` "
                          f"so the split is reproducible")


def _kw(node: ast.Call, name: str):
    for k in node.keywords:
        if k.arg == name:
            return k.value
    return None
