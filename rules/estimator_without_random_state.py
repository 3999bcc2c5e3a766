"""A stochastic estimator in training code has no fixed `random_state`/seed.

## What it does
Flags stochastic scikit-learn estimators and searches (`RandomForest*`, `ExtraTrees*`,
`GradientBoosting*`, `HistGradientBoosting*`, `SGD*`, `MLP*`, `KMeans`/`MiniBatchKMeans`,
`IsolationForest`, `RandomizedSearchCV`, `TSNE`, `TruncatedSVD`, `PCA(svd_solver="randomized")`,
`LogisticRegression` with a `sag`/`saga` solver, or `liblinear` with `penalty="l1"` or `dual=True`, `SVC(probability=True)`), and with the
`boosting-libraries` option XGBoost/LightGBM/CatBoost models, built without `random_state` (or
`seed`/`random_seed`) or with an explicit `random_state=None`, in code reachable from a training entrypoint (scripts and notebooks).

## Why is this bad?
Checkpoint 3 (reproducible training): the estimator draws from an unseeded random generator, so
two runs on the same data give different models and metrics, and a result cannot be reproduced or
bisected.

## Example
```python
from sklearn.ensemble import RandomForestClassifier

if __name__ == "__main__":
    clf = RandomForestClassifier(n_estimators=200)
    clf.fit(X_train, y_train)
```

## Use instead
```python
from sklearn.ensemble import RandomForestClassifier

SEED = 42
if __name__ == "__main__":
    clf = RandomForestClassifier(n_estimators=200, random_state=SEED)
    clf.fit(X_train, y_train)
```

## Configuration
`boosting-libraries` (default `false`): also report XGBoost (`XGB*`), LightGBM (`LGBM*`) and
CatBoost models without `random_state`/`seed`/`random_seed`. Off by default because these libraries
fall back to fixed built-in seeds (XGBoost `seed=0`, CatBoost `random_seed=0`, LightGBM's fixed
`bagging_seed`/`feature_fraction_seed`), so two runs already agree; the explicit seed only protects
against default changes between releases.

## Known limits
A seed given through a variable, `**params` or a config object counts as set. scikit-learn
estimators stay silent when a global `numpy` seed (`np.random.seed`, `seed_everything`,
`set_seed`...) is reached from the same training entrypoint: with `random_state=None` they draw from
numpy's global generator. XGBoost, LightGBM and CatBoost do not read numpy's generator, so only an
explicit seed argument counts for them. A seed set afterwards with `est.set_params(random_state=...)`
counts. Estimators only constructed (never in training code) are not reported.

## Fix safety
The fix adds `random_state=` (the keyword the message names) with the module's `SEED`/
`RANDOM_STATE` constant when there is one, else `42`. It is unsafe: the model, and so every
metric, changes once.
"""
import ast

from mllint.knowledge import canonical
from mllint.knowledge import training as TK
from mllint.rule import FileRule, ProjectRule, RuleMeta
from mllint.summary import MISSING


class EstimatorWithoutRandomState(FileRule, ProjectRule):
    meta = RuleMeta(code="ML0305", level="warning", precision="high", profile="poc",
                    tags=("reproducibility",), fix="unsafe",
                    options={"boosting-libraries": False})

    # ------------------------------------------------------------------ walk: candidates
    def begin(self):
        # a name resolves to sklearn/xgboost/... only through an import that spells the package
        return self.ctx.text_has(*TK.STOCHASTIC_PACKAGES)

    def visit_Call(self, node: ast.Call) -> None:
        q = canonical(self.ctx.call_qualname(node))
        if not q or q not in TK.STOCHASTIC_ESTIMATORS:
            return
        if any(k.arg is None for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
            return  # **params / *args may carry the seed
        library, seed_kws = TK.STOCHASTIC_ESTIMATORS[q]
        if library != "numpy" and not self.options.get("boosting-libraries"):
            return  # XGBoost/LightGBM/CatBoost fall back to fixed built-in seeds: opt-in only
        kws = {k.arg: k.value for k in node.keywords}
        cond = TK.CONDITIONAL_STOCHASTIC.get(q)
        if cond is not None:
            kw, _, values = cond
            v = kws.get(kw)
            if v is None:
                return
            lit = self.ctx.literal(v)
            if lit is MISSING or lit not in values:
                return
        name = q.rsplit(".", 1)[-1]
        if name == "LogisticRegression" and self.ctx.literal(kws["solver"]) == "liblinear":
            # liblinear solves the L2 primal (the default penalty) by a deterministic Newton method;
            # it draws only for the L1 penalty or the dual (coordinate descent in random order)
            pen = kws.get("penalty", node.args[0] if node.args else None)
            dual = kws.get("dual")
            if (pen is None or self.ctx.literal(pen) != "l1") and (dual is None or self.ctx.literal(dual) is not True):
                return
        if name in ("KMeans", "MiniBatchKMeans"):
            init = kws.get("init")
            if init is not None and not isinstance(self.ctx.literal(init), str):
                return  # explicit initial centres: deterministic
        if name.startswith("SGD"):
            sh = kws.get("shuffle")
            if sh is not None and self.ctx.literal(sh) is False and "early_stopping" not in kws:
                return
        if name == "HistGradientBoostingClassifier" or name == "HistGradientBoostingRegressor":
            es = kws.get("early_stopping")
            if es is not None and self.ctx.literal(es) is False:
                return  # no validation split, no subsampling below 2e5 rows: deterministic enough
        explicit_none = False
        for kw in seed_kws:
            if kw in kws:
                lit = self.ctx.literal(kws[kw])
                if lit is None:
                    explicit_none = True
                    continue
                return  # a literal seed, a variable, a config value: set
        if library == "catboost" and "params" in kws:
            return
        self.record((*self.ctx.span_of(node), self.ctx.scope, name, library, seed_kws[0], explicit_none))

    # ------------------------------------------------------------- project: training only
    def check_project(self, project):
        seeded_cache = {}

        def seeded(ep):
            key = (ep.path, tuple(ep.scopes))
            if key not in seeded_cache:
                helper = getattr(project, "seeded_frameworks", None)
                if helper is not None:
                    seeded_cache[key] = set(helper(ep))
                else:
                    out = set()
                    for sid in project.reachable(ep.scopes):
                        for call, _ in project.calls(sid):
                            out |= TK.seeded_frameworks(call)
                    seeded_cache[key] = out
            return seeded_cache[key]

        reaching = getattr(project, "entrypoints_reaching", None)
        for path, summary in sorted(project.summaries.items()):
            facts = summary.facts.get(self.meta.code)
            if not facts or project.is_test_path(path):
                continue
            for line, col, end_line, end_col, scope, name, library, kw, explicit_none in facts:
                if not project.is_training(path, scope):
                    continue
                if _seeded_later(summary, scope, line, col, kw):
                    continue  # ``clf.set_params(random_state=SEED)`` before it is fitted
                if reaching is not None:
                    eps = reaching(path, scope)
                else:
                    sid = f"{path}::{scope}"
                    eps = [ep for ep in project.training_entrypoints if sid in project.reachable(ep.scopes)]
                if not eps:
                    continue
                if library == "numpy" and any("numpy" in seeded(ep) for ep in eps):
                    continue  # sklearn falls back to numpy's seeded global generator
                how = f"`{kw}=None`" if explicit_none else f"no `{kw}`"
                yield self.finding(path, (line, col, end_line, end_col),
                                   f"`{name}` is stochastic and built with {how}; pass `{kw}=SEED` so training "
                                   f"is reproducible")


def _seeded_later(summary, scope: str, line: int, col: int, kw: str) -> bool:
    """The estimator built at (line, col) is assigned to a name whose ``set_params`` sets the seed."""
    target = next((c.assigned_to for c in summary.calls if c.line == line and c.col == col and c.scope == scope), None)
    if not target:
        return False
    return any(c.scope == scope and c.attr == "set_params" and c.receiver == target and kw in c.kwargs
               for c in summary.calls)
