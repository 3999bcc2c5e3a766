"""A deep-learning endpoint runs the model once per request row, or only ever on one item.

## What it does
On the request path of a deep-learning model (torch, TorchScript, Hugging Face, Keras/TensorFlow,
ONNX Runtime, sentence-transformers, ultralytics, whisper), flags:
* an inference call inside a `for` loop over the request's rows (the handler's parameter, or data
  derived from it), so the model runs once per row instead of once per batch;
* a single-item reshape (`x.unsqueeze(0)`, `x.reshape(1, -1)`, `x.view(1, -1)`,
  `np.expand_dims(x, 0)`) whose result feeds the model, when the service has no batching
  mechanism: Ray Serve `@serve.batch`, BentoML `batchable=True`, Triton `dynamic_batching`,
  TorchServe `batchSize`/`batch_size`, MLServer `max_batch_size`, an `asyncio.Queue`
  micro-batcher, or a handler parameter that is a list of instances.

## Why is this bad?
Checkpoint 9 (serving scalability): accelerators are fast on batches and slow on single rows; a
per-row loop or a batch-of-one endpoint leaves most of the GPU idle, multiplies the per-call
overhead, and caps throughput far below what the hardware can deliver.

## Example
```python
import torch
from fastapi import FastAPI

app = FastAPI()
model = torch.jit.load("model.pt")


@app.post("/predict")
def predict(rows: list[list[float]]):
    out = []
    with torch.inference_mode():
        for row in rows:
            out.append(model(torch.tensor(row).unsqueeze(0)).tolist())
    return out
```

## Use instead
```python
import torch
from fastapi import FastAPI

app = FastAPI()
model = torch.jit.load("model.pt")


@app.post("/predict")
def predict(rows: list[list[float]]):
    with torch.inference_mode():
        return model(torch.tensor(rows)).tolist()
```

## Known limits
CPU models (scikit-learn, XGBoost, LightGBM) are not checked: they are often fine unbatched. ONNX
Runtime counts as deep learning only when it runs on an accelerator: a module names a GPU or NPU
execution provider (`CUDAExecutionProvider`, TensorRT, ROCm, DirectML, OpenVINO...) or a
requirements file installs `onnxruntime-gpu` (or another accelerated wheel).
Loops over `range(...)` (autoregressive decoding) are not per-row loops, nor loops over
mini-batches (`for batch in chunked(rows, 64)`, `np.array_split`, a `DataLoader`). A model whose type
cannot be resolved is skipped.
"""
from mllint.knowledge import canonical, last
from mllint.rule import FileRule, ProjectRule, RuleMeta

from mllint.rules import _serving_common as C

DL_PREFIXES = ("transformers.", "sentence_transformers.", "ultralytics.", "whisper.", "keras.", "tensorflow.",
               "onnxruntime.", "torch.", "torchvision.", "timm.", "diffusers.", "tf_keras.")


# ONNX Runtime execution providers that run on an accelerator, and the wheels that bring them
_ORT_ACCELERATORS = ("CUDAExecutionProvider", "TensorrtExecutionProvider", "ROCMExecutionProvider",
                     "MIGraphXExecutionProvider", "DmlExecutionProvider", "OpenVINOExecutionProvider",
                     "CoreMLExecutionProvider", "QNNExecutionProvider")
_ORT_GPU_PACKAGES = ("onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino", "onnxruntime-rocm",
                     "onnxruntime-qnn", "onnxruntime-training")
_ORT_FACT = "ML0903:ort-accelerator"


def _ort_accelerated(project) -> bool:
    """Does ONNX Runtime run on an accelerator here: a module names a GPU/NPU execution provider, or
    a requirements file installs an accelerated ONNX Runtime wheel?"""
    memo = project.__dict__.get("_ml0903_ort")
    if memo is None:
        memo = any(s.facts.get(_ORT_FACT) for s in project.summaries.values())
        if not memo:  # requirement names are normalised (lowercase, ``-`` separators)
            memo = any(getattr(r, "name", "") in _ORT_GPU_PACKAGES
                       for d in project.configs if d.kind == "requirements"
                       for r in getattr(d.data, "requirements", ()))
        project.__dict__["_ml0903_ort"] = memo
    return memo


class UnbatchedInferenceEndpoint(C.TorchFacts, FileRule, ProjectRule):
    meta = RuleMeta(code="ML0903", level="warning", precision="medium", tags=("serving", "performance"))

    def begin(self):
        if self.ctx.text_has(*_ORT_ACCELERATORS):
            self.ctx.summary.facts.setdefault(_ORT_FACT, []).append(True)
        # request-path code can only live in modules that a serving module imports (pre-scan)
        return self.ctx.maybe_serving

    def check_project(self, project):
        flows = C.flows(project)
        idx = C.torch_index(project, self.meta.code)
        kinds = {}
        for path, scope, cls, target, qual, chain_eval, span in idx["creations"]:
            if self._is_dl(project, path, qual):
                kinds[C.creation_key(path, scope, cls, target)] = True
        batching = self._batching(project)
        roots = C.handler_sids(project)
        done = set()
        for root in roots:
            root_fn = project.function(root)
            if root_fn is None:
                continue
            list_param = any((ann or "").startswith("[]") and last(ann[2:]).lower() in ("list", "sequence")
                             for _, ann in root_fn.params)
            for sid in project.reachable([root], through_imports=False):
                if sid in done or C.excluded_path(project, C.path_of(sid)):
                    continue
                path, _, scope = sid.partition("::")
                # the data flow only removes inference refs (annotated project classes): skip scopes
                # with none before computing it
                if not any(C.inference_ref(project, path, c, tgt) for c, tgt in project.calls(sid)):
                    continue
                flow = flows.get(sid)
                if not flow:
                    continue
                fn = project.function(sid)
                params = {("p", p) for p, _ in (fn.params if fn else []) if p not in ("self", "cls", "context")}
                for c, tgt in project.calls(sid):
                    ref = C.inference_ref(project, path, c, tgt, flow)
                    if not ref or not self._dl_ref(project, path, scope, ref, kinds):
                        continue
                    key = (sid, c.line, c.col)
                    for line in c.loops:
                        origins, counted = flow["loops"].get(line, (frozenset(), True))
                        if not counted and origins & params:
                            done.add(key)
                            yield self.finding(path, c.span(),
                                               f"`{ref}` runs once per request row inside a loop; stack the rows and "
                                               f"call the model once on the batch")
                            break
                    if key in done or batching or list_param:
                        continue
                    origins = flow["calls"].get((c.line, c.col), frozenset())
                    for sc, _t in project.calls(sid):
                        if ("c", sc.line, sc.col) in origins and self._single_item(sc) and (sid, sc.line) not in done:
                            # once per inference call: a scope reached from two handlers (a route and
                            # a Lambda handler) reported the next reshape line the second time
                            done.update(((sid, sc.line), key))
                            yield self.finding(path, sc.span(),
                                               f"the endpoint feeds `{ref}` a batch of one; accept lists of "
                                               f"instances or enable server-side batching (Ray `@serve.batch`, "
                                               f"BentoML `batchable=True`, Triton dynamic batching, TorchServe "
                                               f"batchSize)")
                            break

    def _single_item(self, c) -> bool:
        vals = [a.value if a.kind == "const" else None for a in c.args]
        if c.attr == "unsqueeze" and vals[:1] == [0]:
            return True
        if c.attr in ("reshape", "view") and len(vals) == 2 and vals[0] == 1 and vals[1] == -1:
            return True
        if canonical(c.qualname) in ("numpy.expand_dims", "torch.unsqueeze", "tensorflow.expand_dims"):
            ax = c.kwargs.get("axis") or c.kwargs.get("dim") or (c.args[1] if len(c.args) > 1 else None)
            return ax is not None and ax.kind == "const" and ax.value == 0
        return False

    def _is_dl(self, project, path, qual) -> bool:
        if not qual:
            return False
        if canonical(qual).startswith("onnxruntime.") and not _ort_accelerated(project):
            return False  # ONNX Runtime on its CPU provider: a CPU model (catalog: GPU providers only)
        k = C.loader_kind(project, path, qual)
        if k in ("torch", "torch-pickle", "torch-exempt", "hf"):
            return True
        return canonical(qual).startswith(DL_PREFIXES) and k not in (None, "not-model")

    def _dl_ref(self, project, path, scope, ref, kinds) -> bool:
        cls = C.class_of(project, path, scope)
        key = C.creation_key(path, scope, cls, ref)
        if kinds.get(key) or kinds.get((path, "<module>", ref)):
            return True
        return self._is_dl(project, path, C.type_of(project, path, scope, ref)) or \
            self._is_dl(project, path, C.sagemaker_model_qual(project, path, scope, ref))

    def _batching(self, project) -> bool:
        for path, c in project.all_calls():
            q = canonical(c.qualname)
            if q in ("ray.serve.batch", "asyncio.Queue") or (c.attr == "batch" and (c.receiver or "") == "serve"):
                return True
            v = c.kwargs.get("batchable")
            if v is not None and v.kind == "const" and v.value is True:
                return True
            if "max_batch_size" in c.kwargs or "batch_size" in c.kwargs and q.startswith("bentoml"):
                return True
        for s in project.summaries.values():
            for fn in s.functions.values():
                for d in fn.decorators:
                    if canonical(d.qualname) == "ray.serve.batch" or d.dotted.endswith("serve.batch") or \
                            d.kwargs.get("batchable") is not None:
                        return True
        for p in project.inventory:
            name = p.rsplit("/", 1)[-1]
            if name == "config.pbtxt" and "dynamic_batching" in C.read_text(project, p):
                return True
            if name in ("config.properties", "model-config.yaml", "model_config.yaml", "model-settings.json",
                        "settings.json") and any(k in C.read_text(project, p) for k in (
                        "batchSize", "batch_size", "max_batch_size", "maxBatchDelay")):
                return True
        return bool(C.config_mentions(project, r"batchSize|max_batch_size|maxBatchDelay|dynamic_batching"))
