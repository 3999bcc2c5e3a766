"""Experiment trackers, metric/param logging calls and model-registry APIs (checkpoints 1 and 2).

Everything is keyed by canonical qualified name (``mllint.knowledge.canonical``); method calls on
objects whose constructor is known are matched through ``CallInfo.receiver_type``.
"""
from __future__ import annotations

from typing import Optional

from mllint.knowledge import canonical, in_packages, last

# ------------------------------------------------------------------------------ trackers
# Importing / calling anything under these packages means an experiment tracker is in use.
TRACKER_PACKAGES = ("mlflow", "wandb", "neptune", "neptune_client", "comet_ml", "clearml", "trains", "aim",
                    "dvclive", "sacred", "guild", "polyaxon", "tensorboardX", "mlrun", "determined",
                    "azureml", "azure.ai.ml", "nni", "ray.tune", "ray.train", "ray.air", "zenml", "metaflow",
                    "flytekit", "kubeflow.katib", "hypertune")
# (Azure ML jobs and designer modules are tracked by the platform; NNI, Ray Tune/Train and Katib
# (``KatibClient().tune``, cloudml-hypertune's ``report_hyperparameter_tuning_metric``) record every
# trial's parameters and reported metrics; ZenML, Metaflow and Flyte record every run's step
# parameters and artifacts, and ``zenml.log_metadata`` its metrics.)
# Individual APIs (qualified-name prefixes) that track.
TRACKER_APIS = (
    "torch.utils.tensorboard", "tensorflow.summary", "keras.callbacks.TensorBoard",
    "lightning.pytorch.loggers", "lightning.fabric.loggers", "ultralytics",
    "sagemaker.experiments", "google.cloud.aiplatform.start_run", "google.cloud.aiplatform.init",
    "google.cloud.aiplatform.log_metrics", "google.cloud.aiplatform.log_params",
    "ignite.contrib.handlers.tensorboard_logger",
    "ignite.handlers.tensorboard_logger", "accelerate.Accelerator.init_trackers",
)
# Trainers that report to trackers by default (HF ``report_to`` defaults to the installed
# integrations before transformers v5; Lightning's default logger is TensorBoard/CSV).
HF_ARGS = ("transformers.TrainingArguments", "transformers.Seq2SeqTrainingArguments", "trl.SFTConfig",
           "trl.DPOConfig", "trl.GRPOConfig", "trl.PPOConfig", "trl.RewardConfig", "setfit.TrainingArguments",
           "sentence_transformers.SentenceTransformerTrainingArguments",
           # optimum's ONNX Runtime trainer: subclasses of the Trainer and its arguments
           "optimum.onnxruntime.ORTTrainingArguments", "optimum.onnxruntime.ORTSeq2SeqTrainingArguments")
# Trainers that build default arguments (``report_to``'s default included) when given none.
HF_TRAINER_CLASSES = ("transformers.Trainer", "transformers.Seq2SeqTrainer", "optimum.onnxruntime.ORTTrainer",
                      "optimum.onnxruntime.ORTSeq2SeqTrainer")
LIGHTNING_TRAINERS = ("lightning.pytorch.Trainer", "lightning.Trainer", "lightning.pytorch.trainer.Trainer")
# ``report_to`` values that mean "no tracker".
NO_REPORT = ("none", "")


_TRACKER_NAMES = frozenset(TRACKER_PACKAGES) | frozenset(TRACKER_APIS)
_UNIMPORTED_TRACKERS = frozenset({"mlflow", "wandb", "neptune", "comet_ml", "clearml", "dvclive"})


def tracker_of_call(call) -> Optional[str]:
    """Name of the tracker a call uses, '' for a call that explicitly disables tracking, None when
    the call has nothing to do with tracking."""
    q = canonical(call.qualname)
    rt = canonical(call.receiver_type)
    for name in (q, rt):
        if not name:
            continue
        if in_packages(name, _TRACKER_NAMES):
            return name.split(".")[0]
    if not q and not rt and call.receiver and call.receiver.split(".", 1)[0] in _UNIMPORTED_TRACKERS:
        # ``mlflow.start_run()`` with no import in sight: the module comes from a notebook the
        # notebook runs first (``%run ./Common``), or from the platform's globals (Databricks)
        return call.receiver.split(".", 1)[0]
    if q in ("transformers.HfArgumentParser", "trl.TrlParser"):
        # training arguments parsed from the command line (``--report_to wandb``; transformers 4
        # reports to every installed integration by default), as for an argument class built
        # without ``report_to``
        return "hf-argparser"
    if q in HF_ARGS or any(q.startswith(p) for p in HF_ARGS):
        rep = call.kwargs.get("report_to")
        if rep is None or (rep.kind == "const" and rep.value is None):
            # omitted, or ``report_to=None``: the default (transformers 4: every installed integration)
            return "hf-default" if not call.star_kwargs else "hf-kwargs"
        v = rep.literal() if rep.is_literal else None
        if v is None and rep.kind != "const":
            return "hf-report_to"  # a variable: cannot tell, count as tracked
        if v is None or v in NO_REPORT or v == [] or v == ["none"]:
            return ""
        return "hf-report_to"
    if q in HF_TRAINER_CLASSES and "args" not in call.kwargs and len(call.args) < 2 and not call.star_args \
            and not call.star_kwargs:
        return "hf-default"  # no ``args``: the Trainer makes default TrainingArguments
    if call.attr == "init_trackers":
        return "accelerate-trackers"
    if _hopsworks_model(call) and "metrics" in call.kwargs:
        return "hopsworks"  # the registry records the version's training metrics (and its feature view)
    if q in ("accelerate.Accelerator", "lightning.fabric.Fabric", "lightning.Fabric"):
        lw = call.kwargs.get("log_with", call.kwargs.get("loggers"))
        if lw is not None and not (lw.kind == "const" and lw.value in (None, "", False)):
            return "accelerate-trackers"
        return None
    if q in LIGHTNING_TRAINERS:
        lg = call.kwargs.get("logger")
        if lg is not None and lg.kind == "const" and lg.value in (False, None):
            return ""
        return "lightning-logger"
    return None


def imports_tracker(module: str, name: Optional[str] = None) -> bool:
    """Does ``import module`` / ``from module import name`` bring in a tracker?"""
    for m in (canonical(module), canonical(f"{module}.{name}") if name else ""):
        if m and in_packages(m, _TRACKER_NAMES):
            return True
    return False


# ------------------------------------------------------------------ metric and param logging
MLFLOW_METRIC = frozenset({"mlflow.log_metric", "mlflow.log_metrics", "mlflow.tracking.MlflowClient.log_metric",
                           "mlflow.MlflowClient.log_metric"})
MLFLOW_PARAM_PREFIXES = ("mlflow.log_param", "mlflow.log_params", "mlflow.log_dict", "mlflow.log_artifact",
                         "mlflow.log_artifacts", "mlflow.log_input", "mlflow.set_tag", "mlflow.set_tags",
                         "mlflow.log_text", "mlflow.projects.run", "mlflow.run")
MLFLOW_PARAM_ATTRS = frozenset({"log_param", "log_params", "log_batch", "log_dict", "log_artifact", "log_artifacts",
                                "log_hyperparams"})
WANDB_RUN_TYPES = ("wandb.init", "wandb.sdk.wandb_init.init", "wandb.run")
# W&B integrations that record the model's parameters in ``wandb.config`` themselves
WANDB_CONFIG_CALLBACKS = frozenset({
    "wandb.xgboost.WandbCallback", "wandb.integration.xgboost.WandbCallback",
    "wandb.integration.xgboost.xgboost.WandbCallback", "wandb.xgboost.wandb_callback",
    "wandb.lightgbm.wandb_callback", "wandb.integration.lightgbm.wandb_callback",
})
# values ``wandb.log`` records that are data, not metrics
WANDB_MEDIA = frozenset({"wandb.Table", "wandb.Image", "wandb.Audio", "wandb.Video", "wandb.Html", "wandb.Object3D",
                         "wandb.Molecule", "wandb.Histogram", "wandb.plot.bar", "wandb.plot.line",
                         "wandb.plot.scatter", "wandb.plot.histogram"})


def metric_call(call) -> Optional[str]:
    """'mlflow' / 'wandb' when the call logs metrics to that tracker, else None."""
    q = canonical(call.qualname)
    if q in MLFLOW_METRIC:
        return "mlflow"
    rt = canonical(call.receiver_type)
    if call.attr in ("log_metric", "log_metrics") and rt.startswith(("mlflow.tracking.MlflowClient",
                                                                     "mlflow.MlflowClient")):
        return "mlflow"
    if q in ("wandb.log", "wandb.run.log"):
        return "wandb"
    if call.attr == "log" and rt.startswith(WANDB_RUN_TYPES):
        return "wandb"
    return None


def param_call(call) -> Optional[str]:
    """'mlflow' / 'wandb' when the call records params/config for that tracker (autolog counts)."""
    q = canonical(call.qualname)
    rt = canonical(call.receiver_type)
    if q.startswith("mlflow.") and (last(q) == "autolog" or q.startswith(MLFLOW_PARAM_PREFIXES)):
        return "mlflow"
    if call.attr in MLFLOW_PARAM_ATTRS and rt.startswith(("mlflow.", "lightning.pytorch.loggers")):
        return "mlflow"
    if q == "wandb.init" or rt.startswith(WANDB_RUN_TYPES) and call.attr == "init":
        if "config" in call.kwargs or call.star_kwargs:
            return "wandb"
        return None
    if q.startswith(("wandb.config.", "wandb.agent", "wandb.sweep", "wandb.run.config.")):
        return "wandb"
    if call.receiver and (call.receiver.endswith(".config") or call.receiver == "config") and \
            rt.startswith(WANDB_RUN_TYPES):
        return "wandb"
    if call.attr in ("update", "setdefaults") and call.receiver and call.receiver.endswith(".config") and \
            canonical(call.receiver_type or "").startswith("wandb"):
        return "wandb"
    if q in WANDB_CONFIG_CALLBACKS:
        return "wandb"  # the integration writes the booster's params to wandb.config
    if q in HF_ARGS or any(q.startswith(p) for p in HF_ARGS) or q in ("transformers.Trainer", "trl.SFTTrainer"):
        rep = call.kwargs.get("report_to")
        v = rep.literal() if rep is not None and rep.is_literal else None
        if v in ("wandb", "all") or (isinstance(v, list) and ("wandb" in v or "all" in v)):
            return "wandb"  # the Trainer's W&B callback records the training arguments and model config
    if call.attr == "log_hyperparams":
        return "any"
    if call.attr == "init_trackers" and (call.kwargs.get("config") is not None or len(call.args) >= 2
                                         or call.star_kwargs):
        return "any"  # Accelerate passes the config to every tracker it starts (wandb included)
    return None


# ---------------------------------------------------------------------------- registry APIs
REGISTRY_FUNCTIONS = frozenset({
    "mlflow.register_model", "mlflow.MlflowClient.create_model_version",
    "mlflow.tracking.MlflowClient.create_model_version", "mlflow.MlflowClient.create_registered_model",
    "mlflow.tracking.MlflowClient.create_registered_model",
    "sagemaker.ModelPackage", "sagemaker.model.ModelPackage", "sagemaker.workflow.step_collections.RegisterModel",
    "sagemaker.workflow.model_step.ModelStep",
    "google.cloud.aiplatform.Model.upload", "google.cloud.aiplatform.Model.upload_scikit_learn_model_file",
    "google.cloud.aiplatform.Model.upload_xgboost_model_file",
    "google.cloud.aiplatform.Model.upload_tensorflow_saved_model",
    "google.cloud.aiplatform.models.Model.upload",
    "azureml.core.Model.register", "azureml.core.model.Model.register",
    "wandb.log_model", "wandb.link_model", "wandb.run.log_model", "wandb.run.link_model",
    "huggingface_hub.upload_folder", "huggingface_hub.upload_file", "huggingface_hub.HfApi.upload_folder",
    "clearml.OutputModel", "clearml.Task.init", "trains.OutputModel",
    "neptune.init_model_version", "neptune.init_model",
    "comet_ml.API.register_model",
})
# Method names that only registries have.
REGISTRY_METHODS = frozenset({"register_model", "create_model_version", "create_registered_model",
                              "link_model", "link_artifact", "push_to_hub", "create_model_package",
                              "create_model_package_group", "upload_model"})
# Local model saves that are registries (model stores), not bare files.
REGISTRY_PREFIXES = ("bentoml.",)


# Hopsworks (hsml) model registry: ``project.get_model_registry()``, then
# ``mr.<framework>.create_model(name, metrics=...)`` and the model's ``save()`` registers a version.
HOPSWORKS_FRAMEWORKS = frozenset({"python", "sklearn", "tensorflow", "torch", "llm"})


def _hopsworks_model(call) -> bool:
    """``mr.python.create_model(...)``: a Hopsworks model registry's framework accessor (the plain
    ``create_model`` name, timm's or a project's, is not one)."""
    if call.attr != "create_model" or call.qualname and not canonical(call.qualname).startswith(("hsml.", "hopsworks.")):
        return False
    rt = canonical(call.receiver_type)
    if rt.startswith(("hsml.", "hopsworks.")):
        return True
    recv = call.receiver or ""
    return "." in recv and recv.rsplit(".", 1)[1] in HOPSWORKS_FRAMEWORKS


def registry_call(call) -> Optional[str]:
    """A short description when the call registers a model, else None."""
    q = canonical(call.qualname)
    rt = canonical(call.receiver_type)
    if q in REGISTRY_FUNCTIONS:
        return q
    if _hopsworks_model(call) or (call.attr == "get_model_registry" and (rt or q).startswith(("hopsworks.", "hsml."))):
        return "hopsworks model registry"
    if q.startswith(REGISTRY_PREFIXES) and last(q) in ("save_model", "create", "import_model"):
        return q
    if q.startswith("mlflow.") and last(q) in ("log_model", "autolog") and "registered_model_name" in call.kwargs:
        return q  # ``mlflow.sklearn.autolog(registered_model_name=...)`` registers each logged model
    if call.attr in REGISTRY_METHODS:
        return call.attr
    if call.attr == "log_model" and (q.startswith("wandb.") or rt.startswith(WANDB_RUN_TYPES)):
        return "wandb log_model"
    if call.attr == "register" and (rt.startswith("sagemaker.") or "model_package_group_name" in call.kwargs):
        return "sagemaker register"
    if call.attr == "create_or_update" and call.receiver and call.receiver.endswith(".models"):
        return "azure ml models"
    if call.attr == "log_artifact" and call.kwargs.get("type") is not None:
        t = call.kwargs["type"]
        if t.kind == "const" and t.value == "model":
            return "dvclive model artifact"
    for key in ("push_to_hub", "hub_model_id"):
        v = call.kwargs.get(key)
        if v is not None and not (v.kind == "const" and v.value in (False, None)):
            return key  # TrainingArguments(push_to_hub=True)
    return None
