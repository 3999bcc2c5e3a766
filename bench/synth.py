"""Generate a synthetic ML repository of N Python files (plus notebooks and configs) for bench/."""
from __future__ import annotations

import json
import os
import random

TRAIN = '''"""Training pipeline {i}."""
import argparse
import json
import os

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from pkg{p}.features_{i} import build_features_{i}
from pkg{p}.utils import seed_everything

SEED = {seed}


class Net{i}(nn.Module):
    def __init__(self, n_in: int, hidden: int = 64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.body(x).squeeze(-1)


def load(path: str) -> pd.DataFrame:
    df = pd.read_parquet(path)
    df = df.dropna(subset=["label"])
    return build_features_{i}(df)


def fit_forest(X, y):
    model = RandomForestClassifier(n_estimators=100, random_state=SEED)
    model.fit(X, y)
    return model


def fit_net(X: np.ndarray, y: np.ndarray, epochs: int = 3):
    ds = TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))
    loader = DataLoader(ds, batch_size=64, shuffle=True)
    net = Net{i}(X.shape[1])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            total += float(loss)
        print(json.dumps({{"epoch": epoch, "loss": total}}))
    return net


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("DATA", "data.parquet"))
    args = ap.parse_args()
    seed_everything(SEED)
    df = load(args.data)
    X = df.drop(columns=["label"]).to_numpy()
    y = df["label"].to_numpy()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=SEED)
    forest = fit_forest(X_tr, y_tr)
    net = fit_net(X_tr, y_tr)
    print("forest", forest.score(X_te, y_te))
    torch.save(net.state_dict(), f"artifacts/net-{{SEED}}.pt")


if __name__ == "__main__":
    main()
'''

FEATURES = '''"""Features {i}."""
import numpy as np
import pandas as pd


def build_features_{i}(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["log_amount_{i}"] = np.log1p(df["amount"])
    df["age_bucket_{i}"] = (df["age"] // 10).clip(0, 9)
    df["is_weekend_{i}"] = df["weekday"] >= 5
    df["ratio_{i}"] = df["amount"] / df["n_items"].clip(lower=1)
    for col in ["city", "channel"]:
        df[col] = df[col].fillna("unknown").str.lower()
    return df


def summarize_{i}(df: pd.DataFrame) -> dict:
    out = {{}}
    for col in df.columns:
        if df[col].dtype.kind in "if":
            out[col] = {{"mean": float(df[col].mean()), "std": float(df[col].std())}}
    return out
'''

SERVE = '''"""Serving app {i}."""
from contextlib import asynccontextmanager

import joblib
import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel

from pkg{p}.features_{i} import build_features_{i}

MODELS = {{}}


class Request{i}(BaseModel):
    amount: float
    age: int
    weekday: int
    n_items: int


@asynccontextmanager
async def lifespan(app: FastAPI):
    MODELS["m"] = joblib.load("models/model-v{i}.joblib")
    yield


app = FastAPI(lifespan=lifespan)


@app.post("/predict")
def predict(req: Request{i}):
    import pandas as pd

    df = build_features_{i}(pd.DataFrame([req.model_dump()]))
    score = float(MODELS["m"].predict_proba(df)[0, 1])
    return {{"score": score}}


@app.get("/health")
def health():
    return {{"ok": True, "models": sorted(MODELS)}}
'''

UTILS = '''import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
'''


def generate(root: str, n_files: int, seed: int = 0) -> None:
    rnd = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "pyproject.toml"), "w") as fh:
        fh.write('[project]\nname = "synthetic"\nversion = "0"\ndependencies = ["torch==2.3.0", "scikit-learn==1.5.0"]\n')
    made = 0
    p = 0
    while made < n_files:
        pkg = os.path.join(root, f"pkg{p}")
        os.makedirs(pkg, exist_ok=True)
        with open(os.path.join(pkg, "__init__.py"), "w") as fh:
            fh.write("")
        with open(os.path.join(pkg, "utils.py"), "w") as fh:
            fh.write(UTILS)
        made += 2
        for i in range(10):
            if made >= n_files:
                break
            for name, tmpl in ((f"train_{i}.py", TRAIN), (f"features_{i}.py", FEATURES), (f"serve_{i}.py", SERVE)):
                if made >= n_files:
                    break
                with open(os.path.join(pkg, name), "w") as fh:
                    fh.write(tmpl.format(i=i, p=p, seed=rnd.randint(0, 1000)))
                made += 1
        if p % 5 == 0:
            nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                             "source": TRAIN.format(i=0, p=p, seed=1).splitlines(keepends=True)[:60]}],
                  "metadata": {"kernelspec": {"name": "python3", "language": "python"}}, "nbformat": 4,
                  "nbformat_minor": 5}
            with open(os.path.join(pkg, "explore.ipynb"), "w") as fh:
                json.dump(nb, fh, indent=1)
            with open(os.path.join(pkg, "dvc.yaml"), "w") as fh:
                fh.write(f"stages:\n  train:\n    cmd: python pkg{p}/train_0.py\n    deps: [pkg{p}/train_0.py]\n")
        p += 1
