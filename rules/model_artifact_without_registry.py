"""Training saves a model file but the project never registers a model.

## What it does
Reports, once per repository, training code that persists a model (`joblib.dump`/`pickle.dump` of
an estimator, `torch.save` of a model or checkpoint, `model.save(...)`, `save_pretrained`,
`save_model`) when no model-registry API appears anywhere in the project: MLflow `register_model`,
`log_model(registered_model_name=...)`, `MlflowClient.create_model_version`; SageMaker model
packages (`ModelPackage`, `.register()`, `create_model_package`); Vertex AI `Model.upload`; Azure ML
`ml_client.models.create_or_update` / `Model.register`; W&B `log_model`/`link_model`/`link_artifact`;
Hugging Face `push_to_hub`; BentoML `save_model`; ClearML `OutputModel`/`Task.init`; Comet and Neptune
model registries; DVC `artifacts:` of `type: model` in `dvc.yaml`. The finding sits on the first save
call; the other saves are related locations.

## Why is this bad?
Checkpoint 1 (model registry): a model that only exists as a file has no version, no lineage to
the run and data that produced it, no stage (staging/production) and no audit trail. Deployments
then copy whatever file is newest, and rolling back means finding the right old file by hand.

## Example
```python
import joblib
from sklearn.ensemble import RandomForestClassifier

if __name__ == "__main__":
    model = RandomForestClassifier(random_state=0).fit(X, y)
    joblib.dump(model, "models/model.joblib")
```

## Use instead
```python
import mlflow
from sklearn.ensemble import RandomForestClassifier

if __name__ == "__main__":
    model = RandomForestClassifier(random_state=0).fit(X, y)
    mlflow.sklearn.log_model(model, "model", registered_model_name="churn-classifier")
```

## Known limits
Registration done outside the repository (a platform job, the Databricks UI, a CI step calling an
internal service) is invisible: list the internal SDK in the `registry-apis` option or suppress the
finding. `pickle`/`joblib`/`torch.save` calls count only when the saved object or the target path
looks like a model (`model`, `clf`, `state_dict`, `checkpoint`, a model file extension...), so
dumps of data, vocabularies or metrics stay silent.

## Configuration
`registry-apis` (list of qualified-name prefixes): internal registry SDK calls that count as
registering a model.
"""
import re

from mllint.finding import Location
from mllint.knowledge import canonical
from mllint.knowledge import tracking as TR
from mllint.knowledge import training as TK
from mllint.rule import ProjectRule, RuleMeta

_MODELISH = re.compile(r"(model|clf|classifier|regressor|estimator|pipeline|pipe\b|net\b|network|booster|"
                       r"\bbst\b|\bgbm\b|\brf\b|xgb|lgbm|ckpt|checkpoint|state_dict|learner|predictor|forest|"
                       r"weights|\bsvm\b|\bknn\b|\bnb\b|tree|\bkmeans\b|\blr\b|\bmlp\b)", re.I)
_MODEL_PATH = re.compile(r"(model|ckpt|checkpoint|weights|\.(pth|ckpt|h5|hdf5|keras|onnx|safetensors|cbm|ubj|"
                         r"tflite)$)", re.I)
_DUMPS = frozenset({"joblib.dump", "pickle.dump", "cloudpickle.dump", "dill.dump", "torch.save", "skops.io.dump"})
_NON_MODEL_RECEIVERS = re.compile(r"(tokenizer|processor|feature_extractor|image_processor|config|vocab|"
                                  r"optimizer|scheduler|df|frame|fig|plt|img|image|writer|wb|workbook|doc|"
                                  r"session|saver|dataset|ds)$", re.I)


def _words(v) -> str:
    """Text of a Val that may name a model: names, call names, dict keys, string literals."""
    if v is None:
        return ""
    if v.kind in ("name", "call"):
        return str(v.value or "")
    if v.kind == "const" and isinstance(v.value, str):
        return v.value
    if v.kind == "dict":
        return " ".join(_words(k) + " " + _words(x) for k, x in v.value)
    if v.kind == "list":
        return " ".join(_words(x) for x in v.value)
    if v.kind == "fstr":
        return " ".join(p if isinstance(p, str) else p[1] for p in v.value)
    return ""


def model_save(call):
    """A short description when the call writes a model to a file, else None."""
    q = canonical(call.qualname)
    if q in _DUMPS:
        obj = call.arg(0, "obj" if q != "torch.save" else "obj")
        target = call.arg(1, "filename" if q == "joblib.dump" else "f")
        if _MODELISH.search(_words(obj)) or _MODEL_PATH.search(_words(target)):
            return q
        return None
    if q in TK.MODEL_SAVE_FUNCTIONS:
        return q
    attr = call.attr
    if attr not in TK.MODEL_SAVE_METHODS or q.startswith(TR.REGISTRY_PREFIXES):
        return None
    recv = call.receiver or ""
    tail = recv.rsplit(".", 1)[-1]
    rt = canonical(call.receiver_type)
    if tail and _NON_MODEL_RECEIVERS.search(tail):
        return None
    if attr == "save_pretrained":
        return f"{recv or 'model'}.save_pretrained"
    if attr == "save_model":
        if q.startswith("mlflow.") or rt.startswith(("xgboost.", "lightgbm.", "catboost.", "keras.", "transformers.")) \
                or _MODELISH.search(tail) or (q and q.startswith(("keras.", "tensorflow."))):
            return q or f"{recv}.save_model"
        return None
    # ``.save(...)``: only on a known model type or a receiver named like a model
    if rt.startswith(("keras.", "tensorflow.keras", "gensim.models", "fasttext.", "sentence_transformers.",
                      "spacy.", "ultralytics.", "stable_baselines3.", "tensorflow.")) and "summary" not in rt:
        return f"{recv or 'model'}.save"
    if tail and re.search(r"(^|_)(model|net|clf|learner|agent|policy|classifier|regressor|estimator)s?$", tail, re.I):
        return f"{recv}.save"
    return None


class ModelArtifactWithoutRegistry(ProjectRule):
    meta = RuleMeta(code="ML0102", level="note", precision="high", profile="production",
                    tags=("model-registry",), fix="none", options={"registry-apis": []})

    def check_project(self, project):
        if not project.training_entrypoints:
            return
        extra = tuple(p for p in self.options.get("registry-apis") or [] if isinstance(p, str))
        saves = []
        for path, call in project.all_calls():
            if TR.registry_call(call):
                return
            if extra:
                for name in (canonical(call.qualname), canonical(call.receiver_type)):
                    if name and any(name == p or name.startswith(p + ".") for p in extra):
                        return
            what = model_save(call)
            if what and project.is_training(path, call.scope) and not project.is_test_path(path):
                saves.append((path, call, what))
        if not saves or _dvc_model_artifacts(project):
            return
        saves.sort(key=lambda s: (s[0].endswith(".ipynb"), s[0], s[1].line, s[1].col))  # scripts first
        path, call, what = saves[0]
        related = [Location(p, c.line, c.col, c.end_line, c.end_col, message=f"model also saved here ({w})")
                   for p, c, w in saves[1:6]]
        yield self.finding(path, call.span(),
                           f"`{what}` writes a model file, but no model registry is used anywhere in the project "
                           f"(MLflow `register_model`, SageMaker model packages, Vertex `Model.upload`, W&B "
                           f"`link_model`, `push_to_hub`...); the model has no version or lineage",
                           related=related)


def _dvc_model_artifacts(project) -> bool:
    for d in project.configs:
        if d.kind != "dvc" or not isinstance(d.data, dict):
            continue
        arts = d.data.get("artifacts")
        if isinstance(arts, dict):
            for a in arts.values():
                if isinstance(a, dict) and a.get("type") == "model":
                    return True
    return False
