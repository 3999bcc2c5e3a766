"""Project-level cases of the checkpoint 1-4 training rules that need a whole repository each
(a fixture folder is one repository, so "a registry elsewhere in the project" needs its own)."""
import pytest

from mllint.config import load_settings
from mllint.engine import scan

TRAIN = '''import joblib
from sklearn.linear_model import LogisticRegression

if __name__ == "__main__":
    model = LogisticRegression().fit(X, y)
    joblib.dump(model, "model.joblib")
'''


def _codes(make_repo, files, code):
    root = make_repo(files)
    settings = load_settings([str(root)], str(root))
    settings.select, settings.extend_select, settings.ignore, settings.jobs = [code], [], [], 1
    res = scan([str(root)], settings)
    return [(f.location.path, f.location.line) for f in res.findings if f.code == code]


def test_registry_fires_without_registry(make_repo):
    assert _codes(make_repo, {"train.py": TRAIN}, "ML0102") == [("train.py", 6)]


@pytest.mark.parametrize("registry", [
    "import mlflow\nmlflow.register_model('runs:/1/model', 'churn')\n",
    "import mlflow\nmlflow.sklearn.log_model(m, 'model', registered_model_name='churn')\n",
    "import mlflow\nmlflow.sklearn.autolog(registered_model_name='churn')\n",
    "from mlflow import MlflowClient\nMlflowClient().create_model_version('churn', 's3://x', 'run')\n",
    "model.push_to_hub('org/churn')\n",
    "from google.cloud import aiplatform\naiplatform.Model.upload(display_name='churn')\n",
    "import wandb\nrun = wandb.init()\nrun.link_model(path='m', registered_model_name='churn')\n",
    "import bentoml\nbentoml.sklearn.save_model('churn', model)\n",
    "from clearml import OutputModel\nOutputModel(task=t).update_weights('model.pkl')\n",
    "import hopsworks\nmr = hopsworks.login().get_model_registry()\n",
    "import hopsworks\nproject = hopsworks.login()\nmr = project.get_model_registry()\n"
    "mr.sklearn.create_model(name='churn', metrics={'auc': 0.9}).save('model')\n",
])
def test_registry_anywhere_silences(make_repo, registry):
    assert _codes(make_repo, {"train.py": TRAIN, "deploy/register.py": registry}, "ML0102") == []


@pytest.mark.parametrize("other", [
    "import timm\nmodel = timm.create_model('resnet50', pretrained=True)\n",
    "def create_model(cfg):\n    return cfg\n\nnet = create_model({})\nnet.save('x')\n",
    "mr = get_registry()\nmr.get_model_registry()\n",  # no Hopsworks in sight
])
def test_model_factories_named_create_model_are_not_a_registry(make_repo, other):
    """timm's and a project's own ``create_model`` are not the Hopsworks registry's."""
    assert _codes(make_repo, {"train.py": TRAIN, "models.py": other}, "ML0102") == [("train.py", 6)]


def test_dvc_model_artifact_silences(make_repo):
    dvc = "artifacts:\n  churn:\n    path: model.joblib\n    type: model\n"
    assert _codes(make_repo, {"train.py": TRAIN, "dvc.yaml": dvc}, "ML0102") == []


BOOST = '''import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier

if __name__ == "__main__":
    xgb.XGBClassifier(n_estimators=10).fit(X, y)
    RandomForestClassifier().fit(X, y)
'''


def test_boosting_libraries_are_opt_in(make_repo):
    assert _codes(make_repo, {"train.py": BOOST}, "ML0305") == [("train.py", 6)]
    opt = '[tool.mllint.rules.ML0305]\nboosting-libraries = true\n'
    assert _codes(make_repo, {"train.py": BOOST, "pyproject.toml": opt}, "ML0305") == [("train.py", 5), ("train.py", 6)]


# ---------------------------------------------------------------- knowledge helpers used by the rules
@pytest.mark.parametrize("guard,kind", [
    ("rank Eq 0", "global"), ("RANK In -1 0", "global"), ("dist get_rank Eq 0", "global"),
    ("self self_is_main_node", "global"), ("master_process", "global"), ("trainer is_global_zero", "global"),
    ("args local_rank Eq 0", "local"), ("is_local_main_process accelerator", "local"), ("self gpu_id Eq 0", "local"),
    ("epoch save_every", None), ("num_ranks Gt 1", None),
])
def test_rank_guard_kind(guard, kind):
    from mllint.knowledge.distributed import guard_kind
    assert guard_kind(guard) == kind


def test_rank_guard_prefilter_keeps_every_identifier_the_classifier_knows():
    """guard_kind skips guards without a rank-like word; every identifier the patterns accept
    (each alternative, alone and inside a longer name) must contain one."""
    import re

    from mllint.knowledge import distributed as DK
    words = set()
    for pattern in (DK._LOCAL_ID, DK._GLOBAL_ID):
        for alt in pattern.pattern.strip("()").split("|"):
            words.add(alt.strip("^$"))
    words |= {"is_local_process_zero", "local_main", "localMaster", "is_world_process_zero", "cur_gpu"}
    for w in sorted(words):
        for ident in (w, f"self_{w}_flag", w.upper()):
            if DK._classify_guard(ident) is not None:
                assert DK.guard_kind(ident) == DK._classify_guard(ident), ident
    assert DK.guard_kind("epoch save_every Gt 0") is None
    assert re.fullmatch(r"[\w|^$()]+", DK._GLOBAL_ID.pattern)  # plain alternatives, split above


@pytest.mark.parametrize("args,unpinned", [
    (" -q scikit-learn xgboost", ["scikit-learn", "xgboost"]),
    (" -qr requirements.txt comet_ml", ["comet_ml"]),
    (" -r requirements.txt", []), (" -e .", []), (" torch==2.3.1", []), (" keras_tuner~=1.4.6", []),
    (" 'numpy<2'", ["numpy<2"]), (" --upgrade pip setuptools", []), (" {pkgs}", []),
    (" git+https://github.com/org/repo@v1", []),
])
def test_unpinned_packages(args, unpinned):
    from mllint.rules.notebook_unpinned_install import unpinned_packages
    assert unpinned_packages(args) == unpinned


@pytest.mark.parametrize("sql,pinned", [
    ("SELECT * FROM t", False),
    ("SELECT * FROM t WHERE event_date >= '2024-01-01'", True),
    ("SELECT * FROM t WHERE created_at < %(cutoff)s", True),
    ("SELECT * FROM `p.d.t` FOR SYSTEM_TIME AS OF TIMESTAMP '2024-06-01'", True),
    ("SELECT * FROM t VERSION AS OF 3", True),
    ("SELECT * FROM t AT(OFFSET => -60)", True),
    ("SELECT * FROM t WHERE country = 'DE'", False),
])
def test_query_is_pinned(sql, pinned):
    from mllint.rules.mutable_table_read import query_is_pinned
    assert query_is_pinned(sql) is pinned


@pytest.mark.parametrize("check", [
    "    if (df['age'] < 0).any():\n        raise ValueError('negative age')\n",
    "    missing = {'age', 'y'} - set(df)\n    if missing:\n        raise ValueError(missing)\n",
])
def test_ml0702_hand_rolled_checks_count(make_repo, check):
    train = ("import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n\n\ndef main():\n"
             "    df = pd.read_csv('data/churn.csv')\n{check}"
             "    LogisticRegression().fit(df[['age']], df['y'])\n\n\nif __name__ == '__main__':\n    main()\n")
    assert _codes(make_repo, {"train.py": train.format(check="")}, "ML0702")
    assert _codes(make_repo, {"train.py": train.format(check=check)}, "ML0702") == []


def test_ml0302_the_sklearn_placeholder_is_named_as_such(make_repo):
    root = make_repo({"train.py": "from sklearn.linear_model import LogisticRegression\n\nif __name__ == '__main__':\n"
                                  "    LogisticRegression().fit([[0], [1]], [0, 1])\n",
                      "requirements.txt": "sklearn\npandas>=2\n"})
    s = load_settings([str(root)], str(root))
    found = {f.location.line: f.message for f in scan([str(root)], s).findings if f.code == "ML0302"}
    assert set(found) == {1, 2}
    assert "placeholder" in found[1] and "scikit-learn==" in found[1] and "placeholder" not in found[2]


def test_ml0304_notebook_shell_downloads_are_read():
    from mllint.rules.unversioned_data_path import shell_download_targets as targets

    assert targets("!wget -q https://x.org/y/cars.csv") == [("file", "cars.csv")]
    assert targets("!wget https://x.org/y/a.zip -O data/a.zip") == [("file", "data/a.zip")]
    assert targets("!curl -L https://x.org/a.zip -o a.zip") == [("file", "a.zip")]
    assert targets("!gsutil cp gs://bucket/bike-data.csv ./") == [("file", "./bike-data.csv")]
    assert targets("!aws s3 cp s3://b/x/train.csv data/train.csv") == [("file", "data/train.csv")]
    assert targets("!unzip -q a.zip -d data") == [("folder", "data")]
    assert targets("!tar -xzf a.tgz -C raw") == [("folder", "raw")]
    assert targets("!kaggle competitions download -c titanic -p kaggle_data") == [("folder", "kaggle_data")]
    assert targets("!wget https://x.org/a.zip -O a.zip && unzip a.zip -d data") == [("file", "a.zip"), ("folder", "data")]
    assert targets("!ls -la") == [] and targets("!pip install x") == []


@pytest.mark.parametrize("path,is_test", [
    ("tests/test_x.py", True), ("pkg/test/helpers.py", True), ("conftest.py", True), ("a/b_test.py", True),
    ("runtimes/alibi/tests_alibi_explain/helpers/tf_model.py", True), ("svc/unit_tests/fixtures.py", True),
    ("svc/integration_tests/data/make.py", True),
    ("test_time_augmentation/tta.py", False), ("pkg/contests/run.py", False), ("src/tests.py", False),
    ("latests/train.py", False), ("src/train.py", False),
])
def test_test_paths(path, is_test):
    from mllint.knowledge import is_test_path
    assert is_test_path(path) is is_test


@pytest.mark.parametrize("folder,reported", [("pytorch-examples", False), ("vertex-ai-samples", False),
                                              ("tutorials", False), ("churn-service", True)])
def test_unpinned_requirements_in_a_collection_of_examples(tmp_path, folder, reported):
    root = tmp_path / folder
    (root / ".git").mkdir(parents=True)
    (root / "mnist").mkdir()
    (root / "mnist" / "requirements.txt").write_text("torch\n")
    (root / "mnist" / "train.py").write_text(
        "import torch\n\nif __name__ == '__main__':\n    torch.manual_seed(0)\n    m = torch.nn.Linear(2, 1)\n"
        "    opt = torch.optim.SGD(m.parameters(), lr=0.1)\n    m(torch.ones(1, 2)).sum().backward()\n    opt.step()\n")
    settings = load_settings([str(root)], str(root))
    settings.select, settings.extend_select, settings.ignore, settings.jobs = ["ML0302"], [], [], 1
    found = [f.location.path for f in scan([str(root)], settings).findings if f.code == "ML0302"]
    assert found == (["mnist/requirements.txt"] if reported else [])
