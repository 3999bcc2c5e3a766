"""Training reads data from a location that can change without a trace.

## What it does
In training code (what a training entrypoint reaches), looks at data reads (`pd.read_*`,
`pl.read_*`/`scan_*`, `spark.read.*`, Dask, `np.load`, `tf.data.TFRecordDataset`, torchvision
`ImageFolder`, `datasets.load_dataset`) whose location resolves to a constant, and reports:
a remote URI (`s3://`, `gs://`, `abfs://`, `hdfs://`, `https://`...) with a mutable segment
(`latest`, `current`, `live`, `prod`...) or with no version marker at all (no date partition,
`versionId`, `v3`, commit hash or `@rev`); a Hugging Face hub dataset without `revision`; and a local
data file that is neither committed nor tracked by DVC or Git LFS.

## Why is this bad?
Checkpoint 3 (reproducible training): if the data behind a path changes, the same commit trains a
different model, and nobody can say which data produced the model in production or reproduce a
past result.

## Example
```python
import pandas as pd
from sklearn.linear_model import LogisticRegression


def train():
    df = pd.read_parquet("s3://lake/churn/latest/features.parquet")
    LogisticRegression().fit(df.drop(columns="y"), df["y"])


if __name__ == "__main__":
    train()
```

## Use instead
```python
import pandas as pd
from sklearn.linear_model import LogisticRegression


def train():
    df = pd.read_parquet("s3://lake/churn/dt=2024-06-01/features.parquet")
    LogisticRegression().fit(df.drop(columns="y"), df["y"])


if __name__ == "__main__":
    train()
```

## Known limits
Paths are resolved through module constants and constants imported from project modules; a
location the analysis cannot resolve (a CLI argument, an environment variable, a config value) is
not reported. Bucket versioning does not help unless the version id is pinned. Reads in tests and
outside training code are ignored. A read with a snapshot argument (`version=`, `versionAsOf=`,
`timestamp=`, `snapshot_id=`: Delta Lake, Iceberg, lakeFS) is pinned; Hive-style and slashed date
partitions (`year=2024/month=06/`, `/2024/06/01/`) count as versions. A file the project writes,
or one in a folder it downloads or unpacks into (`extractall("data")`, `urlretrieve(url, path)`,
the Kaggle API's `path=`, `hf_hub_download(local_dir=)`, MONAI's `download_and_extract`), is not
reported: it comes from a source the code names, whose versioning the analysis cannot judge. A
file that unpacks an archive into the working directory (`extractall()`, `unpack_archive(f)`)
may read any relative path it holds. So is a file a notebook fetches with a
shell command (`!wget URL -O f`, `!curl -o f`, `!gsutil cp`, `!unzip z -d d`, `!kaggle ... -p d`), or
unpacks into its working directory (`!unzip z`, `!tar xzf t.tgz`, `!gdown ID`); the same holds
for the shell string blocks of keras-io style scripts (a top-level string that starts with `shell`).
A change of
directory (`os.chdir`, `%cd`) before such a command is not followed. A read after the last
training call of its scope (evaluation data, an example for an inference demo at the end of a
notebook) is not training data and is not reported.
"""
import re

from mllint.knowledge import canonical
from mllint.knowledge import io as IO
from mllint.knowledge import versioning as V
from mllint.rule import FileRule, ProjectRule, RuleMeta


# calls that fetch or unpack files into a folder or file: name -> ((position, keyword) of the target)
_DOWNLOADS = {
    "extractall": ((0, "path"),),
    "unpack_archive": ((1, "extract_dir"),),
    "urlretrieve": ((1, "filename"),),
    "download": ((1, "out"), (1, "output")),  # wget.download(url, out=), gdown.download(url, output)
    "competition_download_file": ((2, "path"),),
    "competition_download_files": ((1, "path"),),
    "dataset_download_file": ((2, "path"),),
    "dataset_download_files": ((1, "path"),),
    "download_and_extract": ((2, "output_dir"),),  # monai.apps: fetched, hash-checked, unpacked
    "download_url": ((1, "filepath"),),
    "hf_hub_download": ((None, "local_dir"),),
    "snapshot_download": ((None, "local_dir"),),
}
_WRITE_ATTRS = frozenset({"to_csv", "to_parquet", "to_json", "to_feather", "to_excel", "to_pickle", "to_hdf",
                          "write_csv", "write_parquet", "write_ndjson", "save", "savez", "savez_compressed", "savetxt",
                          "dump", "write_text", "write_bytes"})


def _write_mode(v) -> bool:
    return v is not None and v.kind == "const" and isinstance(v.value, str) and any(m in v.value for m in "wax")


def _written_by_project(project, text: str, reader_path: str = "") -> bool:
    """The project writes this literal path itself (an output read back, e.g. a submission file),
    or it lies in a folder the project downloads or extracts files into (``extractall("data")``,
    ``urlretrieve(url, "data/x.csv")``, the Kaggle API's ``path=``): the file comes from a source
    the code names, not an uncommitted local copy."""
    cache = project.__dict__.setdefault("_ml0304_written", None)
    if cache is None:
        files, folders = set(), set()
        cwd_unpackers = set()  # files that download or unpack archives into the working directory
        for path, s in project.summaries.items():
            for c in s.calls:
                name = (c.qualname or "").rsplit(".", 1)[-1]
                if _into_working_dir(project, path, c, name):
                    cwd_unpackers.add(path)
                if c.attr == "extract" and not c.star_args:
                    # ``zf.extract("data.csv", path="data")``: that member, under that folder
                    member = project.const_value(path, c.scope, c.arg(0, "member")) if c.arg(0, "member") else None
                    where = project.const_value(path, c.scope, c.arg(1, "path")) if c.arg(1, "path") else None
                    if member is not None and member.kind == "const" and isinstance(member.value, str):
                        base = where.value if where is not None and where.kind == "const" and \
                            isinstance(where.value, str) else ""
                        full = f"{base.strip().rstrip('/')}/{member.value}" if base.strip(" ./") else member.value
                        files.add(full.strip().lstrip("./").rstrip("/"))
                writer = name in ("TFRecordWriter", "ParquetWriter", "ExcelWriter") or \
                    (name == "ZipFile" and _write_mode(c.arg(1, "mode")))
                if writer or c.attr in _WRITE_ATTRS or (c.qualname == "open" and len(c.args) > 1 and _write_mode(c.args[1])):
                    targets, into = c.args[:2], files
                elif name in _DOWNLOADS or c.attr in _DOWNLOADS:
                    targets, into = [v for pos, kw in _DOWNLOADS.get(name) or _DOWNLOADS[c.attr]
                                     for v in [c.arg(pos, kw)] if v is not None], folders
                else:
                    continue
                for v in targets:
                    vv = project.const_value(path, c.scope, v)
                    if vv.kind == "const" and isinstance(vv.value, str) and vv.value.strip("./"):
                        into.add(vv.value.strip().lstrip("./").rstrip("/"))
        for path, s in project.summaries.items():
            for kind, target in s.facts.get("ML0304", ()):
                if kind == "cwd":
                    cwd_unpackers.add(path)
                    continue
                t = target.strip().lstrip("./").rstrip("/")
                if t:
                    (files if kind == "file" else folders).add(t)
        cache = project.__dict__["_ml0304_written"] = (files, folders, cwd_unpackers)
    files, folders, cwd_unpackers = cache
    rel = text.lstrip("./")
    if reader_path in cwd_unpackers:
        return True  # read where the same file unpacked an archive into the working directory
    return rel in files or rel in folders or any(rel.startswith(f + "/") for f in folders)


# the unpackers of ``_DOWNLOADS`` whose target folder defaults to the working directory
_CWD_UNPACK = frozenset({"extractall", "unpack_archive", "download_and_extract"})


def _into_working_dir(project, path: str, c, name: str) -> bool:
    """``zf.extractall()``, ``extractall(".")``, ``shutil.unpack_archive(f)``: the archive's files
    land in the working directory, under names the code does not spell."""
    key = name if name in _CWD_UNPACK else c.attr if c.attr in _CWD_UNPACK else None
    if key is None or c.star_args or c.star_kwargs:
        return False
    v = c.arg(*_DOWNLOADS[key][0])
    if v is None:
        return True
    vv = project.const_value(path, c.scope, v)
    return vv.kind == "const" and isinstance(vv.value, str) and not vv.value.strip(" ./")


# Arguments that read a table format at a fixed snapshot (Delta Lake, Iceberg, Hudi, lakeFS).
_TIME_TRAVEL = ("version", "versionAsOf", "version_as_of", "timestamp", "timestampAsOf", "timestamp_as_of",
                "snapshot_id", "as_of", "commit", "ref")


def _last_training_lines(summary) -> dict:
    """scope -> line of its last call that trains (``fit``, ``trainer.train()``, an optimizer step)."""
    from mllint.knowledge import training as TK

    out: dict = {}
    for c in summary.calls:
        if TK.is_training_call(c) and c.line > out.get(c.scope, 0):
            out[c.scope] = c.line
    return out


def shell_download_targets(line: str) -> list:
    """(kind, path) of what one notebook shell line fetches or unpacks: ``("file", f)`` for
    ``wget -O f``/``wget URL``/``curl -o f``/``gdown -O f``/``gsutil cp src dst``, ``("folder", d)``
    for ``wget -P d``, ``unzip z -d d``, ``tar -x -C d`` and the Kaggle CLI's ``-p d``.  Each simple
    command of the line counts (``wget URL -O a.zip && unzip a.zip -d data``)."""
    from mllint.sources.config import split_shell_commands

    out = []
    for cmd in split_shell_commands(line.lstrip().lstrip("!")):
        argv = cmd.argv
        prog = argv[0].rsplit("/", 1)[-1] if argv else ""
        if prog not in _SHELL_FETCHERS:
            continue
        args = list(argv[1:])
        found = []
        for j, a in enumerate(args):
            for flag, kind in _SHELL_FETCHERS[prog]:
                if a == flag and j + 1 < len(args):
                    found.append((kind, args[j + 1]))
                elif flag.startswith("--") and a.startswith(flag + "="):
                    found.append((kind, a.split("=", 1)[1]))
        if prog in ("gsutil", "aws") and "cp" in args:
            rest = [a for a in args[args.index("cp") + 1:] if not a.startswith("-")]
            if len(rest) >= 2:
                src, dst = rest[-2], rest[-1]
                if dst in (".", "./") or dst.endswith("/"):
                    dst = dst.rstrip("/") + "/" + src.rstrip("/").rsplit("/", 1)[-1]
                found.append(("file", dst))  # ``gsutil cp gs://bucket/x.csv ./``
        if not found and (prog in ("unzip", "gdown") or (prog == "tar" and _tar_extracts(args))):
            found.append(("cwd", ""))  # ``!unzip data.zip``, ``!tar xzf d.tgz``, ``!gdown ID``: names unknown
        urls = [a for a in args if "://" in a]
        if prog in ("wget", "curl") and not found and urls and (prog == "wget" or "-O" in args or "--remote-name" in args):
            name = urls[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            if name:
                found.append(("file", name))  # saved under the URL's last segment
        out.extend(found)
    return out


# a top-level string statement holding shell commands (keras-io: a ``!`` cell of the generated notebook)
_SHELL_BLOCK = re.compile(r'^"""shell\n(.*?)^"""', re.S | re.M)


def _tar_extracts(args: list) -> bool:
    """``tar xzf a.tgz``, ``tar -xf a.tar``, ``tar --extract -f a.tar``."""
    if "--extract" in args or "--get" in args:
        return True
    first = args[0] if args else ""
    return any(a.startswith("-") and not a.startswith("--") and "x" in a for a in args) or \
        (not first.startswith("-") and "x" in first and first.isalpha())


_SHELL_FETCHERS = {
    "wget": (("-O", "file"), ("--output-document", "file"), ("-P", "folder"), ("--directory-prefix", "folder")),
    "curl": (("-o", "file"), ("--output", "file")),
    "gdown": (("-O", "file"), ("--output", "file")),
    "unzip": (("-d", "folder"),),
    "tar": (("-C", "folder"), ("--directory", "folder")),
    "kaggle": (("-p", "folder"), ("--path", "folder")),
    "gsutil": (), "aws": (),  # ``cp SRC DST``
}


class UnversionedDataPath(FileRule, ProjectRule):
    meta = RuleMeta(code="ML0304", level="warning", precision="high", tags=("reproducibility", "data"))

    def begin(self):
        """A notebook's shell downloads (``!wget URL -O data.csv``), and a script's keras-io style
        shell string blocks (the cells of the notebook made from it): recorded for the project phase."""
        src = self.ctx.source
        if src is None:
            return False
        if self.ctx.summary.kind == "notebook":
            lines = [text for _vline, text in getattr(src, "magics", None) or []]
        elif self.ctx.text_has('"""shell\n'):
            lines = [l for block in _SHELL_BLOCK.findall(src.text) for l in block.splitlines()]
        else:
            return False
        for text in lines:
            if any(p in text for p in _SHELL_FETCHERS):
                for kind, target in shell_download_targets(text):
                    self.record((kind, target))
        return False  # nothing to walk

    def check_project(self, project):
        if not project.training_scopes:
            return
        tracked = None
        for path, summary in project.summaries.items():
            if project.is_test_path(path):
                continue
            last_train = _last_training_lines(summary)
            for call in summary.calls:
                if f"{path}::{call.scope}" not in project.training_scopes:
                    continue
                if call.line > last_train.get(call.scope, call.line):
                    continue  # read after the scope's last training call: evaluation or a demo, not training data
                q = canonical(call.qualname)
                if q in IO.HUB_DATASET_LOADERS:
                    msg = self._hub_dataset(project, path, call)
                    if msg:
                        yield self.finding(path, call.span(), msg)
                    continue
                kws = IO.data_reader_kwargs(call)
                if kws is None:
                    continue
                if any(k in call.kwargs for k in _TIME_TRAVEL):
                    continue  # ``DeltaTable(uri, version=12)``, ``read_delta(uri, version=7)``: a pinned snapshot
                ref = None
                for k in kws:
                    if k in call.kwargs:
                        ref = call.kwargs[k]
                        break
                if ref is None and call.args:
                    ref = call.args[0]
                if ref is None:
                    continue
                ref = project.const_value(path, call.scope, ref)
                text, literal = V.literal_text(ref)
                if text is None:
                    continue
                if tracked is None:
                    tracked = V.VersionTracking(project)
                msg = self._location(project, path, call, text, literal, ref, tracked)
                if msg:
                    yield self.finding(path, call.span(), msg)

    def _hub_dataset(self, project, path, call):
        ref = project.const_value(path, call.scope, call.args[0]) if call.args else call.kwargs.get("path")
        text, literal = V.literal_text(ref)
        if not literal or text is None:
            return None
        if text in IO.DATASET_BUILDERS:
            files = call.kwargs.get("data_files")
            if files is None:
                return None
            ftext, _ = V.literal_text(project.const_value(path, call.scope, files))
            if ftext and ftext.startswith(V.REMOTE_PREFIXES) and not V.VERSION_MARKER.search(ftext):
                return f"`load_dataset(\"{text}\", data_files=\"{ftext}\")` reads a remote file with no version marker; pin a versioned location"
            return None
        if V.HF_REPO_ID.match(text) or ("/" not in text and "." not in text):
            if "revision" in call.kwargs:
                rv = project.const_value(path, call.scope, call.kwargs["revision"])
                if rv.kind == "const" and isinstance(rv.value, str) and rv.value.lower() in V.BRANCH_REVISIONS:
                    return f"`load_dataset(\"{text}\", revision=\"{rv.value}\")` follows a branch; pin a commit sha"
                return None
            return (f"`load_dataset(\"{text}\")` has no `revision`: the hub dataset can change between runs; "
                    f"pin `revision=\"<commit sha>\"`")
        return None

    def _location(self, project, path, call, text, literal, ref, tracked):
        reader = call.qualname or f"{call.receiver}.{call.attr}"
        low = text.lower()
        if low.startswith(V.REMOTE_PREFIXES):
            gh = V.GITHUB_RAW.match(text)
            if gh:
                if V.HEX_REV.match(gh.group(1)) or not literal:
                    return None
                return (f"`{reader}` reads `{text}` from the `{gh.group(1)}` branch, which moves with every commit; "
                        f"read it at a commit sha")
            body = text.split("://", 1)[-1] if "://" in text else text
            segs = [s for s in body.replace("{}", "").split("/") if s]
            mutable = [s for s in segs[1:] if s.lower() in ("latest", "current", "live", "prod", "production", "head",
                                                             "today", "new", "newest")]
            if mutable:
                return (f"`{reader}` reads `{text}`: the `{mutable[0]}` segment points at whatever was written last, so "
                        f"reruns train on different data; read a dated or versioned snapshot")
            if not literal:
                names = " ".join(V.placeholders(ref))
                from mllint.knowledge import VERSION_LIKE

                if VERSION_LIKE.search(names) or not names:
                    return None
                return None  # a placeholder the analysis cannot resolve: trusted
            if V.VERSION_MARKER.search(text):
                return None
            if low.startswith(("http://", "https://")) and "huggingface.co" in low and "/resolve/" in low:
                return None
            return (f"`{reader}` reads `{text}`, a remote location with no version marker (date partition, "
                    f"versionId, v<N>, commit hash); pin the snapshot so the run can be reproduced")
        if not literal or text.startswith(("/", "~")) or "{}" in text:
            return None
        if not low.endswith(IO.DATA_EXTENSIONS) and "data/" not in low:
            return None
        if text.startswith(".."):
            return None  # relative to a parent of the working directory (e.g. Kaggle's ../input mount): unknowable
        cands = V.path_candidates(path, text, project.tops)
        if not cands:
            return None
        if any(tracked.versioned(c) for c in cands) or _written_by_project(project, text, path):
            return None
        return (f"`{reader}` reads `{text}`, a local data file that is not committed and not tracked by DVC or Git "
                f"LFS; track it (`dvc add {text}`) so the training data is versioned with the code")
