"""A shuffling `DataLoader` draws its order from the global torch RNG instead of its own generator.

## What it does
In code reached from a training entrypoint that seeds torch (`torch.manual_seed`,
`seed_everything`, `set_seed`...), flags `DataLoader(..., shuffle=True)` built without
`generator=` (and without an explicit `sampler=`). Part of the `strict` profile.

## Why is this bad?
Checkpoint 3 (reproducible training): the loader takes its shuffle seed from the global torch
generator, so the data order depends on every other random draw made before it (weight
initialisation, dropout, augmentation). Adding a layer or changing an augmentation silently changes
the data order too, and two experiments that should differ in one thing differ in two. A dedicated,
seeded `torch.Generator` keeps the order fixed.

## Example
```python
import torch
from torch.utils.data import DataLoader

if __name__ == "__main__":
    torch.manual_seed(0)
    loader = DataLoader(train_ds, batch_size=64, shuffle=True)
    for x, y in loader:
        model(x).sum().backward()
        opt.step()
```

## Use instead
```python
import torch
from torch.utils.data import DataLoader

if __name__ == "__main__":
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    loader = DataLoader(train_ds, batch_size=64, shuffle=True, generator=g)
    for x, y in loader:
        model(x).sum().backward()
        opt.step()
```

## Known limits
Entry points that never seed torch are left to `unseeded-training` (ML0303). Loaders built with
`**kwargs` are not reported, nor loaders in Accelerate, Lightning or Hugging Face `Trainer` flows
(they rebuild the loader and seed its sampler themselves).
"""
from mllint.knowledge import canonical
from mllint.knowledge import distributed as DK
from mllint.knowledge import training as TK
from mllint.rule import ProjectRule, RuleMeta


class DataloaderUnseeded(ProjectRule):
    meta = RuleMeta(code="ML0310", level="note", precision="high", profile="strict",
                    tags=("reproducibility", "determinism"), fix="none")

    def check_project(self, project):
        seen = set()
        helper = getattr(project, "seeded_frameworks", None)
        for ep in project.training_entrypoints:
            reach = DK.entry_reach(project, ep)
            calls = DK.reach_calls(project, reach)
            if helper is not None:
                seeded = set(helper(ep))
            else:
                seeded = set()
                for _, _, c, _ in calls:
                    seeded |= TK.seeded_frameworks(c)
            if "torch" not in seeded:
                continue
            if any(DK.injects_sampler(c) for _, _, c, _ in calls):
                continue  # Accelerate/Lightning/HF Trainer rebuild the loader and manage its seeding
            for path, _, call, _ in calls:
                if canonical(call.qualname) not in DK.DATALOADERS or project.is_test_path(path):
                    continue
                if call.star_kwargs or call.star_args or "generator" in call.kwargs or "sampler" in call.kwargs \
                        or "batch_sampler" in call.kwargs or len(call.args) >= 4:
                    continue
                sh = call.arg(2, "shuffle")
                if sh is None or sh.kind != "const" or sh.value is not True:
                    continue
                key = (path, call.line, call.col)
                if key in seen:
                    continue
                seen.add(key)
                yield self.finding(path, call.span(),
                                   "this shuffling `DataLoader` takes its order from the global torch RNG, so any "
                                   "other random draw changes the data order; pass "
                                   "`generator=torch.Generator().manual_seed(SEED)`")
