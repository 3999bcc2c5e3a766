"""Repository-level evidence of the serving/monitoring rules (checkpoints 11-14): what silences an
absence finding cannot share a fixture folder with the finding it silences, so each case is a
small repository here."""
import pytest

from mllint.config import Settings
from mllint.engine import scan

APP = '''
import joblib
from fastapi import FastAPI

app = FastAPI()
model = joblib.load("model.joblib")


@app.post("/predict")
def predict(x: list[float]):
    y = model.predict([x])
    return {"y": y.tolist()}
'''


AZURE_MONITOR = """$schema: http://azureml/sdk-2-0/Schedule.json
name: churn_monitoring
trigger:
  type: recurrence
  frequency: day
  interval: 1
create_monitor:
  monitoring_target:
    ml_task: classification
    endpoint_deployment_id: azureml:churn:main
  monitoring_signals:
    predictions:
      type: prediction_drift
  alert_notification:
    emails:
      - ml-oncall@acme.dev
"""


def _codes(root, code):
    s = Settings(root=str(root), select=[code], jobs=1)
    return [f for f in scan([str(root)], s).findings if f.code == code]


@pytest.mark.parametrize("code, extra", [
    ("ML1401", {"monitoring/drift.py": "from evidently.metric_preset import DataDriftPreset\nDataDriftPreset()\n"}),
    ("ML1401", {"monitoring/psi.py": "def population_stability_index(a, b):\n    return 0.0\n"}),
    ("ML1302", {"svc/metrics.py": "from prometheus_client import Histogram\nH = Histogram('prediction_score', 'x')\n"}),
    ("ML1302", {"monitoring/quality.py": "import nannyml\nnannyml.CBPE\n"}),
    ("ML1103", {"svc/metrics.py": "from prometheus_fastapi_instrumentator import Instrumentator\n"}),
    ("ML1103", {"locustfile.py": "from locust import HttpUser\n"}),
    ("ML1103", {"Dockerfile": "FROM python:3.11.9-slim\nCOPY svc /svc\nCMD [\"ddtrace-run\", \"uvicorn\", \"svc.app:app\"]\n"}),
    ("ML1201", {"svc/metrics.py": "from prometheus_client import Counter\nC = Counter('predictions_total', 'x', ['model_version'])\n"}),
    ("ML1201", {"svc/metrics.py": "from aioprometheus import Counter\n"
                                 "C = Counter('predictions_total', 'x', const_labels={'model_version': '7'})\n"}),
    ("ML1201", {"svc/metrics.py": "from prometheus_flask_exporter import PrometheusMetrics\n"
                                 "m = PrometheusMetrics(None, default_labels={'model_name': 'churn'})\n"}),
    ("ML1302", {"monitoring/model-monitoring.yaml": AZURE_MONITOR}),
    ("ML1302", {"monitoring/setup.py": "from azure.ai.ml.entities import PredictionDriftSignal\nPredictionDriftSignal()\n"}),
    ("ML1301", {"k8s/isvc.yaml": "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: m\n"
                                "spec:\n  predictor:\n    logger:\n      mode: all\n"}),
])
def test_evidence_silences(make_repo, code, extra):
    files = {"svc/app.py": APP}
    bare = make_repo(dict(files))
    assert _codes(bare, code), f"{code} should fire on the bare service"
    files.update(extra)
    root = make_repo(files)
    assert not _codes(root, code), f"{code} should be silenced by {list(extra)}"


def test_monitor_schedule_in_other_file(make_repo):
    baseline = ("from sagemaker.model_monitor import DefaultModelMonitor\n"
                "monitor = DefaultModelMonitor(role='r', instance_count=1, instance_type='ml.m5.large')\n"
                "monitor.suggest_baseline(baseline_dataset='s3://b/t.csv', output_s3_uri='s3://b/o')\n")
    root = make_repo({"monitoring/baseline.py": baseline})
    assert _codes(root, "ML1403")
    root = make_repo({"monitoring/baseline.py": baseline,
                      "monitoring/schedule.py": "from monitoring.baseline import monitor\n"
                                                "monitor.create_monitoring_schedule(endpoint_input='e')\n"})
    assert not _codes(root, "ML1403")


def test_torch_pin_nearest_requirements(make_repo):
    serve = ("import torch\nfrom fastapi import FastAPI\napp = FastAPI()\nnet = torch.load('n.pt')\n\n"
             "@app.post('/p')\ndef p(x: list[float]):\n    with torch.no_grad():\n        return net(torch.tensor(x)).tolist()\n")
    root = make_repo({"a/serve.py": serve, "a/requirements.txt": "torch==2.1.0\n",
                      "b/serve.py": serve, "b/requirements.txt": "torch==2.7.1\n"})
    paths = {f.location.path for f in _codes(root, "ML1002")}
    assert paths == {"a/serve.py"}


SAGEMAKER_SCRIPT = '''
import json
import os

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type):
    return json.loads(body)["instances"]


def predict_fn(data, model):
    return model.predict(data)


def output_fn(prediction, accept):
    return json.dumps({"predictions": prediction.tolist()})
'''
CAPTURE_CFN = """Resources:
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - {ModelName: fraud-v7, VariantName: AllTraffic, InitialInstanceCount: 2, InstanceType: ml.m5.large}
      DataCaptureConfig:
        EnableCapture: true
        InitialSamplingPercentage: 100
        DestinationS3Uri: s3://acme-ml/datacapture/fraud
        CaptureOptions: [{CaptureMode: Input}, {CaptureMode: Output}]
"""


@pytest.mark.parametrize("folder", ["cloudformation", "terraform", "pipelines"])
def test_payload_capture_in_an_iac_folder_covers_the_service(make_repo, folder):
    root = make_repo({"src/inference.py": SAGEMAKER_SCRIPT})
    assert _codes(root, "ML1301")
    root = make_repo({"src/inference.py": SAGEMAKER_SCRIPT, f"{folder}/endpoint.yaml": CAPTURE_CFN})
    assert not _codes(root, "ML1301")


def test_ml0801_a_shipped_pipeline_is_the_shared_definition(make_repo, repo_root):
    """The preprocessing fitted inside a sklearn Pipeline/ColumnTransformer ships with the model:
    serving that only casts its input shares the training features."""
    import os

    base = os.path.join(repo_root, "fixtures", "rules", "no_shared_feature_definitions")
    files = {rel: open(os.path.join(base, rel), encoding="utf-8").read()
             for rel in ("training/train.py", "serve/__init__.py", "serve/app.py")}
    s = lambda root: Settings(root=str(root), select=["ML0801"], jobs=1, profile="production")
    root = make_repo(files)
    assert [f.code for f in scan([str(root)], s(root)).findings] == ["ML0801"]
    files["training/train.py"] = files["training/train.py"].replace(
        "model = LogisticRegression().fit(", "model = make_pipeline(StandardScaler(), LogisticRegression()).fit(").replace(
        "from sklearn.linear_model import LogisticRegression",
        "from sklearn.linear_model import LogisticRegression\nfrom sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler")
    root = make_repo(files)
    assert scan([str(root)], s(root)).findings == []


ORT_PREDICTOR = """import numpy as np
import onnxruntime as ort


class Predictor:
    def __init__(self, model_path):
        self.session = ort.InferenceSession(model_path{providers})

    def predict(self, text):
        ids = np.array([ord(c) for c in text], dtype=np.int64)
        mask = np.ones_like(ids)
        inputs = {{"input_ids": np.expand_dims(ids, axis=0), "attention_mask": np.expand_dims(mask, axis=0)}}
        return self.session.run(None, inputs)[0].tolist()
"""
ORT_APP = """from fastapi import FastAPI

from predictor import Predictor

app = FastAPI()
predictor = Predictor("model.onnx")


@app.get("/predict")
def get_prediction(text: str):
    return predictor.predict(text)
"""
ORT_LAMBDA = """from predictor import Predictor

instance = Predictor("model.onnx")


def lambda_handler(event, context):
    return instance.predict(event["sentence"])
"""


def test_ml0903_onnxruntime_counts_as_deep_learning_on_an_accelerator_only(make_repo):
    """ONNX Runtime on its default CPU provider is a CPU model (catalog: GPU providers only); with a
    GPU provider named, or the onnxruntime-gpu wheel, a batch of one is reported, once per
    inference call even when two handlers (a route and a Lambda handler) reach it."""
    files = {"app.py": ORT_APP, "lambda_handler.py": ORT_LAMBDA, "requirements.txt": "onnxruntime==1.18.0\n"}
    cpu = make_repo({**files, "predictor.py": ORT_PREDICTOR.format(providers="")})
    where = lambda root: [(f.location.path, f.location.line) for f in _codes(root, "ML0903")]
    assert where(cpu) == []
    gpu = make_repo({**files, "predictor.py": ORT_PREDICTOR.format(providers=', providers=["CUDAExecutionProvider"]')})
    assert where(gpu) == [("predictor.py", 12)]
    wheel = make_repo({**files, "requirements.txt": "onnxruntime-gpu==1.18.0\n",
                       "predictor.py": ORT_PREDICTOR.format(providers="")})
    assert where(wheel) == [("predictor.py", 12)]


CACHED_LOADER = '''from transformers import AutoTokenizer

tokenizer = None


def get_tokenizer():
    global tokenizer
    if tokenizer is None:
        tokenizer = AutoTokenizer.from_pretrained("meta-llama/Llama-2-7b-hf")
    return tokenizer
'''


def test_ml1001_a_cached_loader_is_start_up_code_only_when_serving_reaches_it(make_repo):
    """A guarded-singleton loader runs once: start-up code of a service that calls it, nothing to
    do with serving in an offline script (DeepSpeedExamples benchmark post-processing)."""
    offline = ("import sys\n\nfrom tok import get_tokenizer\n\n\ndef count(text):\n"
               "    return len(get_tokenizer().tokenize(text))\n\n\nif __name__ == '__main__':\n"
               "    print(count(sys.argv[1]))\n")
    served = ("from fastapi import FastAPI\n\nfrom tok import get_tokenizer\n\napp = FastAPI()\n\n\n"
              "@app.post('/count')\ndef count(text: str):\n    return len(get_tokenizer().tokenize(text))\n")
    where = lambda root: [(f.location.path, f.location.line) for f in _codes(root, "ML1001")]
    assert where(make_repo({"tok.py": CACHED_LOADER, "postprocess.py": offline})) == []
    assert where(make_repo({"tok.py": CACHED_LOADER, "app.py": served})) == [("tok.py", 9)]


@pytest.mark.parametrize("folder, profile, expected", [
    ("churn-service", None, True),  # serving code: the automatic profile is production
    ("serving-examples", None, False),  # a collection of examples: its services are demos (poc)
    ("vertex-ai-samples", None, False),
    ("notebooks", None, False),
    ("llama-cookbook", None, False),
    ("nlp-recipes", None, False),
    ("serving-examples", "production", True),  # an explicit profile still applies
])
def test_an_example_collection_gets_the_poc_profile(tmp_path, folder, profile, expected):
    root = tmp_path / folder
    (root / ".git").mkdir(parents=True)
    (root / "svc").mkdir()
    (root / "svc" / "app.py").write_text(APP)
    res = scan([str(root)], Settings(root=str(root), jobs=1, profile=profile))
    assert res.project.profile == ("production" if expected else "poc")
    assert any(f.code == "ML1401" for f in res.findings) is expected


WORKSPACE_CFN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  NotebookRole:
    Type: AWS::IAM::Role
    Properties: {AssumeRolePolicyDocument: {}}
  Notebook:
    Type: AWS::SageMaker::NotebookInstance
    Properties: {InstanceType: ml.g4dn.xlarge, RoleArn: !GetAtt NotebookRole.Arn}
"""


@pytest.mark.parametrize("extra, profile", [
    ("", "poc"),  # a notebook workspace deploys nothing
    ("  Endpoint:\n    Type: AWS::SageMaker::Endpoint\n    Properties: {EndpointConfigName: churn}\n", "production"),
])
def test_a_template_that_only_provisions_a_notebook_workspace_is_no_deployment(make_repo, extra, profile):
    root = make_repo({"train.py": "import torch\n\nif __name__ == '__main__':\n    torch.save({}, 'm.pt')\n",
                      "setup/cloudformation-template.yml": WORKSPACE_CFN + extra})
    assert scan([str(root)], Settings(root=str(root), jobs=1)).project.profile == profile
