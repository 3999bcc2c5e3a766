"""A CD job deploys a model service and nothing checks that it works afterwards.

## What it does
In a project that trains or serves models, finds CI/CD jobs (GitHub Actions, GitLab CI) with a
step that deploys a service (`kubectl apply`, `helm upgrade`, `gcloud run deploy`,
`aws sagemaker update-endpoint`, `serverless deploy`, deploy actions...). Reports the deploy step
when no later step of the same job, and no job that `needs` it (or runs in a later GitLab stage),
runs a smoke test: `curl`/`wget`/HTTP checks, `kubectl rollout status`/`wait`, `pytest -m smoke`,
integration/e2e tests, k6, endpoint invocations, anything named smoke/health/verify/validate.
Documentation deploys (Pages, MkDocs) and package publishing are ignored.

## Why is this bad?
Checkpoint 19 (deployment documentation and verification): a deployment that "succeeded" only
means the API server accepted the manifest. The model may fail to load, return errors or wrong
shapes; without a post-deploy check the first user request finds out.

## Example
```yaml
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - run: kubectl apply -f k8s/model.yaml
```

## Use instead
```yaml
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - run: kubectl apply -f k8s/model.yaml
      - run: kubectl rollout status deployment/model --timeout=5m
      - run: curl -fsS -X POST https://models.acme.dev/v1/predict -d @tests/smoke_request.json
```

## Known limits
Checks run by the deployment platform itself (Argo CD health, Argo Rollouts analysis, readiness
probes) are not seen from CI; suppress with `# noqa: ML1902` when they cover it.
"""
from mllint.knowledge import deploy as DK
from mllint.rule import ConfigRule, RuleMeta


class NoPostDeployValidation(ConfigRule):
    meta = RuleMeta(code="ML1902", level="note", precision="medium", profile="production",
                    tags=("deployment", "validation"), config_kinds=("github-workflow", "gitlab-ci"))

    def check_config(self, doc, project):
        if DK.is_test(project, doc.path):
            return
        if not (project.has_training or project.has_serving or DK.model_serving_configs(project)):
            return
        jobs = DK.ci_jobs(doc)
        stages = [str(s) for s in DK.as_list(DK.as_map(doc.data).get("stages"))] if doc.kind == "gitlab-ci" else []
        for j in jobs:
            steps = DK.deploy_steps(j)
            if not steps:
                continue
            last_line = max(line for line, _ in steps)
            if _smoke_after(j, last_line):
                continue
            downstream = _downstream(j, jobs, stages)
            if any(_smoke_after(o, 0) for o in downstream):
                continue
            if any(DK.deploy_steps(o) for o in downstream):
                continue  # a later deploy job continues the rollout: judged there
            line, what = steps[-1]
            yield self.finding(doc, line, f"job `{j.id}` deploys (`{what}`) with no smoke test after it; add a "
                                          f"health/prediction check (curl, `kubectl rollout status`, smoke tests) "
                                          f"that fails the job")


def _smoke_after(job, line: int) -> bool:
    for text, l in job.commands:
        for off, row in enumerate(str(text).splitlines()):
            if l + off + DK.block_offset(text) > line and DK.SMOKE_RE.search(row) and not row.strip().startswith("#"):
                return True
    for action, l in job.uses:
        if l > line and DK.SMOKE_RE.search(action):
            return True
    return False


def _downstream(job, jobs, stages) -> list:
    out = []
    for o in jobs:
        if o is job:
            continue
        if job.id in o.needs:
            out.append(o)
        elif stages and job.stage in stages and o.stage in stages and stages.index(o.stage) > stages.index(job.stage) \
                and not o.needs:
            out.append(o)
    return out
