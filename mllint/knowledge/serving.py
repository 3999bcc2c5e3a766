"""What makes a web/model-serving handler, what runs at start-up, what loads a model."""
from __future__ import annotations

import re

from mllint.knowledge import canonical

# Decorator methods on app/router objects that register request handlers.
ROUTE_DECORATOR_METHODS = frozenset({"get", "post", "put", "patch", "delete", "route", "api_route",
                                     "websocket", "options", "head", "view", "api"})
# Receiver types whose route decorators define request handlers.
APP_TYPES = ("fastapi.FastAPI", "fastapi.APIRouter", "fastapi.routing.APIRouter", "starlette.applications.Starlette",
             "flask.Flask", "flask.Blueprint", "quart.Quart", "quart.Blueprint", "sanic.Sanic", "sanic.Blueprint",
             "litestar.Litestar", "aiohttp.web.RouteTableDef", "bentoml.Service", "robyn.Robyn", "falcon.App")
# Decorators (qualified) that make a function a request handler.
HANDLER_DECORATORS = frozenset({
    "bentoml.api", "bentoml.Service.api", "ray.serve.batch", "functions_framework.http", "litestar.get",
    "litestar.post", "litestar.put", "aws_lambda_powertools.event_handler.api_gateway.ApiGatewayResolver.post",
})
# Serving framework base classes: method names on the request path / at start-up.
SERVING_BASES = {
    # base class qualname (canonical): (request methods, startup methods)
    "kserve.Model": ({"predict", "preprocess", "postprocess", "explain", "__call__"}, {"load", "__init__"}),
    "kserve.model.Model": ({"predict", "preprocess", "postprocess", "explain"}, {"load", "__init__"}),
    "mlserver.MLModel": ({"predict", "predict_stream"}, {"load", "__init__"}),
    "mlserver.model.MLModel": ({"predict"}, {"load", "__init__"}),
    "ts.torch_handler.base_handler.BaseHandler": ({"handle", "preprocess", "inference", "postprocess"}, {"initialize", "__init__"}),
    "mlflow.pyfunc.PythonModel": ({"predict", "predict_stream"}, {"load_context", "__init__"}),
    "flask.views.MethodView": ({"get", "post", "put", "patch", "delete"}, {"__init__"}),
    "flask.views.View": ({"dispatch_request"}, {"__init__"}),
    "seldon_core.user_model.SeldonComponent": ({"predict", "transform_input", "transform_output"}, {"load", "__init__"}),
    "tornado.web.RequestHandler": ({"get", "post", "put", "patch", "delete"}, {"initialize"}),
    "grpc.Servicer": (set(), set()),
}
# Classes decorated with these are deployments whose __call__/methods serve requests.
SERVING_CLASS_DECORATORS = {
    "ray.serve.deployment": ({"__call__"}, {"__init__"}),
    "bentoml.service": (set(), {"__init__"}),
}
# Classes recognised by name (no base class): Triton Python backend models.
NAMED_SERVING_CLASSES = {"TritonPythonModel": ({"execute"}, {"initialize", "__init__"})}
# Handlers registered by a call instead of a decorator: method -> (positional index, keyword) of the handler.
REGISTRATION_METHODS = {
    "add_api_route": (1, "endpoint"), "add_api_websocket_route": (1, "endpoint"), "add_url_rule": (2, "view_func"),
    "add_route": (1, "handler"), "add_get": (1, "handler"), "add_post": (1, "handler"), "add_put": (1, "handler"),
    "add_patch": (1, "handler"), "add_delete": (1, "handler"), "add_websocket_route": (1, "route"),
}
AIOHTTP_ROUTE_FUNCTIONS = frozenset({"aiohttp.web.get", "aiohttp.web.post", "aiohttp.web.put", "aiohttp.web.patch",
                                     "aiohttp.web.delete", "aiohttp.web.route", "aiohttp.web.view"})


def registered_handler(call):
    """``app.add_api_route("/p", predict)``, ``app.add_url_rule("/p", view_func=predict)``,
    ``app.router.add_post("/p", predict)``, ``web.post("/p", predict)`` -> 'predict' (a local name), else None."""
    if canonical(call.qualname) in AIOHTTP_ROUTE_FUNCTIONS:
        pos, kw = 1, "handler"
    elif call.attr in REGISTRATION_METHODS:
        pos, kw = REGISTRATION_METHODS[call.attr]
    else:
        return None
    v = call.kwargs.get(kw) or (call.args[pos] if len(call.args) > pos else None)
    if v is None or v.kind != "name" or "." in v.value:
        return None
    return v.value


# Module-level function names that frameworks call per request / at start-up (SageMaker, TorchServe).
SCRIPT_HANDLER_FUNCTIONS = {"input_fn", "predict_fn", "output_fn", "transform_fn"}
SCRIPT_STARTUP_FUNCTIONS = {"model_fn"}
LIFESPAN_DECORATOR_METHODS = frozenset({"on_event", "before_first_request", "before_serving", "listener"})
CACHE_DECORATORS = frozenset({"functools.lru_cache", "functools.cache", "functools.cached_property",
                              "cachetools.cached", "async_lru.alru_cache", "streamlit.cache_resource",
                              "streamlit.cache_data", "streamlit.cache", "cached_property"})

# ------------------------------------------------------------------------- model loaders
MODEL_LOADERS = frozenset({
    "joblib.load", "pickle.load", "pickle.loads", "cloudpickle.load", "cloudpickle.loads", "dill.load",
    "torch.load", "torch.jit.load", "torch.hub.load", "keras.models.load_model", "keras.saving.load_model",
    "tensorflow.saved_model.load", "tensorflow.keras.models.load_model", "onnxruntime.InferenceSession",
    "mlflow.pyfunc.load_model", "mlflow.sklearn.load_model", "mlflow.pytorch.load_model",
    "mlflow.tensorflow.load_model", "mlflow.keras.load_model", "mlflow.xgboost.load_model",
    "mlflow.lightgbm.load_model", "mlflow.transformers.load_model", "mlflow.catboost.load_model",
    "mlflow.onnx.load_model", "transformers.pipeline", "sentence_transformers.SentenceTransformer",
    "spacy.load", "xgboost.Booster", "lightgbm.Booster", "ultralytics.YOLO", "whisper.load_model",
    "skops.io.load", "safetensors.torch.load_file", "tensorflow.lite.Interpreter", "fasttext.load_model",
    "gensim.models.Word2Vec.load", "huggingface_hub.hf_hub_download", "huggingface_hub.snapshot_download",
    "numpy.load", "pandas.read_pickle",
})
MODEL_LOADER_METHODS = frozenset({"from_pretrained", "load_model"})
# A ``numpy.load`` / ``pandas.read_pickle`` is a model load only with a model-ish path.
WEAK_LOADERS = frozenset({"numpy.load", "pandas.read_pickle", "huggingface_hub.hf_hub_download",
                          "huggingface_hub.snapshot_download"})


# Loaders of bytes already in memory: a model only when an argument names one (``model_bytes``);
# ``pickle.loads(cache.get(key))`` unpickles a cached response.
BYTES_LOADERS = frozenset({"pickle.loads", "cloudpickle.loads", "dill.loads"})
_MODELISH = re.compile(r"model|clf|classifier|regressor|estimator|pipeline|\.pkl|\.joblib", re.I)


def is_model_loader(call) -> bool:
    q = canonical(call.qualname)
    if q in BYTES_LOADERS:
        return any(_MODELISH.search(str(v.value)) for v in list(call.args) + list(call.kwargs.values()))
    if q in MODEL_LOADERS and q not in WEAK_LOADERS:
        return True
    if q and q.startswith("mlflow.") and q.endswith(".load_model"):
        return True
    if call.attr in MODEL_LOADER_METHODS:
        if call.attr == "from_pretrained":
            # tokenizers and configs are cheap-ish but still loaded from disk/hub: count them
            return True
        return True
    return False


# Inference calls: methods on a model object.
INFERENCE_METHODS = frozenset({"predict", "predict_proba", "predict_log_proba", "decision_function", "forward",
                               "generate", "transform", "infer", "encode", "embed", "__call__"})
TORCH_MODULE_HINTS = ("torch.", "transformers.", "torchvision.", "timm.", "sentence_transformers.")
