"""Data reads: which calls read training data, and which argument holds the location."""
from __future__ import annotations

from typing import Optional

from mllint.knowledge import canonical

_PANDAS_READERS = ("csv", "parquet", "json", "feather", "excel", "table", "orc", "hdf", "fwf", "sas", "stata",
                   "pickle", "xml", "spss", "sql_table")
# qualname -> keyword names that may hold the path (the first positional argument always may)
DATA_READERS = {f"pandas.read_{r}": ("filepath_or_buffer", "path", "path_or_buf", "io") for r in _PANDAS_READERS}
DATA_READERS.update({f"polars.read_{r}": ("source", "file") for r in ("csv", "parquet", "json", "ndjson", "ipc", "avro",
                                                                       "excel", "delta")})
DATA_READERS.update({f"polars.scan_{r}": ("source",) for r in ("csv", "parquet", "ndjson", "ipc", "delta")})
DATA_READERS.update({f"dask.dataframe.read_{r}": ("urlpath", "path") for r in ("csv", "parquet", "json", "orc", "table")})
DATA_READERS.update({
    "numpy.load": ("file",), "numpy.loadtxt": ("fname",), "numpy.genfromtxt": ("fname",),
    "tensorflow.data.TFRecordDataset": ("filenames",), "tensorflow.data.experimental.make_csv_dataset": ("file_pattern",),
    "torchvision.datasets.ImageFolder": ("root",), "pyarrow.parquet.read_table": ("source",),
    "deltalake.DeltaTable": ("table_uri",), "datasets.load_from_disk": ("dataset_path",),
})
# (not ``format``: ``spark.read.format("delta")`` names a data source format, not a location)
SPARK_READ_METHODS = frozenset({"csv", "parquet", "json", "orc", "load", "text", "table"})
HUB_DATASET_LOADERS = frozenset({"datasets.load_dataset"})
# datasets builder names that read local/remote files given in data_files
DATASET_BUILDERS = frozenset({"csv", "json", "parquet", "text", "arrow", "imagefolder", "audiofolder", "webdataset",
                              "pandas", "sql", "generator"})
DATA_EXTENSIONS = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson", ".npy", ".npz", ".tfrecord", ".tfrecords",
                   ".arrow", ".feather", ".avro", ".orc", ".h5", ".hdf5", ".xlsx", ".xls", ".json", ".txt", ".zip",
                   ".gz", ".pkl", ".pickle")


def data_reader_kwargs(call) -> Optional[tuple]:
    """Keyword names holding the location if ``call`` reads data, else None."""
    q = canonical(call.qualname)
    if q in DATA_READERS:
        return DATA_READERS[q]
    if call.attr in SPARK_READ_METHODS and call.receiver and (call.receiver.endswith(".read") or
                                                              call.receiver.endswith(".readStream")):
        return ("path", "paths")
    return None
