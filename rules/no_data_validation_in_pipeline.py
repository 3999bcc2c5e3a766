"""The training pipeline reads external data and nothing in the repository validates it.

## What it does
Fires once per repository when training code reads data (`pd.read_csv`/`read_parquet`/`read_sql`
and friends, polars and dask readers, `spark.read.*`, `datasets.load_dataset`) and the repository
shows no data validation:

- no validation library: Great Expectations (`great_expectations`/`gx`), pandera, TFDV
  (`validate_statistics`), deepchecks, Soda, whylogs constraints, Evidently (test suites and data-quality reports), pydeequ,
  pydantic models on the training path;
- no dbt `schema.yml` tests, no `great_expectations/` or Soda checks configuration;
- no hand-rolled checks: an `assert` on, or an `if ...: raise` guarded by, `isna`/`isnull`,
  `between`, `dtypes`, `duplicated`, `columns`, `schema` ... anywhere in the project.

The finding is anchored at the first read in training code (scripts before notebooks).

## Why is this bad?
Checkpoint 7 (data quality monitoring): upstream data changes silently (a renamed column, a unit
change, a burst of nulls, a new category). Without a check the pipeline trains on it, and the
first signal is a worse model in production.

## Example
```python
import pandas as pd
from sklearn.linear_model import LogisticRegression

df = pd.read_csv("s3://bucket/training/latest.csv")
model = LogisticRegression().fit(df.drop(columns=["y"]), df["y"])
```

## Use instead
```python
import pandas as pd
import pandera as pa
from sklearn.linear_model import LogisticRegression

schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check.between(0, 120)), "y": pa.Column(int)})
df = schema.validate(pd.read_csv("s3://bucket/training/latest.csv"))
model = LogisticRegression().fit(df.drop(columns=["y"]), df["y"])
```

## Known limits
Validation that runs outside the repository (a data platform, an orchestrator's data contracts)
is invisible; suppress the finding there. Any hand-rolled check anywhere in the project counts,
even one that guards a different dataset: an `assert` or a `raise` under an `if` that tests nulls,
dtypes or columns, compares a column (`(df["age"] < 0).any()`) or names what is wrong (`if
missing:`). A size check alone (`len(df) == 0`) is not a data-quality check.
"""
import ast
import re

from mllint.graph import split_scope
from mllint.knowledge import canonical
from mllint.knowledge import data as DK
from mllint.rule import FileRule, ProjectRule, RuleMeta
from mllint.summary import iter_nodes  # ast.walk without ctx/operator nodes, same order


def _tokens(test):
    out = set()
    for n in iter_nodes(test):
        if isinstance(n, ast.Attribute):
            out.add(n.attr)
        elif isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
            out.add(n.func.attr)
    return out


_CHECK_NAME = re.compile(r"missing|unexpected|invalid|nulls?$|nans?$|bad_|outliers?|violations?", re.I)


def _checks_data(test) -> bool:
    """``if (df["age"] < 0).any():`` (a column compared) or ``if missing:`` (a name that says what is
    wrong): a hand-rolled data check before a ``raise``.  A size check (``len(df) == 0``) is not."""
    for n in iter_nodes(test):
        if n.__class__ is ast.Name and _CHECK_NAME.search(n.id):
            return True
        if n.__class__ is ast.Compare:
            for side in [n.left, *n.comparators]:
                if side.__class__ is ast.Subscript and side.slice.__class__ is ast.Constant and \
                        isinstance(side.slice.value, str):
                    return True
    return False


class NoDataValidationInPipeline(FileRule, ProjectRule):
    meta = RuleMeta(code="ML0702", level="note", precision="medium", profile="production",
                    tags=("data-quality",))

    # ------------------------------------------------------------------ walk: hand-rolled checks
    def begin(self):
        self.seen = False

    def visit_Assert(self, node):
        if not self.seen and _tokens(node.test) & DK.VALIDATION_TOKENS:
            self.seen = True
            self.record(("check", node.lineno))

    def visit_Raise(self, node):
        if self.seen:
            return
        for parent in reversed(self.ctx.parents):
            if isinstance(parent, ast.If):
                if _tokens(parent.test) & DK.VALIDATION_TOKENS or _checks_data(parent.test):
                    self.seen = True
                    self.record(("check", node.lineno))
                return
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return

    # ------------------------------------------------------------------ project phase
    def check_project(self, project):
        if not project.has_training:
            return
        read = self._first_training_read(project)
        if read is None or self._validated(project):
            return
        path, c = read
        yield self.finding(path, c.span(), "training reads external data but the repository never validates it "
                                           "(no Great Expectations, pandera, TFDV, deepchecks, Soda, pydantic rows "
                                           "or assert/raise on nulls, ranges, dtypes); add a schema check before "
                                           "training")

    def _first_training_read(self, project):
        best = None
        for sid in project.training_scopes:
            path, _ = split_scope(sid)
            if project.is_test_path(path):
                continue
            for c, _ in project.calls(sid):
                q = canonical(c.qualname)
                is_read = q in DK.READ_FUNCTIONS or (
                    c.attr in DK.SPARK_READ_METHODS and c.receiver and c.receiver.split(".")[-1] == "read")
                key = (path.endswith(".ipynb"), path, c.line)  # pipelines before notebooks
                if is_read and (best is None or key < best[0]):
                    best = (key, path, c)
        return best[1:] if best else None

    def _validated(self, project) -> bool:
        for m in DK.VALIDATION_MODULES:
            if project.uses_module(m):
                return True
        if project.uses_module("pydantic"):
            for sid in project.training_scopes:
                path, _ = split_scope(sid)
                s = project.summaries.get(path)
                if s is not None and any((i.module or "").startswith("pydantic") for i in s.imports):
                    return True
        for _, c in project.all_calls():
            q = canonical(c.qualname)
            if q in DK.VALIDATION_FUNCTIONS:
                return True
        for s in project.summaries.values():
            if s.facts.get(self.meta.code):
                return True
        if project.has_file(r"(^|/)great_expectations(/|\.ya?ml$)|(^|/)gx/|(^|/)soda/|(^|/)checks\.ya?ml$"):
            return True
        if project.has_file(r"(^|/)dbt_project\.ya?ml$") and project.has_file(r"(^|/)(schema|_?[a-z_]*models?)\.ya?ml$"):
            return True
        return False
