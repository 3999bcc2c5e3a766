"""A model is deployed but the repository has no deployment or rollback documentation.

## What it does
When the repository deploys a model server (KServe/Seldon resources, a Deployment running a model
server, a SageMaker endpoint in CloudFormation, a Dockerfile that starts a serving module), looks
for deployment documentation: files named `RUNBOOK*`, `DEPLOY*`, `RELEASE*`, `OPERATIONS*`,
`PLAYBOOK*`, anything under `docs/` named like deploy/runbook/release/rollback/operations, or a
Markdown heading about deployment, release, rollback or runbooks. Reports once, at the first
model-serving config, when there is none.

## Why is this bad?
Checkpoint 19 (deployment documentation): when the person who set up the deployment is away, a
failed rollout or an urgent rollback depends on tribal knowledge. A short runbook (how to deploy,
verify, roll back, and whom to call) makes deployments repeatable by anyone on the team.

## Example
```yaml
# k8s/model.yaml, and no RUNBOOK.md, DEPLOY.md or README "Deployment" section anywhere
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: fraud-model
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: gs://models/fraud/v7
```

## Use instead
```yaml
# the same manifest, plus a README section such as:
#   ## Deployment and rollback
#   1. `kubectl apply -f k8s/model.yaml` ... 2. verify ... 3. roll back with ...
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: fraud-model
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: gs://models/fraud/v7
```

## Known limits
Documentation kept in a wiki or another repository is invisible. Whether the runbook is complete
cannot be checked.
"""
import re

from mllint.knowledge import deploy as DK
from mllint.rule import ProjectRule, RuleMeta

_DOC_FILE = re.compile(r"(^|/)(runbook|deploy|deployment|release|releasing|operations|playbook|rollback|ops)[^/]*"
                       r"\.(md|markdown|rst|txt|adoc|html)$|(^|/)docs?/(.*/)?[^/]*(deploy|runbook|release|rollback|"
                       r"operat|playbook|serving|production)[^/]*$|"
                       r"(^|/)(runbooks?|playbooks?|deploy(ments?)?|operations|ops|releases?|releasing)/(.*/)?[^/]+"
                       r"\.(md|markdown|rst|txt|adoc|html)$", re.I)
_HEADING = re.compile(r"deploy|release|rollback|roll(ing)?[ -]back|runbook|playbook|operations|production|serving|"
                      r"going live|shipping", re.I)


class MissingDeploymentRunbook(ProjectRule):
    meta = RuleMeta(code="ML1901", level="note", precision="medium", profile="production",
                    tags=("documentation", "deployment"))

    def check_project(self, project):
        serving = DK.model_serving_configs(project)
        if not serving:
            return
        if any(_DOC_FILE.search(p) for p in project.inventory):
            return
        for d in project.configs:
            if d.kind == "markdown" and any(_HEADING.search(h.text) for h in d.data.headings):
                return
        d = serving[0]
        line = DK.doc_anchor(d)
        yield self.finding(d.path, (line, 1, line, 2),
                           "this repository deploys a model but has no deployment documentation (RUNBOOK.md, "
                           "DEPLOY.md, docs/deploy*, or a README section on deployment and rollback); write down "
                           "how to deploy, verify and roll back")
