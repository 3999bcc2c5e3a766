"""Serving code re-implements feature logic that training computes elsewhere.

## What it does
Compares feature code reachable from serving request handlers with feature code reachable from
training entrypoints (functions, notebook cells and script bodies). Bodies are normalised:
variable names and numbers are abstracted, while the operations and the field names survive, and
`df["age"]`, `row["age"]`, `row.get("age")` and `payload.age` all read as the same field access.
A serving function whose normalised fingerprint matches a training fragment that shares at least
three field names is reported at the serving copy, with the training copy as a related location.

## Why is this bad?
Checkpoints 5/8 (training-serving consistency, feature store): two copies of the same feature
logic drift apart. The day one side changes a fill value, a clip bound or a log transform and the
other does not, the model is served features it was never trained on, silently (training-serving
skew).

## Example
```python
import numpy as np
import pandas as pd
from fastapi import FastAPI
from sklearn.linear_model import LogisticRegression

app = FastAPI()


def make_features(df):
    df["log_amount"] = np.log1p(df["amount"])
    df["age_bucket"] = (df["age"] // 10).clip(0, 9)
    df["is_weekend"] = df["weekday"] >= 5
    df["tenure_years"] = df["tenure_days"] / 365.0
    return df


def train():
    df = make_features(pd.read_parquet("train.parquet"))
    LogisticRegression().fit(df[["log_amount", "age_bucket"]], df["y"])


def features_for(row):
    row["log_amount"] = np.log1p(row["amount"])
    row["age_bucket"] = (row["age"] // 10).clip(0, 9)
    row["is_weekend"] = row["weekday"] >= 5
    row["tenure_years"] = row["tenure_days"] / 365.0
    return row


@app.post("/predict")
def predict(row: dict):
    return features_for(row)


if __name__ == "__main__":
    train()
```

## Use instead
```python
import pandas as pd
from fastapi import FastAPI
from sklearn.linear_model import LogisticRegression

from features import make_features  # one definition, imported by training and serving

app = FastAPI()


def train():
    df = make_features(pd.read_parquet("train.parquet"))
    LogisticRegression().fit(df[["log_amount", "age_bucket"]], df["y"])


@app.post("/predict")
def predict(row: dict):
    return make_features(row)


if __name__ == "__main__":
    train()
```

## Known limits
Functions with fewer than three statements, fewer than three field names or fewer than two
transformation operations are not treated as feature code. Serving implemented in another
language, or features computed in SQL on one side, are out of reach. Matching is by fingerprint
similarity (winnowed 5-grams, Jaccard ≥ 0.6, or ≥ 0.7 containment in a notebook cell or script body);
a function reachable from both training and serving is the shared definition and is never reported.
"""
from mllint.finding import Location
from mllint.rule import ProjectRule, RuleMeta
from mllint.summary import CLONE_MIN_FIELDS, CLONE_MIN_OPS, CLONE_MIN_STATEMENTS, fingerprint_hashes

# the summariser fingerprints only code above these thresholds (one definition, in summary.py)
MIN_STATEMENTS = CLONE_MIN_STATEMENTS
MIN_FIELDS = CLONE_MIN_FIELDS
MIN_OPS = CLONE_MIN_OPS
MIN_HASHES = 4


class DuplicatedFeatureLogic(ProjectRule):
    meta = RuleMeta(code="ML0501", level="warning", precision="medium", tags=("skew", "features"),
                    options={"min-jaccard": 0.6, "min-shared-fields": MIN_FIELDS})

    def check_project(self, project):
        if not project.request_scopes or not project.training_scopes:
            return
        min_j = float(self.options.get("min-jaccard", 0.6))
        min_f = int(self.options.get("min-shared-fields", MIN_FIELDS))
        train_units, serve_units = [], []
        for path, s in project.summaries.items():
            if project.is_test_path(path):
                continue
            for q, fn in s.functions.items():
                if not _is_feature_code(fn.n_statements, fn.fields, fn.ops, fn.fingerprint):
                    continue
                sid = f"{path}::{q}"
                in_train = sid in project.training_scopes
                in_serve = sid in project.request_scopes
                if in_train and in_serve:
                    continue  # the shared definition: the fix, never a finding
                unit = (path, fn.qualname, fn.span(), fingerprint_hashes(fn.fingerprint), fn.fields, False)
                if in_train:
                    train_units.append(unit)
                elif in_serve:
                    serve_units.append(unit)
            for b in s.blocks:
                if not _is_feature_code(b.n_statements, b.fields, b.ops, b.fingerprint):
                    continue
                if f"{path}::{b.scope}" in project.training_scopes:
                    train_units.append((path, b.name, b.span(), fingerprint_hashes(b.fingerprint), b.fields, True))
        if not train_units or not serve_units:
            return
        index: dict = {}
        for i, u in enumerate(train_units):
            for h in u[3]:
                index.setdefault(h, []).append(i)
        for spath, sname, sspan, sfp, sfields, _ in serve_units:
            counts: dict = {}
            for h in sfp:
                for i in index.get(h, ()):
                    counts[i] = counts.get(i, 0) + 1
            best = None
            for i, shared in counts.items():
                tpath, tname, tspan, tfp, tfields, is_block = train_units[i]
                if (tpath, tname) == (spath, sname):
                    continue
                common_fields = sfields & tfields
                if len(common_fields) < min_f:
                    continue
                if is_block:
                    score = shared / len(sfp)
                    ok = score >= max(min_j, 0.7)
                else:
                    score = shared / len(sfp | tfp)
                    ok = score >= min_j
                if ok and (best is None or score > best[0]):
                    best = (score, i, common_fields)
            if best is None:
                continue
            score, i, common = best
            tpath, tname, tspan, *_ = train_units[i]
            fields = ", ".join(f"`{f}`" for f in sorted(common)[:5])
            where = f"{tname} in {tpath}" if not tname.startswith("<") else f"{tname} of {tpath}"
            rel = Location(tpath, tspan[0], tspan[1], tspan[2], tspan[3], message=f"training copy: {where}")
            yield self.finding(spath, sspan,
                               f"`{sname}` re-implements feature logic that training computes in `{where}` "
                               f"({int(score * 100)}% similar; shared fields {fields}); define the features once "
                               f"in a module that training and serving both import", related=[rel])


def _is_feature_code(n_statements, fields, ops, fingerprint: bytes) -> bool:
    return n_statements >= MIN_STATEMENTS and len(fields) >= MIN_FIELDS and ops >= MIN_OPS and \
        len(fingerprint) >= 4 * MIN_HASHES  # packed uint32s
