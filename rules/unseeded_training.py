"""A training entrypoint draws random numbers before any seed is set for that framework.

## What it does
For every training entrypoint (a `__main__` script, a notebook, a `@hydra.main` function, a
`dvc.yaml`/`MLproject`/Dockerfile/CI command, a `[project.scripts]` target), follows the code it
runs in order, across modules and through helper functions, and reports the frameworks whose
global random number generator is used (layer construction and `torch.rand*`, a shuffling
`DataLoader`, `np.random.*`, `random.*`, Keras layers and `tf.random.*`, an unseeded
`np.random.default_rng()`, a Keras `ImageDataGenerator.flow*` without `seed=`, which shuffles and
augments with numpy's generator) before a seed for that framework is set. A shuffling `DataLoader`
draws its order when training iterates it, so one built before the seed and iterated after it is
fine. A draw after the last training step (an example picked for display) is not counted, nor is a
scalar draw that picks a port, a config hyperparameter, the seed itself (`seed = np.random.randint(2**31)`
when none is configured) or the examples a `show_*`/`display_*`/`plot_*` function shows; nor is a
draw under an `if` on a debug switch (`if cfg.debug: print(sample(rows))`). The finding sits on the entrypoint; the first unseeded use is a related location.

## Why is this bad?
Checkpoint 3 (reproducible training): without seeds, weight initialisation, shuffling and
dropout differ on every run, so two runs of the same commit give different models and metrics, and
a regression cannot be told apart from noise.

## Example
```python
import torch
from torch import nn

def main():
    model = nn.Linear(10, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(8, 10)).sum()
    loss.backward()
    opt.step()

if __name__ == "__main__":
    main()
```

## Use instead
```python
import torch
from torch import nn

def main():
    torch.manual_seed(0)
    model = nn.Linear(10, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(8, 10)).sum()
    loss.backward()
    opt.step()

if __name__ == "__main__":
    main()
```

## Known limits
Seeds set in project helpers (`utils.seed_everything()`) are followed through the call graph; a
call the analysis cannot resolve whose name contains `seed` counts as seeding everything. The
Hugging Face `Trainer` and optimum's `ORTTrainer` (seeded from `TrainingArguments.seed`) and `LightningCLI`
count as seeded.
JAX code passes explicit keys and is exempt. scikit-learn estimators and splitters without
`random_state` are reported by `split-without-random-state` and `estimator-without-random-state`
instead. Notebooks are anchored at the cell line that leads to the first unseeded use (a notebook
has no main block), and since cells are re-run out of order, a notebook is only reported for a
framework it never seeds.

## Fix safety
The fix inserts seed calls for the frameworks in use at the top of the main block (or after the
imports). It is unsafe: results change once, and distributed jobs may need per-rank seeds.
"""
from mllint.rule import ProjectRule, RuleMeta

_SETTER = {
    "torch": "torch.manual_seed(SEED)",
    "numpy": "np.random.seed(SEED)",
    "random": "random.seed(SEED)",
    "tensorflow": "tf.random.set_seed(SEED)",
    "numpy-generator": "np.random.default_rng(SEED) instead of an unseeded generator",
}


class UnseededTraining(ProjectRule):
    meta = RuleMeta(code="ML0303", level="warning", precision="high", tags=("reproducibility", "seeds"),
                    fix="unsafe")

    def check_project(self, project):
        from mllint.finding import Location

        reported = set()
        for ep in project.training_entrypoints:
            if project.is_test_path(ep.path) or ep.path in reported:
                continue
            first = project.unseeded_consumers(ep)
            summary = project.summary(ep.path)
            notebook = summary is not None and summary.kind == "notebook"
            if notebook:
                # Cells are re-run: a model built before a seeding cell is usually rebuilt after it.
                # In notebooks only frameworks that are never seeded are reported.
                seeded = project.seeded_frameworks(ep)
                first = {fw: e for fw, e in first.items() if fw not in seeded}
            if not first:
                continue
            reported.add(ep.path)
            fws = sorted(first)
            events = sorted(first.values(), key=lambda e: (e.path != ep.path, e.call.line))
            e0 = events[0]
            names = ", ".join(f"`{fw}`" for fw in fws)
            how = "; ".join(_SETTER.get(fw, fw) for fw in fws)
            what = e0.call.qualname or e0.call.attr or "a random draw"
            rel = [Location(e.path, e.call.line, e.call.col, e.call.end_line, e.call.end_col,
                            message=f"first unseeded use of {', '.join(sorted(e.frameworks))}: {e.call.qualname or e.call.attr}")
                   for e in events]
            if notebook or ep.kind == "script" or (summary is not None and not summary.main_line):
                # no main block (a notebook, or a script run as is by a command or a config):
                # anchor at the line that leads to the first use
                anchor = e0.call if e0.path == ep.path else (e0.via or e0.call)
                path, span = (ep.path, anchor.span()) if anchor is not e0.call or e0.path == ep.path else (e0.path, e0.call.span())
                if e0.path == ep.path:
                    rel = rel[1:]
            else:
                path, span = ep.anchor
                if ep.kind == "main" and summary is not None:
                    span = (summary.main_line, 1, summary.main_line, 27)
            yield self.finding(path, span,
                               f"this training entrypoint uses the {names} random generator"
                               f"{'s' if len(fws) > 1 else ''} (first: `{what}`) before any seed is set; "
                               f"seed it first ({how})", related=rel)
