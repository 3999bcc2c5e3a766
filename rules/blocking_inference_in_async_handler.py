"""Synchronous model inference runs directly inside an `async def` request handler.

## What it does
Flags, in an `async def` request handler (FastAPI/Starlette routes, KServe and MLServer `async
predict`, BentoML `@bentoml.api`, Ray Serve `async __call__`, and async helpers they await), a
synchronous inference call on a model object (`predict`, `predict_proba`, `forward`, `generate`,
`encode`, ONNX Runtime `session.run`, `model(x)`), or a call to a project function that runs such
inference, when the call is not handed to a thread pool (`run_in_threadpool`,
`asyncio.to_thread`, `loop.run_in_executor`, `anyio.to_thread.run_sync`) and not awaited.

## Why is this bad?
Checkpoint 9 (serving scalability): an `async def` handler runs on the event loop. A CPU- or
GPU-bound call inside it blocks the loop, so every other request on that worker (including health
checks) waits for it; throughput collapses to one request at a time and latency tails explode.
FastAPI runs plain `def` handlers in a thread pool, so the blocking call is only harmful in an
`async def` handler.

## Example
```python
import joblib
from fastapi import FastAPI

app = FastAPI()
model = joblib.load("model.joblib")


@app.post("/predict")
async def predict(features: list[float]):
    return {"y": model.predict([features]).tolist()}
```

## Use instead
```python
import joblib
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

app = FastAPI()
model = joblib.load("model.joblib")


@app.post("/predict")
async def predict(features: list[float]):
    y = await run_in_threadpool(model.predict, [features])
    return {"y": y.tolist()}
```

## Known limits
A model object is recognised by how it was made (a model loader, a torch module, a project
factory returning one) or, when that is unknown, by its name (`model`, `clf`, `*_model`,
`session`...). Awaited calls are assumed to be asynchronous clients. An async handler that does
nothing else could also become a plain `def`. A plain generator function handed to
`StreamingResponse`/`EventSourceResponse` is not reported: the server iterates it in a thread pool.
"""
from mllint.knowledge import canonical
from mllint.rule import ProjectRule, RuleMeta

from mllint.rules import _serving_common as C


class BlockingInferenceInAsyncHandler(ProjectRule):
    meta = RuleMeta(code="ML0902", level="warning", precision="high", tags=("serving", "performance"))

    def check_project(self, project):
        for path, s in project.summaries.items():
            if C.excluded_path(project, path):
                continue
            for q, fn in s.functions.items():
                sid = f"{path}::{q}"
                if not fn.is_async or sid not in project.request_scopes:
                    continue
                offl = None  # calls offloaded to a thread: parsed on demand, only when something would be reported
                for c, tgt in project.calls(sid):
                    if c.awaited:
                        continue
                    ref = C.inference_ref(project, path, c, tgt)
                    tf = None
                    if not ref:
                        if not tgt:
                            continue
                        tf = project.function(tgt)
                        if tf is None or tf.is_async or tf.name == "__init__" or not C.performs_inference(project, tgt):
                            continue
                        if _streamed_generator(project, sid, c, tgt):
                            continue  # the server iterates it in a thread pool, not on the event loop
                    if offl is None:
                        offl = C.offloaded(project, sid)
                        if offl is None:
                            break  # source unavailable: stay silent
                    if (c.line, c.col) in offl:
                        continue
                    if ref:
                        what = f"`{ref}.{c.attr}(...)`" if c.attr and not c.receiver == "self" else f"`{ref}(...)`"
                        yield self.finding(path, c.span(),
                                           f"synchronous inference {what} blocks the event loop of async handler "
                                           f"`{fn.name}`; run it with `await run_in_threadpool(...)`/"
                                           f"`asyncio.to_thread(...)` or make the handler a plain `def`")
                    else:
                        yield self.finding(path, c.span(),
                                           f"`{tf.name}` runs model inference synchronously and blocks the event "
                                           f"loop of async handler `{fn.name}`; call it through "
                                           f"`run_in_threadpool`/`asyncio.to_thread`")


_STREAMING = frozenset({"starlette.responses.StreamingResponse", "fastapi.responses.StreamingResponse",
                        "sse_starlette.sse.EventSourceResponse", "sse_starlette.EventSourceResponse"})


def _streamed_generator(project, sid: str, call, tgt: str) -> bool:
    """``StreamingResponse(token_stream(...))`` with a plain generator function: calling it runs
    nothing, and Starlette iterates a sync iterator in its thread pool."""
    if not C.is_generator(project, tgt):
        return False
    flow = C.flow_of(project, sid)
    if not flow:
        return False
    key = ("c", call.line, call.col)
    for sc, _ in project.calls(sid):
        if canonical(sc.qualname) in _STREAMING and key in flow["calls"].get((sc.line, sc.col), ()):
            return True
    return False

