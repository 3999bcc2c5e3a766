"""Behaviour of ML0101 and ML0302 that one fixture folder cannot show: project-wide switches
(bucket versioning, lock files at the root, library vs application)."""
from __future__ import annotations

import json

from conftest import run_cli

UPLOAD = 'import boto3\n\ns3 = boto3.client("s3")\ns3.upload_file("model.pkl", "b", "churn/model.pkl")\n'
TRAIN = ("from sklearn.linear_model import LogisticRegression\n\nif __name__ == '__main__':\n"
         "    LogisticRegression().fit([[0], [1]], [0, 1])\n")


def scan(repo, *codes):
    code, out, err = run_cli(["check", "--no-cache", "--output-format", "json", "--select", ",".join(codes), "."],
                             cwd=str(repo))
    assert code in (0, 1), err
    return json.loads(out)


def test_ml0101_is_a_warning_then_a_note_with_bucket_versioning(make_repo):
    repo = make_repo({"publish.py": UPLOAD})
    [f] = scan(repo, "ML0101")
    assert f["level"] == "warning" and "churn/model.pkl" in f["message"]
    (repo / "infra.py").write_text('import boto3\nboto3.client("s3").put_bucket_versioning(Bucket="b", '
                                   'VersioningConfiguration={"Status": "Enabled"})\n')
    [f] = scan(repo, "ML0101")
    assert f["level"] == "note"


def test_ml0101_resolves_constants_imported_from_project_modules(make_repo):
    repo = make_repo({"pkg/__init__.py": "", "pkg/keys.py": 'MODEL_KEY = "serving/current.onnx"\n',
                      "pkg/publish.py": 'import boto3\nfrom pkg.keys import MODEL_KEY\n\n'
                                        's3 = boto3.client("s3")\ns3.upload_file("m.onnx", "b", MODEL_KEY)\n'})
    [f] = scan(repo, "ML0101")
    assert f["location"]["path"] == "pkg/publish.py" and "serving/current.onnx" in f["message"]


def test_ml0302_lock_file_at_the_root_covers_subprojects(make_repo):
    files = {"svc/requirements.txt": "torch>=2\n", "svc/train.py": TRAIN}
    repo = make_repo(files)
    assert [f["location"]["path"] for f in scan(repo, "ML0302")] == ["svc/requirements.txt"]
    (repo / "uv.lock").write_text("version = 1\n")
    assert scan(repo, "ML0302") == []


def test_ml0302_needs_an_application(make_repo):
    repo = make_repo({"requirements.txt": "torch>=2\n", "lib/util.py": "def f():\n    return 1\n"})
    assert scan(repo, "ML0302") == []
    (repo / "Dockerfile").write_text("FROM python:3.11\nCOPY . /app\n")
    assert len(scan(repo, "ML0302")) == 1


PKG = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n[project]\nname = "cookbook"\n'


def test_ml0302_a_packages_requirements_file_is_its_dependency_list(make_repo):
    """A requirements file the package's build backend reads as its dependencies is declared like
    ``[project.dependencies]`` (ranges for installers); a package's other requirements files are
    still read."""
    files = {"requirements.txt": "torch>=2.2\n", "serve/requirements.txt": "transformers>=4.45\n",
             "serve/train.py": TRAIN, "train.py": TRAIN}
    hatch = PKG + 'dynamic = ["dependencies"]\n\n[tool.hatch.metadata.hooks.requirements_txt]\nfiles = ["requirements.txt"]\n'
    setuptools = PKG + 'dynamic = ["dependencies"]\n\n[tool.setuptools.dynamic]\ndependencies = {file = ["requirements.txt"]}\n'
    for pyproject in (hatch, setuptools):
        repo = make_repo({**files, "pyproject.toml": pyproject})
        assert [f["location"]["path"] for f in scan(repo, "ML0302")] == ["serve/requirements.txt"]
    repo = make_repo({**files, "pyproject.toml": PKG})
    assert sorted(f["location"]["path"] for f in scan(repo, "ML0302")) == ["requirements.txt", "serve/requirements.txt"]


def test_ml0302_hashes_make_a_lock(make_repo):
    repo = make_repo({"requirements.txt": "torch>=2 --hash=sha256:abc\n", "train.py": TRAIN})
    assert scan(repo, "ML0302") == []


RUNBOOK_SERVICE = {
    "k8s/isvc.yaml": ("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: fraud\n"
                      "  labels: {team: risk}\nspec:\n  predictor:\n    canaryTrafficPercent: 10\n    model:\n"
                      "      modelFormat: {name: sklearn}\n      storageUri: gs://models/fraud/v7\n"),
    "monitoring/alerts.yaml": ("groups:\n  - name: fraud\n    rules:\n      - alert: FraudPredictionDrift\n"
                               "        expr: max(fraud_feature_psi) > 0.2\n        labels: {severity: ticket}\n"
                               "        annotations: {runbook_url: https://r.example/fraud-drift}\n"),
}


def test_runbooks_in_a_runbooks_folder_count(make_repo):
    """ML2001 and ML1901 read the folder a document sits in, not only its name and headings."""
    repo = make_repo(RUNBOOK_SERVICE)
    assert {f["code"] for f in scan(repo, "ML2001", "ML1901")} == {"ML2001", "ML1901"}
    (repo / "docs" / "runbooks").mkdir(parents=True)
    (repo / "docs" / "runbooks" / "prediction-drift.md").write_text(
        "# FraudPredictionDrift\n\n## Symptoms\n\nThe PSI of an input feature exceeds 0.2.\n\n"
        "## Mitigation\n\nRoll back to the previous model version.\n")
    (repo / "docs" / "runbooks" / "fraud-model.md").write_text(
        "# Fraud model\n\n## Shipping a new version\n\nMerge, then promote.\n\n## Rolling back\n\nRe-point the alias.\n")
    assert scan(repo, "ML2001", "ML1901") == []


PROD_WORKFLOW = ("name: deploy-production\non: {release: {types: [published]}}\njobs:\n  deploy:\n"
                 "    runs-on: ubuntu-latest\n    environment: production\n    steps:\n"
                 "      - run: kubectl apply -k k8s/overlays/production\n")


def test_ml1701_staging_deployed_by_another_workflow(make_repo):
    repo = make_repo({".github/workflows/deploy-production.yml": PROD_WORKFLOW})
    [f] = scan(repo, "ML1701")
    assert f["location"]["path"] == ".github/workflows/deploy-production.yml"
    (repo / ".github" / "workflows" / "deploy-staging.yml").write_text(
        "name: deploy-staging\non: {push: {branches: [main]}}\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n"
        "    environment: staging\n    steps:\n      - run: kubectl apply -k k8s/overlays/staging\n")
    assert scan(repo, "ML1701") == []


def test_ml1401_psi_metric_in_an_alert_is_drift_detection(make_repo):
    files = dict(RUNBOOK_SERVICE)
    files["app/serve.py"] = ("import joblib\nfrom fastapi import FastAPI\n\napp = FastAPI()\nmodel = joblib.load('m.joblib')\n\n\n"
                             "@app.post('/score')\ndef score(x: list[float]) -> dict:\n"
                             "    return {'s': float(model.predict([x])[0])}\n")
    files["monitoring/alerts.yaml"] = files["monitoring/alerts.yaml"].replace("fraud_feature_psi", "fraud_feature_mean")
    repo = make_repo(files)
    assert [f["code"] for f in scan(repo, "ML1401")] == ["ML1401"]
    (repo / "monitoring" / "alerts.yaml").write_text(RUNBOOK_SERVICE["monitoring/alerts.yaml"])  # ..._feature_psi
    assert scan(repo, "ML1401") == []


def test_alerts_in_helm_templates_and_terraform_count(make_repo):
    """ML1604 reads alert definitions in files no loader parses; ML1603 then cannot tell that every
    alert is about infrastructure."""
    files = {"k8s/isvc.yaml": RUNBOOK_SERVICE["k8s/isvc.yaml"]}
    repo = make_repo(files)
    assert [f["code"] for f in scan(repo, "ML1604")] == ["ML1604"]
    (repo / "infra").mkdir()
    (repo / "infra" / "main.tf").write_text('resource "aws_cloudwatch_metric_alarm" "fraud_5xx" {\n  alarm_name = "x"\n}\n')
    assert scan(repo, "ML1604") == []
    (repo / "infra" / "main.tf").unlink()
    (repo / "monitoring").mkdir()
    (repo / "monitoring" / "alerts.yaml").write_text(
        "groups:\n  - name: infra\n    rules:\n      - alert: PodRestarts\n"
        "        expr: kube_pod_container_status_restarts_total > 3\n        labels: {severity: ticket}\n")
    assert [f["code"] for f in scan(repo, "ML1603", "ML1604")] == ["ML1603"]
    (repo / "chart" / "templates").mkdir(parents=True)
    (repo / "chart" / "templates" / "prometheusrule.yaml").write_text(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n  groups:\n    - name: model\n      rules:\n        - alert: FraudDrift\n"
        "          expr: max(fraud_feature_psi) > {{ .Values.threshold }}\n")
    assert scan(repo, "ML1603", "ML1604") == []


def test_ml0101_is_a_note_where_the_file_registers_the_model(make_repo):
    repo = make_repo({"publish.py": UPLOAD})
    [f] = scan(repo, "ML0101")
    assert f["level"] == "warning"
    (repo / "publish.py").write_text("import mlflow\n" + UPLOAD +
                                     "mlflow.register_model('runs:/1/model', 'churn')\n")
    [f] = scan(repo, "ML0101")
    assert f["level"] == "note"


def test_azure_ml_monitor_alerts_count(make_repo):
    """An Azure ML model-monitoring schedule with an alert notification (CLI YAML or the SDK's
    AlertNotification) is alerting (azureml-examples)."""
    from test_serving_monitoring_rules import AZURE_MONITOR

    repo = make_repo({"k8s/isvc.yaml": RUNBOOK_SERVICE["k8s/isvc.yaml"]})
    assert [f["code"] for f in scan(repo, "ML1604")] == ["ML1604"]
    (repo / "monitoring").mkdir()
    (repo / "monitoring" / "model-monitoring.yaml").write_text(AZURE_MONITOR)
    assert scan(repo, "ML1604") == []
    (repo / "monitoring" / "model-monitoring.yaml").unlink()
    (repo / "monitoring" / "setup.py").write_text("from azure.ai.ml.entities import AlertNotification\n"
                                                  "AlertNotification(emails=['ml-oncall@acme.dev'])\n")
    assert scan(repo, "ML1604") == []


PUBLISH_WORKFLOW = """name: publish
on:
  push:
    tags: ['v*']
jobs:
  publish:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - run: {command}
"""


def test_ml1701_a_package_release_is_not_a_production_deploy(make_repo):
    """A job in a `production` environment that only publishes a package (npm and PyPI trusted
    publishing use the environment to authorise it) deploys no service (feast); one that deploys
    is still reported."""
    files = {"k8s/isvc.yaml": RUNBOOK_SERVICE["k8s/isvc.yaml"]}
    repo = make_repo({**files, ".github/workflows/publish.yml": PUBLISH_WORKFLOW.format(command="npm publish")})
    assert scan(repo, "ML1701") == []
    repo = make_repo({**files, ".github/workflows/publish.yml": PUBLISH_WORKFLOW.format(command="twine upload dist/*")})
    assert scan(repo, "ML1701") == []
    repo = make_repo({**files, ".github/workflows/publish.yml":
                      PUBLISH_WORKFLOW.format(command="kubectl apply -f k8s/isvc.yaml")})
    assert [f["code"] for f in scan(repo, "ML1701")] == ["ML1701"]
