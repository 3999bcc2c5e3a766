"""Python distributions whose version matters for ML artifacts and results, and the files that lock
an environment.  Used by ``unpinned-ml-dependency``."""
from __future__ import annotations

import re

# Normalised distribution names (PEP 503: lower case, '-' separators).
VERSION_SENSITIVE = frozenset({
    # frameworks whose serialised models are tied to the version that wrote them
    "torch", "torchvision", "torchaudio", "torchtext", "lightning", "pytorch-lightning",
    "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tensorflow-intel", "keras", "tf-keras",
    "jax", "jaxlib", "flax",
    "scikit-learn", "sklearn", "xgboost", "lightgbm", "catboost",
    "transformers", "tokenizers", "sentence-transformers", "diffusers", "peft", "accelerate",
    "onnx", "onnxruntime", "onnxruntime-gpu", "tensorrt", "openvino",
    # numerics every pickle and feature pipeline depends on
    "numpy", "pandas", "scipy", "statsmodels",
})

# Installer and build tooling (normalised names): installing it unpinned changes no model or result
# (pip, a build backend, the prerequisites of native extensions such as flash-attn's, NVIDIA's
# pip plugin that adds its index).
INSTALL_TOOLING = frozenset({
    "pip", "setuptools", "wheel", "pipenv", "poetry", "uv", "pip-tools", "virtualenv",
    "packaging", "ninja", "cmake", "build", "setuptools-scm", "pybind11", "nvidia-pyindex",
})

# Lock files (lower-case base names) that record exact versions of a whole environment.
LOCK_FILES = frozenset({
    "poetry.lock", "uv.lock", "pipfile.lock", "pdm.lock", "conda-lock.yml", "conda-lock.yaml", "pixi.lock",
    "requirements.lock", "requirements-dev.lock", "pylock.toml",
})

# Directories whose manifests document minimum versions for readers rather than deploy anything.
NON_APP_DIRS = frozenset({"examples", "example", "docs", "doc", "tutorials", "tutorial", "benchmarks", "benchmark",
                          "tests", "test", "samples", "sample", "templates", "demo", "demos", "course", "courses"})


_WORD_SPLIT = re.compile(r"[-_.\s]+")


# Words of a repository folder's name that make it a collection of examples or tutorials
# (``examples``, ``pytorch-examples``, ``vertex-ai-samples``, ``hopsworks-tutorials``, huggingface/``notebooks``).
COLLECTION_WORDS = frozenset({"examples", "example", "tutorials", "tutorial", "samples", "sample", "notebooks", "cookbook",
                              "recipes"})


def is_collection_name(name: str) -> bool:
    return any(w in COLLECTION_WORDS for w in _WORD_SPLIT.split(name.lower()))


def is_non_app_dir(name: str) -> bool:
    """A folder of examples, docs, tutorials, tests...: by its name or one word of it
    (``lightning_examples``, ``course_UvA-DL``, ``demo-notebooks``)."""
    low = name.lower()
    return low in NON_APP_DIRS or any(w in NON_APP_DIRS for w in _WORD_SPLIT.split(low))
