"""A CI/CD job deploys to production with no staging job before it.

## What it does
In GitHub Actions workflows, finds jobs that deploy to production (an `environment:` named
`prod`/`production`/`live`, or a job id/name with both a production word and deploy/release/promote)
and follows their `needs:` chain: when no job in it targets `staging`/`stage`/`preprod`/`qa`/`uat`
(by environment, id or name), reports at the job's `environment:` (or its key). In GitLab CI, does
the same with `needs:` and the `stages:` order: a staging job in an earlier stage counts.
Workflows triggered by `workflow_run` (chained after another pipeline), rollback workflows and jobs,
and environments built from expressions are skipped; a chain of production jobs is reported once.

## Why is this bad?
Checkpoint 17 (staging environment): a model that loads, serves and scores correctly on a
developer's machine can still fail against production infrastructure, data and traffic shape. A
staging deploy with a smoke test in between catches wrong feature names, missing artefacts and
resource limits before users do.

## Example
```yaml
name: deploy
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: docker build -t ghcr.io/acme/model:${{ github.sha }} .
  deploy-prod:
    needs: build
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: kubectl apply -f k8s/
```

## Use instead
```yaml
name: deploy
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: docker build -t ghcr.io/acme/model:${{ github.sha }} .
  deploy-staging:
    needs: build
    runs-on: ubuntu-latest
    environment: staging
    steps:
      - run: kubectl apply -k k8s/overlays/staging
  deploy-prod:
    needs: deploy-staging
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: kubectl apply -k k8s/overlays/production
```

## Known limits
A job that only publishes a package (`npm publish`, `twine upload`, the PyPI publish action) deploys
no service and is not reported, whatever its environment is called. GitHub environment protection
rules (required reviewers, wait timers) live server-side and are
invisible; so are staging deploys run from another repository. The rule is a `note` for that
reason. A production workflow is not reported when another workflow of the repository deploys to
staging (a staging workflow on push, production on release): their order is not visible in code.
"""
import re

from mllint.knowledge import deploy as DK
from mllint.rule import ConfigRule, RuleMeta

_DEPLOY_WORD = re.compile(r"deploy|release|promot|rollout|publish|ship", re.I)
_ROLLBACK = re.compile(r"rollback|roll-back|roll back|revert|undo", re.I)


class DeployWithoutStaging(ConfigRule):
    meta = RuleMeta(code="ML1701", level="note", precision="medium", profile="production",
                    tags=("deployment", "staging"), config_kinds=("github-workflow", "gitlab-ci"))

    def check_config(self, doc, project):
        data = DK.as_map(doc.data)
        if doc.kind == "github-workflow":
            on = data.get("on", data.get(True))
            if isinstance(on, dict) and "workflow_run" in on:
                return
        jobs = DK.ci_jobs(doc)
        by_id = {j.id: j for j in jobs}
        stages = [str(s) for s in DK.as_list(data.get("stages"))] if doc.kind == "gitlab-ci" else []
        if any(_is_staging(j) for j in jobs) and doc.kind == "gitlab-ci" and not stages:
            return
        wf_name = str(data.get("name") or "") + " " + doc.path.rsplit("/", 1)[-1]
        if _ROLLBACK.search(wf_name):
            return  # a rollback restores a version that already ran in production
        if doc.kind == "github-workflow" and not any(_is_staging(j) for j in jobs) and \
                any(p != doc.path for p in _staging_workflows(project)):
            return  # staging is deployed by a workflow of its own (on push), production by this one
        for j in jobs:
            if not _is_prod(j) or _ROLLBACK.search(j.label) or _publishes_only(j):
                continue
            chain = _needs_chain(j, by_id)
            if any(_is_staging(by_id[n]) for n in chain if n in by_id):
                continue
            if any(_is_prod(by_id[n]) for n in chain if n in by_id):
                continue  # reported at the first production job of the chain
            if doc.kind == "gitlab-ci" and j.stage in stages:
                idx = stages.index(j.stage)
                if any(_is_staging(o) and o.stage in stages and stages.index(o.stage) < idx for o in jobs):
                    continue
            line = j.env_line if j.environment else j.line
            yield self.finding(doc, line, f"job `{j.id}` deploys to production with no staging/pre-production "
                                          f"job before it; deploy to staging and smoke-test there first")


# releasing a package to a registry (a ``production`` environment is how npm and PyPI trusted
# publishing authorise it): no service is deployed, so there is nothing to stage
_PUBLISH = re.compile(r"\b(npm|yarn|pnpm)\s+publish\b|\btwine\s+upload\b|\b(poetry|uv|flit|hatch|pdm)\s+publish\b|"
                      r"\bhelm\s+push\b|\bgem\s+push\b|\bcargo\s+publish\b|\bmvn\s+deploy\b")
_PUBLISH_ACTION = re.compile(r"pypi-publish|npm-publish|action-gh-release|release-action", re.I)


def _publishes_only(j) -> bool:
    """Does the job publish a package and deploy nothing?"""
    if DK.deploy_steps(j):
        return False
    return any(_PUBLISH.search(str(t)) for t, _ in j.commands) or any(_PUBLISH_ACTION.search(u) for u, _ in j.uses)


def _staging_workflows(project) -> set:
    """Paths of the GitHub workflows that have a staging job (memoised per project)."""
    memo = project.__dict__.setdefault("_ml1701_staging", {})
    if "paths" not in memo:
        memo["paths"] = {d.path for d in project.configs
                         if d.kind == "github-workflow" and any(_is_staging(j) for j in DK.ci_jobs(d))}
    return memo["paths"]


def _is_prod(j) -> bool:
    env = j.environment
    if env and ("${" in env or "{{" in env):
        return False
    if env:
        return bool(DK.PROD_RE.search(env)) and not DK.STAGING_RE.search(env)
    label = f"{j.id} {j.job.get('name') or ''}"
    return bool(DK.PROD_RE.search(label) and _DEPLOY_WORD.search(label)) and not DK.STAGING_RE.search(label)


def _is_staging(j) -> bool:
    label = f"{j.id} {j.job.get('name') or ''} {j.environment}"
    return bool(re.search(r"(^|[^a-z])(staging|stage|stg|preprod|pre-prod|pre-production|qa|uat)([^a-z]|$)", label,
                          re.I))


def _needs_chain(j, by_id) -> set:
    seen, todo = set(), list(j.needs)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        if n in by_id:
            todo.extend(by_id[n].needs)
    return seen
