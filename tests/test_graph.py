"""The project graph: import and call resolution, entrypoints, roles, and `mllint graph`."""
import json

import pytest

from mllint.config import Settings
from mllint.engine import scan

from conftest import run_cli


def project_of(root):
    s = Settings(root=str(root), select=["ML0000"], jobs=1)
    return scan([str(root)], s).project


def test_calls_resolve_through_aliases_relative_imports_and_reexports(make_repo):
    root = make_repo({
        "pkg/__init__.py": "from .utils import seed_everything as seed_all\n",
        "pkg/utils.py": "import torch\n\ndef seed_everything(s):\n    torch.manual_seed(s)\n",
        "pkg/model.py": "from . import utils\nfrom .utils import seed_everything as se\n\n"
                        "class Net:\n    def __init__(self):\n        self.setup()\n\n    def setup(self):\n        utils.seed_everything(1)\n\n"
                        "def build():\n    se(2)\n    return Net()\n",
        "train.py": "import pkg\nfrom pkg.model import build\n\ndef main():\n    pkg.seed_all(3)\n    build()\n\n"
                    "if __name__ == '__main__':\n    main()\n",
    })
    p = project_of(root)
    edges = {(a, b) for a, b, k in p.graph.edges(data="kind") if k == "calls"}
    assert ("train.py::main", "pkg/utils.py::seed_everything") in edges  # via package re-export + alias
    assert ("train.py::main", "pkg/model.py::build") in edges
    assert ("pkg/model.py::build", "pkg/utils.py::seed_everything") in edges  # from-import alias
    assert ("pkg/model.py::build", "pkg/model.py::Net.__init__") in edges  # class call -> __init__
    assert ("pkg/model.py::Net.__init__", "pkg/model.py::Net.setup") in edges  # self.method
    assert ("pkg/model.py::Net.setup", "pkg/utils.py::seed_everything") in edges  # module.func
    assert ("train.py::<main>", "train.py::main") in edges
    imports = {(a, b) for a, b, k in p.graph.edges(data="kind") if k == "imports"}
    assert ("train.py::<module>", "pkg/__init__.py::<module>") in imports


def test_ambiguous_module_names_are_not_guessed(make_repo):
    root = make_repo({
        "a/utils.py": "def helper():\n    pass\n",
        "b/utils.py": "def helper():\n    pass\n",
        "c/main.py": "from utils import helper\n\nhelper()\n",
        "a/run.py": "from utils import helper\n\nhelper()\n",
    })
    p = project_of(root)
    targets = {b for a, b, k in p.graph.edges(data="kind") if k == "calls"}
    assert "a/utils.py::helper" in targets  # sibling module wins
    assert not any(a.startswith("c/main.py") for a, b, k in p.graph.edges(data="kind") if k == "calls")


def test_entrypoints_from_configs(make_repo):
    root = make_repo({
        "src/train.py": "from sklearn.linear_model import LinearRegression\nLinearRegression().fit([[1]], [1])\n",
        "src/evaluate.py": "print('x')\n",
        "serve/app.py": "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\ndef root():\n    return 1\n",
        "cli.py": "def run():\n    pass\n",
        "dvc.yaml": "stages:\n  train:\n    cmd: python src/train.py --epochs 3\n    deps: [src/train.py]\n",
        "MLproject": "name: x\nentry_points:\n  main:\n    command: \"python src/evaluate.py {alpha}\"\n",
        "Dockerfile": "FROM python:3.11-slim\nCMD [\"uvicorn\", \"serve.app:app\", \"--host\", \"0.0.0.0\"]\n",
        "pyproject.toml": "[project]\nname='x'\nversion='0'\n[project.scripts]\nx = 'cli:run'\n",
        ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m src.evaluate\n",
    })
    p = project_of(root)
    kinds = {(e.kind, e.path) for e in p.entrypoints}
    assert ("dvc", "src/train.py") in kinds
    assert ("mlproject", "src/evaluate.py") in kinds
    assert ("serving", "serve/app.py") in kinds
    assert ("project-script", "cli.py") in kinds
    assert any(e.path == "src/train.py" and e.training for e in p.entrypoints)
    assert p.has_training and p.has_serving
    # an entrypoint's line is in its module (the config's line is in ``source``): the served
    # object's assignment, else the main block, else the first line
    where = {(e.kind, e.path): (e.line, e.source) for e in p.entrypoints}
    assert where[("serving", "serve/app.py")] == (2, "Dockerfile:2")
    assert where[("dvc", "src/train.py")] == (1, "dvc.yaml:3")
    assert where[("mlproject", "src/evaluate.py")][0] == 1


def test_serving_roles(make_repo):
    root = make_repo({
        "app.py": (
            "from contextlib import asynccontextmanager\nfrom functools import lru_cache\nimport joblib\n"
            "from fastapi import FastAPI, APIRouter\n\n"
            "@asynccontextmanager\nasync def lifespan(app):\n    yield\n\n"
            "app = FastAPI(lifespan=lifespan)\nrouter = APIRouter()\n\n"
            "@lru_cache\ndef model():\n    return joblib.load('m.joblib')\n\n"
            "def helper(x):\n    return model().predict(x)\n\n"
            "@router.post('/p')\nasync def predict(x: dict):\n    return helper(x)\n\n"
            "@app.on_event('startup')\ndef warm():\n    model()\n"),
        "ks.py": "import kserve\n\nclass M(kserve.Model):\n    def load(self):\n        pass\n\n    def predict(self, p, h=None):\n        return p\n",
        "lam.py": "def handler(event, context):\n    return event\n",
    })
    p = project_of(root)
    assert "app.py::predict" in p.request_roots
    assert "app.py::helper" in p.request_scopes and "app.py::model" in p.request_scopes
    assert "app.py::model" in p.cached_scopes
    assert "app.py::lifespan" in p.startup_scopes and "app.py::warm" in p.startup_scopes
    assert "ks.py::M.predict" in p.request_roots and "ks.py::M.load" in p.startup_scopes
    assert "lam.py::handler" in p.request_roots


def test_graph_command_shows_entrypoints(repo_root):
    code, out, _ = run_cli(["graph", "fixtures/rules/duplicated_feature_logic", "--output-format", "json"], cwd=repo_root)
    assert code == 0
    arch = json.loads(out)
    assert any(e["training"] and e["path"].endswith("training/train.py") for e in arch["entrypoints"])
    assert any(h["path"].endswith("serving/app.py") and h["function"] == "predict" for h in arch["request_handlers"])
    code, out, _ = run_cli(["graph", "fixtures/rules/duplicated_feature_logic"], cwd=repo_root)
    assert code == 0 and out.startswith("flowchart LR") and "train entry" in out and "handlers" in out
    code, out, _ = run_cli(["graph", "fixtures/rules/duplicated_feature_logic", "--output-format", "dot"], cwd=repo_root)
    assert out.startswith("digraph mllint {") and "->" in out


def test_nested_functions_scripts_and_reexport_cycles(make_repo):
    root = make_repo({
        "train.py": ("import torch\nfrom torch import nn\n\nmodel = nn.Linear(2, 1)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
                     "for _ in range(3):\n    model(torch.ones(1, 2)).sum().backward()\n    opt.step()\n"),
        "loop.py": ("def main():\n    def step(batch):\n        return helper(batch)\n    step(1)\n\n"
                    "def helper(b):\n    return b\n\nif __name__ == '__main__':\n    main()\n"),
        "a.py": "from b import Thing\n", "b.py": "from a import Thing\n",
        "use.py": "from a import Thing\n\nt = Thing()\nt.run()\n",
        "amp.py": ("import torch\nscaler = torch.cuda.amp.GradScaler()\n\ndef fit(opt, loss):\n    scaler.scale(loss).backward()\n"
                   "    scaler.step(opt)\n\nif __name__ == '__main__':\n    fit(None, None)\n"),
    })
    p = project_of(root)
    kinds = {(e.kind, e.path): e.training for e in p.entrypoints}
    assert kinds.get(("script", "train.py")) is True  # top-level training script, no main guard
    edges = {(a, b) for a, b, k in p.graph.edges(data="kind") if k == "calls"}
    assert ("loop.py::main", "loop.py::main.<locals>.step") in edges
    assert ("loop.py::main.<locals>.step", "loop.py::helper") in edges
    assert kinds.get(("main", "amp.py")) is True  # AMP scaler.step(optimizer) is a training step


def test_pipeline_step_scripts_are_entrypoints(make_repo):
    root = make_repo({
        "pipeline.py": ("from sagemaker.pytorch import PyTorch\nfrom airflow.operators.bash import BashOperator\n\n"
                        "est = PyTorch(entry_point='train.py', source_dir='src', role='r')\n"
                        "t = BashOperator(task_id='eval', bash_command='python jobs/evaluate.py --day {{ ds }}')\n"),
        "src/train.py": "from sklearn.linear_model import LinearRegression\nLinearRegression().fit([[1]], [1])\n",
        "jobs/evaluate.py": "print('eval')\n",
    })
    p = project_of(root)
    got = {(e.kind, e.path) for e in p.entrypoints}
    assert ("pipeline-step", "src/train.py") in got
    assert ("pipeline-step", "jobs/evaluate.py") in got
    assert any(e.path == "src/train.py" and e.training for e in p.entrypoints)


def test_ray_trainer_fit_without_arguments_is_training(make_repo):
    root = make_repo({"train_ray.py": ("from ray.train.torch import TorchTrainer\n\ndef main():\n"
                                       "    trainer = TorchTrainer(lambda cfg: None)\n    trainer.fit()\n\n"
                                       "if __name__ == '__main__':\n    main()\n")})
    p = project_of(root)
    assert [e.path for e in p.training_entrypoints] == ["train_ray.py"]


def test_a_sagemaker_launcher_is_not_training_its_entry_point_is(make_repo):
    """``estimator.fit(inputs)`` submits a SageMaker job: the launching notebook does not train
    (its data reads are not the job's), the job's entry_point script does."""
    launch = ("from datasets import load_dataset\nfrom sagemaker.huggingface import HuggingFace\n\n"
              "preview = load_dataset('banking77', split='train[:10]')\n"
              "est = HuggingFace(entry_point='train.py', source_dir='scripts', instance_type='ml.p3.2xlarge')\n"
              "est.fit({'train': 's3://bucket/banking77/train'}, wait=False)\n")
    train = ("from sklearn.linear_model import LogisticRegression\n\nif __name__ == '__main__':\n"
             "    LogisticRegression().fit([[0], [1]], [0, 1])\n")
    root = make_repo({"launch.py": launch, "scripts/train.py": train})
    p = project_of(root)
    assert [e.path for e in p.training_entrypoints] == ["scripts/train.py"]


def test_unseeded_script_run_by_a_config_is_reported_at_its_first_use(make_repo):
    """A script without a main block run by a Dockerfile ENTRYPOINT: the finding sits in the
    script at the first unseeded use, not at the Dockerfile's line number in the script."""
    root = make_repo({
        "Dockerfile": "FROM python:3.11.7-slim\nWORKDIR /app\nCOPY train.py .\nRUN pip install torch==2.3.0\n"
                      "ENTRYPOINT [\"python3\", \"train.py\"]\n",
        "train.py": "import torch\nfrom torch import nn\nimport os\nimport sys\n\nmodel = nn.Linear(10, 2)\n"
                    "opt = torch.optim.Adam(model.parameters())\nmodel(torch.ones(4, 10)).sum().backward()\nopt.step()\n",
    })
    s = Settings(root=str(root), select=["ML0303"], jobs=1)
    found = [(f.location.path, f.location.line, f.location.col) for f in scan([str(root)], s).findings]
    assert found == [("train.py", 6, 9)]


def test_a_local_that_is_no_constant_shadows_the_module_constant(make_repo):
    """``model_path = context.artifacts["model"]`` inside a function is not the module's
    ``model_path = "xgb.model"``: the value cannot be resolved (ML1001 named the local file)."""
    from mllint.summary import shared_val

    root = make_repo({"wrap.py": (
        "model_path = 'xgb.model'\n\n\ndef load_context(context, fallback='other.model'):\n"
        "    model_path = context.artifacts['model']\n    return model_path, fallback\n\n\n"
        "def plain():\n    return model_path\n")})
    p = project_of(root)
    resolve = lambda scope, name: p.const_value("wrap.py", scope, shared_val("name", name))
    assert resolve("load_context", "model_path") == shared_val("name", "model_path")  # unresolved
    assert resolve("load_context", "fallback") == shared_val("name", "fallback")  # a parameter
    assert resolve("plain", "model_path") == shared_val("const", "xgb.model")


def test_a_project_method_named_fit_is_judged_by_its_body(make_repo):
    """``processor.fit(texts)`` of a project class that only fits a tokenizer is preprocessing; a
    project wrapper whose ``fit`` fits an estimator trains, and so does one whose body cannot be
    judged (kubeflow/examples, recommenders' TF1 models)."""
    root = make_repo({
        "text.py": ("from keras.preprocessing.text import Tokenizer\n\n\nclass TextPreprocessor:\n"
                    "    def __init__(self):\n        self.tok = Tokenizer()\n\n"
                    "    def fit(self, texts):\n        self.tok.fit_on_texts(texts)\n        return self\n"),
        "wrapper.py": ("from sklearn.linear_model import LogisticRegression\n\n\nclass Model:\n"
                       "    def __init__(self):\n        self.clf = LogisticRegression()\n\n"
                       "    def fit(self, X, y):\n        self.clf.fit(X, y)\n        return self\n"),
        "preprocess.py": ("from text import TextPreprocessor\n\nif __name__ == '__main__':\n"
                          "    TextPreprocessor().fit(['a b', 'c'])\n"),
        "train.py": "from wrapper import Model\n\nif __name__ == '__main__':\n    Model().fit([[0], [1]], [0, 1])\n",
        # a body the analysis cannot judge (a TF1 session loop): the call still counts by its name
        "tf1.py": ("class Net:\n    def fit(self, train_file):\n        for step in range(10):\n"
                   "            self.sess.run([self.update], feed_dict={})\n"),
        "run_tf1.py": "from tf1 import Net\n\nif __name__ == '__main__':\n    Net().fit('train.txt')\n",
    })
    p = project_of(root)
    assert sorted(e.path for e in p.training_entrypoints) == ["run_tf1.py", "train.py"]


def test_own_distributions_from_pyproject_setup_py_and_setup_cfg(make_repo):
    root = make_repo({
        "pyproject.toml": '[project]\nname = "Alpha_Lib"\n\n[tool.poetry]\nname = "beta.tool"\n',
        "setup.py": "import os\nfrom setuptools import setup\n\n"
                    "PKG = os.environ.get('PKG_NAME', 'gamma-core')\nsetup(name=PKG, version='1')\n",
        "sub/setup.py": "import setuptools\nNAME = 'delta'\nsetuptools.setup(name=NAME)\n",
        "other/setup.py": "from setuptools import setup\nsetup(name=compute_name())\n",
        "cfg/setup.cfg": "[metadata]\nname = Epsilon\n",
        "broken/setup.cfg": "[metadata\nname = zeta\n",
        "train.py": "print(1)\n",
    })
    assert project_of(root).own_distributions == {"alpha-lib", "beta-tool", "gamma-core", "delta", "epsilon"}


def test_no_own_distribution_without_packaging_files(make_repo):
    assert project_of(make_repo({"train.py": "print(1)\n"})).own_distributions == frozenset()


def test_a_module_beside_the_importer_wins_over_the_only_one_of_that_name_elsewhere(make_repo):
    """A monorepo of projects, each run from its own folder: ``from steps.trainer import train`` in
    proj_a finds proj_a/steps first on sys.path, although proj_a (a package) names its file
    ``proj_a.steps.trainer`` and the only ``steps.trainer`` is proj_b's."""
    root = make_repo({
        "proj_a/__init__.py": "",
        "proj_a/run.py": "from steps.trainer import train\n\nif __name__ == '__main__':\n    train()\n",
        "proj_a/pipelines/flow.py": "from steps.trainer import train\n\ndef flow():\n    train()\n",
        "proj_a/steps/__init__.py": "",
        "proj_a/steps/trainer.py": "def train():\n    pass\n",
        "proj_b/run.py": "from steps.trainer import train\n\nif __name__ == '__main__':\n    train()\n",
        "proj_b/steps/__init__.py": "",
        "proj_b/steps/trainer.py": "def train():\n    pass\n",
        "tools/report.py": "from steps.trainer import train\n\ndef go():\n    train()\n",
    })
    edges = {(a, b) for a, b, k in project_of(root).graph.edges(data="kind") if k == "calls"}
    assert ("proj_a/run.py::<main>", "proj_a/steps/trainer.py::train") in edges
    assert ("proj_a/pipelines/flow.py::flow", "proj_a/steps/trainer.py::train") in edges  # an ancestor's folder
    assert ("proj_b/run.py::<main>", "proj_b/steps/trainer.py::train") in edges
    assert ("tools/report.py::go", "proj_b/steps/trainer.py::train") in edges  # nothing nearer: the only one


def test_a_notebook_calls_its_own_functions_and_classes(make_repo):
    import json

    def nb(*cells):
        return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                      "source": c} for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})

    root = make_repo({
        "analysis.ipynb": nb("import numpy as np\n\ndef set_seed(s):\n    np.random.seed(s)\n",
                             "class Net:\n    def __init__(self):\n        self.w = 1\n",
                             "set_seed(8)\nnet = Net()\n"),
        "analysis.py": "def other():\n    pass\n",
    })
    edges = {(a, b) for a, b, k in project_of(root).graph.edges(data="kind") if k == "calls"}
    assert ("analysis.ipynb::<module>", "analysis.ipynb::set_seed") in edges
    assert ("analysis.ipynb::<module>", "analysis.ipynb::Net.__init__") in edges


@pytest.mark.parametrize("start", [
    "import torch.multiprocessing as mp\n\nif __name__ == '__main__':\n    mp.spawn(train, nprocs=2)\n",
    "import torch.multiprocessing as mp\n\nif __name__ == '__main__':\n    mp.spawn(fn=train, nprocs=2)\n",
    "import multiprocessing\n\nif __name__ == '__main__':\n    multiprocessing.Process(target=train).start()\n",
])
def test_functions_started_in_new_processes_are_reached(make_repo, start):
    """``mp.spawn(train)`` / ``Process(target=train)`` run ``train``: the entrypoint reaches it and trains."""
    train = "from sklearn.linear_model import LogisticRegression\n\n\ndef train(*_):\n    LogisticRegression().fit([[0]], [0])\n"
    root = make_repo({"run.py": train + "\n\n" + start})
    p = project_of(root)
    assert [ep.path for ep in p.training_entrypoints] == ["run.py"]
    root2 = make_repo({"run.py": train + "\n\n" + start.replace("train", "print")})
    assert project_of(root2).training_entrypoints == []
