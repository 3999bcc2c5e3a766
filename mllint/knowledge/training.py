"""What trains, what seeds, what consumes randomness, what splits, what tracks, what registers."""
from __future__ import annotations

from typing import Optional

from mllint.knowledge import canonical, last

# ---------------------------------------------------------------- training (role detection)
# Functions whose call trains a model.
TRAIN_FUNCTIONS = frozenset({
    "xgboost.train", "xgboost.cv", "lightgbm.train", "lightgbm.cv", "catboost.train",
    "tensorflow.estimator.train_and_evaluate", "statsmodels.api.OLS.fit",
})
# Methods that train when called on (almost) anything; the receiver's type refines it.
TRAIN_METHODS = frozenset({"fit", "fit_generator", "train_on_batch", "partial_fit"})
# Methods that train only on known trainer types (Trainer.train, not dataset.train).
TRAINER_TYPES_TRAIN = ("transformers.Trainer", "transformers.Seq2SeqTrainer", "trl.", "setfit.", "ray.train.",
                       "sentence_transformers.", "ultralytics.YOLO", "lightning.pytorch.Trainer",
                       "pytorch_lightning.Trainer", "lightning.Trainer", "accelerate.Accelerator",
                       "optimum.onnxruntime.ORTTrainer", "optimum.onnxruntime.ORTSeq2SeqTrainer")
# Preprocessing ``fit`` is not model training.
TRANSFORMER_PREFIXES = ("sklearn.preprocessing.", "sklearn.impute.", "sklearn.feature_extraction.",
                        "sklearn.feature_selection.", "sklearn.decomposition.", "category_encoders.",
                        "sklearn.compose.ColumnTransformer", "sklearn.compose.make_column_transformer")


# Estimators whose ``fit`` submits a training job to a managed service (the job's script trains)
REMOTE_JOB_PREFIXES = ("sagemaker.",)


def is_training_call(call) -> bool:
    q = canonical(call.qualname)
    if q in TRAIN_FUNCTIONS:
        return True
    attr = call.attr
    if attr == "fit" and not (call.args or call.kwargs) and call.receiver_type and \
            canonical(call.receiver_type).startswith(TRAINER_TYPES_TRAIN):
        return True  # Ray Train / trainer objects configured at construction: ``trainer.fit()``
    if attr in TRAIN_METHODS:
        rt = canonical(call.receiver_type)
        if rt and rt.startswith(TRANSFORMER_PREFIXES):
            return False
        if rt.startswith(REMOTE_JOB_PREFIXES):
            return False  # ``estimator.fit(inputs)`` submits a job; its entry_point script is what trains
        if rt.startswith("optimum.") and "Quantizer" in rt:
            return False  # ``ORTQuantizer.fit(dataset=...)`` computes calibration ranges; nothing is trained
        if q and (q.startswith(("pandas.", "numpy.", "scipy.")) or q.startswith(TRANSFORMER_PREFIXES)):
            return False
        # ``x.fit(data)`` - sklearn/keras/lightning style
        return bool(call.args or call.kwargs) or call.star_args or call.star_kwargs
    if attr == "train" and call.receiver_type and canonical(call.receiver_type).startswith(TRAINER_TYPES_TRAIN):
        return True
    if attr == "train" and call.receiver and last(call.receiver).lower() in ("trainer",) and not call.args:
        return True
    if attr == "step" and not call.args and (
            canonical(call.receiver_type).startswith(("torch.optim.", "transformers.optimization.", "bitsandbytes.optim.",
                                                      "apex.optimizers.", "timm.optim."))
            or (call.receiver and ("optim" in last(call.receiver).lower() or last(call.receiver).lower() in ("opt", "sgd", "adam")))):
        return True  # optimizer.step(): a training loop (``.backward()`` alone is also used to profile)
    if attr == "step" and call.args and (canonical(call.receiver_type).endswith("GradScaler") or
                                         (call.receiver and "scaler" in last(call.receiver).lower())):
        return True  # AMP: scaler.step(optimizer)
    return False


# ------------------------------------------------------------------------------- seeds
# framework -> seed setters (qualified names)
SEED_SETTERS = {
    "torch": {"torch.manual_seed", "torch.cuda.manual_seed_all", "torch.cuda.manual_seed",
              "torch.random.manual_seed"},
    "numpy": {"numpy.random.seed"},
    "random": {"random.seed"},
    "tensorflow": {"tensorflow.random.set_seed", "tensorflow.set_random_seed", "tensorflow.compat.v1.set_random_seed",
                   "keras.utils.set_random_seed"},
    "sklearn": set(),
}
# Setters that seed several frameworks at once.
MULTI_SEED_SETTERS = {
    "lightning.pytorch.seed_everything": {"torch", "numpy", "random"},
    "pytorch_lightning.seed_everything": {"torch", "numpy", "random"},
    "lightning.seed_everything": {"torch", "numpy", "random"},
    "lightning.fabric.seed_everything": {"torch", "numpy", "random"},
    "pytorch_lightning.utilities.seed.seed_everything": {"torch", "numpy", "random"},
    "lightning_fabric.utilities.seed.seed_everything": {"torch", "numpy", "random"},
    "transformers.set_seed": {"torch", "numpy", "random", "tensorflow"},
    "transformers.trainer_utils.set_seed": {"torch", "numpy", "random", "tensorflow"},
    "accelerate.utils.set_seed": {"torch", "numpy", "random"},
    "keras.utils.set_random_seed": {"tensorflow", "numpy", "random"},
    "tensorflow.keras.utils.set_random_seed": {"tensorflow", "numpy", "random"},
    "fastai.torch_core.set_seed": {"torch", "numpy", "random"},
    "mmengine.runner.set_random_seed": {"torch", "numpy", "random"},
    "sentence_transformers.util.set_seed": {"torch", "numpy", "random"},
    # seeds with a fixed default when called without one; ``seed=None`` turns determinism off instead
    "monai.utils.set_determinism": {"torch", "numpy", "random"},
    "monai.utils.misc.set_determinism": {"torch", "numpy", "random"},
}
_SEED_NONE_DISABLES = frozenset({"monai.utils.set_determinism", "monai.utils.misc.set_determinism"})


# every qualified name that seeds numpy's global generator (one set lookup in a walk hook)
NUMPY_SEEDERS = frozenset(SEED_SETTERS["numpy"]) | frozenset(q for q, fws in MULTI_SEED_SETTERS.items() if "numpy" in fws)


def seeded_frameworks(call) -> set:
    q = canonical(call.qualname)
    if not q:
        return set()
    if q in MULTI_SEED_SETTERS:
        if q in _SEED_NONE_DISABLES:
            v = call.arg(0, "seed")
            if v is not None and v.kind == "const" and v.value is None:
                return set()
        return set(MULTI_SEED_SETTERS[q])
    for fw, setters in SEED_SETTERS.items():
        if q in setters:
            return {fw}
    # A seeded ``np.random.default_rng(0)`` is deterministic but seeds nothing globally: an unseeded
    # generator created later is still unseeded, so it has no effect here.
    return set()


# framework a randomness consumer draws from, or None
NUMPY_RANDOM_FNS = frozenset({"rand", "randn", "randint", "random", "choice", "shuffle", "permutation",
                              "normal", "uniform", "binomial", "random_sample", "sample", "beta", "poisson",
                              "exponential", "multinomial", "standard_normal"})
PY_RANDOM_FNS = frozenset({"random", "shuffle", "choice", "choices", "sample", "randint", "uniform", "gauss",
                           "randrange", "normalvariate"})
# draws of one number (of the functions above): a port, an id or a searched hyperparameter can be
# one, which the summary tells from its context (``CallInfo.aux_draw``)
SCALAR_DRAWS = frozenset({"random.randint", "random.randrange", "random.random", "random.uniform",
                          "random.getrandbits", "random.choice", "numpy.random.randint"})
TORCH_RANDOM_FNS = frozenset({"rand", "randn", "randint", "randperm", "rand_like", "randn_like", "bernoulli",
                              "multinomial", "normal"})
# Modules whose construction draws random initial weights (activations, losses, dropout, pooling
# and normalisation layers are deterministic at construction).
TORCH_RANDOM_INIT = frozenset({
    "Linear", "Bilinear", "LazyLinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
    "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "Embedding", "EmbeddingBag", "RNN", "LSTM", "GRU",
    "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention", "Transformer", "TransformerEncoderLayer",
    "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder", "PReLU",
})
KERAS_RANDOM_INIT = frozenset({
    "Dense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "SeparableConv1D",
    "SeparableConv2D", "DepthwiseConv2D", "Embedding", "LSTM", "GRU", "SimpleRNN", "MultiHeadAttention", "EinsumDense",
})


def randomness_framework(call) -> Optional[str]:
    """Which framework's global RNG this call consumes (None: not a randomness consumer).  A
    scalar draw for a port or an address (``aux_draw``) consumes nothing that training reads."""
    if call.aux_draw:
        return None
    q = canonical(call.qualname)
    if q:
        mod, _, name = q.rpartition(".")
        if mod == "numpy.random" and name in NUMPY_RANDOM_FNS:
            return "numpy"
        if mod == "random" and name in PY_RANDOM_FNS:
            return "random"
        if mod == "torch" and name in TORCH_RANDOM_FNS:
            return "torch"
        if q.startswith("torch.nn.") and name in TORCH_RANDOM_INIT:
            return "torch"  # layer construction initialises weights randomly
        if q == "torch.utils.data.DataLoader":
            sh = call.kwargs.get("shuffle")
            if sh is not None and sh.kind == "const" and sh.value is True and "generator" not in call.kwargs:
                return "torch"
            return None
        if q.startswith("tensorflow.random.") and name not in ("set_seed", "Generator", "stateless_uniform",
                                                                "stateless_normal"):
            return "tensorflow"
        if q.startswith("keras.layers.") and name in KERAS_RANDOM_INIT:
            return "tensorflow"
        if q in ("numpy.random.default_rng",) and not call.args and "seed" not in call.kwargs:
            return "numpy-generator"
    if call.attr in _KERAS_FLOW_METHODS and canonical(call.receiver_type).endswith(".ImageDataGenerator") and \
            "seed" not in call.kwargs and not call.star_kwargs:
        sh = call.kwargs.get("shuffle")
        if sh is None or not (sh.kind == "const" and sh.value is False):
            return "numpy"  # Keras shuffles and augments with numpy's global generator unless given a seed
    return None


_KERAS_FLOW_METHODS = frozenset({"flow", "flow_from_directory", "flow_from_dataframe"})


# ---------------------------------------------------------------- splitters (split-without-random-state)
SPLIT_FUNCTIONS = frozenset({"sklearn.model_selection.train_test_split"})
# Splitters that always shuffle
SHUFFLING_SPLITTERS = frozenset({
    "sklearn.model_selection.ShuffleSplit", "sklearn.model_selection.StratifiedShuffleSplit",
    "sklearn.model_selection.GroupShuffleSplit",
})
# Splitters that shuffle only with shuffle=True
OPTIONAL_SHUFFLE_SPLITTERS = frozenset({
    "sklearn.model_selection.KFold", "sklearn.model_selection.StratifiedKFold",
    "sklearn.model_selection.GroupKFold", "sklearn.model_selection.StratifiedGroupKFold",
    "sklearn.model_selection.RepeatedKFold", "sklearn.model_selection.RepeatedStratifiedKFold",
})
# Repeated*KFold always shuffle
ALWAYS_SHUFFLE_REPEATED = frozenset({"sklearn.model_selection.RepeatedKFold",
                                     "sklearn.model_selection.RepeatedStratifiedKFold"})
# the names a module calls them by: a module whose text has none of them calls none of them
SPLITTER_NAMES = tuple(sorted({q.rsplit(".", 1)[-1] for q in (SPLIT_FUNCTIONS | SHUFFLING_SPLITTERS |
                                                              OPTIONAL_SHUFFLE_SPLITTERS | ALWAYS_SHUFFLE_REPEATED)}))

# ---------------------------------------------------------------- model persistence / registry
MODEL_SAVE_FUNCTIONS = frozenset({"joblib.dump", "pickle.dump", "torch.save", "cloudpickle.dump", "dill.dump",
                                  "skops.io.dump", "tensorflow.saved_model.save", "keras.models.save_model",
                                  "onnx.save", "onnx.save_model", "safetensors.torch.save_file"})
MODEL_SAVE_METHODS = frozenset({"save_pretrained", "save_model", "save"})

MODEL_EXTENSIONS = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".h5", ".hdf5", ".keras", ".onnx",
                    ".pb", ".safetensors", ".bin", ".gguf", ".model", ".ubj", ".cbm", ".tflite", ".mar",
                    ".savedmodel", ".sav")

# ------------------------------------------------- stochastic estimators (estimator-without-random-state)
# class name -> (library whose global RNG it falls back to, seed keyword names)
_SK = ("numpy", ("random_state",))
STOCHASTIC_ESTIMATORS = {
    **{f"sklearn.ensemble.{n}": _SK for n in (
        "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
        "GradientBoostingClassifier", "GradientBoostingRegressor", "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor", "IsolationForest", "RandomTreesEmbedding")},
    **{f"sklearn.linear_model.{n}": _SK for n in ("SGDClassifier", "SGDRegressor", "SGDOneClassSVM")},
    "sklearn.neural_network.MLPClassifier": _SK, "sklearn.neural_network.MLPRegressor": _SK,
    "sklearn.cluster.KMeans": _SK, "sklearn.cluster.MiniBatchKMeans": _SK,
    "sklearn.model_selection.RandomizedSearchCV": _SK, "sklearn.manifold.TSNE": _SK,
    "sklearn.decomposition.TruncatedSVD": _SK,
    # conditional (see CONDITIONAL_STOCHASTIC)
    "sklearn.decomposition.PCA": _SK, "sklearn.linear_model.LogisticRegression": _SK, "sklearn.svm.SVC": _SK,
    **{f"xgboost.{n}": ("xgboost", ("random_state", "seed")) for n in (
        "XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")},
    **{f"lightgbm.{n}": ("lightgbm", ("random_state", "seed", "random_seed")) for n in (
        "LGBMClassifier", "LGBMRegressor", "LGBMRanker")},
    **{f"catboost.{n}": ("catboost", ("random_seed", "random_state")) for n in (
        "CatBoostClassifier", "CatBoostRegressor", "CatBoostRanker", "CatBoost")},
}
# the packages they come from: a module whose text names none of them constructs none of them
STOCHASTIC_PACKAGES = tuple(sorted({q.split(".")[0] for q in STOCHASTIC_ESTIMATORS}))
# Estimators that are stochastic only with some arguments: name -> (keyword, position, literal values)
CONDITIONAL_STOCHASTIC = {
    "sklearn.decomposition.PCA": ("svd_solver", None, ("randomized",)),
    "sklearn.linear_model.LogisticRegression": ("solver", None, ("sag", "saga", "liblinear")),
    "sklearn.svm.SVC": ("probability", None, (True,)),
}
