"""Oversampled or augmented rows flow into the train/test split.

## What it does
Follows variables through the assignments of a function or module (a notebook's cells are one
module) and flags `fit_resample` of SMOTE, ADASYN, `RandomOverSampler` and the other imblearn
oversamplers, `sklearn.utils.resample(..., replace=True)` upsampling, and Keras
`ImageDataGenerator.flow` augmentation, when their output reaches `train_test_split`, a
cross-validation function, a splitter's `.split(X)` or a `*SearchCV.fit(X)`.

## Why is this bad?
Checkpoint 6 (point-in-time correctness): oversampling copies or interpolates rows. Done before
the split, copies of the same minority rows (or synthetic neighbours built from test rows) land
on both sides, so the test score measures memorisation, not generalisation.

## Example
```python
from imblearn.over_sampling import SMOTE
from sklearn.model_selection import train_test_split

X_res, y_res = SMOTE(random_state=0).fit_resample(X, y)
X_train, X_test, y_train, y_test = train_test_split(X_res, y_res, random_state=0)
```

## Use instead
```python
from imblearn.over_sampling import SMOTE
from sklearn.model_selection import train_test_split

X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
X_train, y_train = SMOTE(random_state=0).fit_resample(X_train, y_train)
```

## Known limits
Test files (under `tests/` or `test/`, `test_*.py`, `*_test.py`, `conftest.py`) are not checked:
they build synthetic data on purpose. The analysis is intra-procedural. An imblearn `Pipeline` that resamples inside cross-validation is
the right pattern and is never reported. Undersampling is not reported: it removes rows and
creates no overlap.
"""
import ast

from mllint.knowledge import data as DK, is_test_path
from mllint.knowledge.dataflow import SPLIT, Flow, kwarg, split_sink
from mllint.rule import FileRule, Location, RuleMeta


class OversamplingBeforeSplit(FileRule):
    meta = RuleMeta(code="ML0602", level="warning", precision="high", tags=("leakage", "data"))

    def begin(self):
        self.module = None
        if is_test_path(self.ctx.path):
            return False  # tests resample synthetic data on purpose
        return self.ctx.text_has("fit_resample", ".flow(", "resample(") and self.ctx.text_has(*DK.SPLIT_NEEDLES)

    def visit_Module(self, node):
        self.module = node

    def leave_FunctionDef(self, node):
        self._analyse(node.body)

    leave_AsyncFunctionDef = leave_FunctionDef

    def finish(self):
        if self.module is not None:
            self._analyse(self.module.body)

    def _analyse(self, body):
        self.events = []  # (node, what)
        self.reported = set()
        Flow(self.ctx, self._on_call).run(body)

    def _on_call(self, flow, call):
        sink = split_sink(flow, call)
        if sink is not None:
            deps, produced, name = sink
            for lab in sorted(deps):
                if lab[0] == "dup" and lab[1] not in self.reported:
                    self.reported.add(lab[1])
                    node, what = self.events[lab[1]]
                    self.report(node, f"{what} before `{name}` ({self.ctx.line_label(call.lineno)}) splits the data: copies of the "
                                      f"same rows land in train and test; split first and resample the training "
                                      f"part only", related=[Location(self.ctx.path, call.lineno, self.ctx.span_of(call)[1],
                                                                      message="the split")])
            return produced
        func = call.func
        what = None
        data = call.args[0] if call.args else None
        if isinstance(func, ast.Attribute):
            t = flow.type_of(func.value)
            if func.attr in DK.RESAMPLE_METHODS and t in DK.OVERSAMPLERS:
                what = f"`{t.rsplit('.', 1)[-1]}.{func.attr}` oversamples"
                data = data if data is not None else kwarg(call, "X")
            elif func.attr in DK.AUGMENT_METHODS and t in DK.AUGMENTERS:
                what = f"`{t.rsplit('.', 1)[-1]}.{func.attr}` augments"
                data = data if data is not None else kwarg(call, "x")
        if what is None and flow.qualname(call) == "sklearn.utils.resample":
            rep = kwarg(call, "replace")
            if isinstance(rep, ast.Constant) and rep.value is True:
                what = "`resample(replace=True)` upsamples"
        if what is None or data is None:
            return ()
        if SPLIT in flow.deps(data):
            return ()  # resampling a split part
        self.events.append((call, what))
        return {("dup", len(self.events) - 1)}
