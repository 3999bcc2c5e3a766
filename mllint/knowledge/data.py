"""Data-handling API knowledge: data-dependent transformers, aggregates, samplers, splits, joins,
time handling, data validation tools and feature stores (checkpoints 5-8)."""
from __future__ import annotations

import re

from mllint.knowledge import canonical

# ----------------------------------------------------------------- data-dependent transformers
# Fitting any of these learns statistics of the rows it sees (leakage-analysis "rowset" sources).
_SK_PRE = "sklearn.preprocessing."
SCALERS = frozenset(_SK_PRE + n for n in (
    "StandardScaler", "MinMaxScaler", "RobustScaler", "MaxAbsScaler", "QuantileTransformer",
    "PowerTransformer", "KBinsDiscretizer",  # Normalizer is stateless: not listed
))
IMPUTERS = frozenset({"sklearn.impute.SimpleImputer", "sklearn.impute.IterativeImputer", "sklearn.impute.KNNImputer",
                      "sklearn.experimental.enable_iterative_imputer.IterativeImputer"})
SELECTORS = frozenset("sklearn.feature_selection." + n for n in (
    "SelectKBest", "SelectPercentile", "SelectFpr", "SelectFdr", "SelectFwe", "GenericUnivariateSelect",
    "RFE", "RFECV", "VarianceThreshold", "SelectFromModel", "SequentialFeatureSelector"))
DECOMPOSITION = frozenset({"sklearn.decomposition.PCA", "sklearn.decomposition.TruncatedSVD",
                           "sklearn.decomposition.IncrementalPCA", "sklearn.decomposition.KernelPCA",
                           "sklearn.decomposition.FastICA", "sklearn.decomposition.NMF"})
VECTORIZERS = frozenset({"sklearn.feature_extraction.text.CountVectorizer",
                         "sklearn.feature_extraction.text.TfidfVectorizer",
                         "sklearn.feature_extraction.text.TfidfTransformer"})
# Encoders whose fitted state is a statistic of the target (leaky before the split).
TARGET_ENCODERS = frozenset({"sklearn.preprocessing.TargetEncoder", "category_encoders.TargetEncoder",
                             "category_encoders.target_encoder.TargetEncoder", "category_encoders.LeaveOneOutEncoder",
                             "category_encoders.CatBoostEncoder", "category_encoders.JamesSteinEncoder",
                             "category_encoders.MEstimateEncoder", "category_encoders.WOEEncoder"})
# Plain encoders: fitting learns the category set (fit-at-inference cares, leakage barely does).
ENCODERS = frozenset({"sklearn.preprocessing.OneHotEncoder", "sklearn.preprocessing.OrdinalEncoder",
                      "sklearn.preprocessing.LabelEncoder", "sklearn.preprocessing.LabelBinarizer",
                      "sklearn.preprocessing.MultiLabelBinarizer", "sklearn.feature_extraction.DictVectorizer",
                      "category_encoders.OneHotEncoder",
                      "category_encoders.OrdinalEncoder", "category_encoders.BinaryEncoder",
                      "category_encoders.CountEncoder", "sklearn.compose.ColumnTransformer"}) | TARGET_ENCODERS
KERAS_TOKENIZERS = frozenset({"keras.preprocessing.text.Tokenizer", "keras.src.legacy.preprocessing.text.Tokenizer",
                              "keras.legacy.preprocessing.text.Tokenizer"})
KERAS_ADAPT_LAYERS = frozenset({"keras.layers.Normalization", "keras.layers.TextVectorization",
                                "keras.layers.StringLookup", "keras.layers.IntegerLookup",
                                "keras.layers.experimental.preprocessing.Normalization",
                                "keras.layers.experimental.preprocessing.TextVectorization"})

# What preprocessing-before-split tracks (statistics of rows; encoders of features are left out).
LEAKY_TRANSFORMERS = SCALERS | IMPUTERS | SELECTORS | DECOMPOSITION | VECTORIZERS | TARGET_ENCODERS | KERAS_TOKENIZERS
# What fit-at-inference tracks: anything whose fitted state must come from training.
FITTABLE_PREPROCESSORS = LEAKY_TRANSFORMERS | ENCODERS | KERAS_ADAPT_LAYERS

FIT_METHODS = frozenset({"fit", "fit_transform", "partial_fit", "fit_on_texts", "fit_on_sequences", "adapt"})
FIT_OUTPUT_METHODS = frozenset({"fit_transform"})
APPLY_METHODS = frozenset({"transform", "texts_to_sequences", "texts_to_matrix", "sequences_to_matrix"})

# pandas/numpy aggregates whose value depends on every row
AGG_METHODS = frozenset({"mean", "median", "std", "var", "mode", "quantile", "min", "max", "nanmean", "nanmedian",
                         "nanstd"})
NUMPY_AGG_FUNCTIONS = frozenset({"numpy.mean", "numpy.median", "numpy.std", "numpy.var", "numpy.nanmean",
                                 "numpy.nanmedian", "numpy.nanstd", "numpy.percentile", "numpy.quantile"})
QUANTILE_BINNING = frozenset({"pandas.qcut"})
BINNING = frozenset({"pandas.qcut", "pandas.cut"})
DUMMIES = frozenset({"pandas.get_dummies"})

# ----------------------------------------------------------------- oversampling / augmentation
OVERSAMPLERS = frozenset("imblearn.over_sampling." + n for n in (
    "SMOTE", "ADASYN", "RandomOverSampler", "BorderlineSMOTE", "SVMSMOTE", "KMeansSMOTE", "SMOTENC", "SMOTEN")) | \
    frozenset({"imblearn.combine.SMOTEENN", "imblearn.combine.SMOTETomek"})
RESAMPLE_METHODS = frozenset({"fit_resample", "fit_sample"})
AUGMENTERS = frozenset({"keras.preprocessing.image.ImageDataGenerator"})
AUGMENT_METHODS = frozenset({"flow"})

# ----------------------------------------------------------------- splits (leakage sinks)
# Text that a module which splits data must contain (the leakage rules' gate before any data-flow
# work): ``Fold(`` and not ``Fold``, which matched every ``ImageFolder``/``snapshot_folder`` module
SPLIT_NEEDLES = ("train_test_split", "random_split", "cross_val", "Fold(", "Split(", "LeaveOne", "LeaveP", "SearchCV")
SPLIT_FUNCTIONS = frozenset({"sklearn.model_selection.train_test_split", "torch.utils.data.random_split"})
# Functions that split their X argument into folds: (position of X)
CV_FUNCTIONS = {
    "sklearn.model_selection.cross_val_score": 1, "sklearn.model_selection.cross_validate": 1,
    "sklearn.model_selection.cross_val_predict": 1, "sklearn.model_selection.learning_curve": 1,
    "sklearn.model_selection.validation_curve": 1, "sklearn.model_selection.permutation_test_score": 1,
}
SEARCH_CV = frozenset({"sklearn.model_selection.GridSearchCV", "sklearn.model_selection.RandomizedSearchCV",
                       "sklearn.model_selection.HalvingGridSearchCV", "sklearn.model_selection.HalvingRandomSearchCV"})
SPLITTERS = frozenset({
    "sklearn.model_selection.KFold", "sklearn.model_selection.StratifiedKFold", "sklearn.model_selection.GroupKFold",
    "sklearn.model_selection.StratifiedGroupKFold", "sklearn.model_selection.RepeatedKFold",
    "sklearn.model_selection.RepeatedStratifiedKFold", "sklearn.model_selection.ShuffleSplit",
    "sklearn.model_selection.StratifiedShuffleSplit", "sklearn.model_selection.GroupShuffleSplit",
    "sklearn.model_selection.TimeSeriesSplit", "sklearn.model_selection.LeaveOneOut",
})
TEMPORAL_SPLITTERS = frozenset({"sklearn.model_selection.TimeSeriesSplit"})

# ----------------------------------------------------------------- time
TIME_NAME = re.compile(r"(^|_)(date|time|timestamp|datetime|ts|dt|day|month|week|hour)$|(_at|_ts|time|timestamp|date|dt)$",
                       re.I)
DATETIME_FUNCTIONS = frozenset({"pandas.to_datetime", "pandas.DatetimeIndex", "pandas.date_range",
                                "polars.col.str.to_datetime", "pandas.Timestamp"})
# Readers whose frames come indexed by time (market data)
TIME_INDEXED_SOURCES = frozenset({"yfinance.download", "pandas_datareader.DataReader", "pandas_datareader.data.DataReader",
                                  "pandas_datareader.data.get_data_yahoo", "pandas_datareader.get_data_yahoo"})
TIME_VARYING_METHODS = frozenset({"groupby", "rolling", "resample", "expanding", "ewm", "group_by", "group_by_dynamic"})
ASOF_FUNCTIONS = frozenset({"pandas.merge_asof"})
ASOF_METHODS = frozenset({"join_asof", "merge_asof"})
JOIN_METHODS = frozenset({"merge", "join"})
LOOKAHEAD_FILL = frozenset({"bfill", "backfill"})

TARGET_NAME = re.compile(r"^(y|y_.*|.*_y|target.*|.*_target|labels?|.*_labels?|label_.*|outcome.*|.*_outcome|"
                         r"response|class|future.*|.*_future|next_.*|.*_next|fwd.*|.*_fwd|forward.*|.*_forward|"
                         r".*_ahead|ahead.*|lead_.*|.*_lead)$", re.I)

# ----------------------------------------------------------------- data sources (training reads)
READ_FUNCTIONS = frozenset({
    "pandas.read_csv", "pandas.read_parquet", "pandas.read_json", "pandas.read_excel", "pandas.read_sql",
    "pandas.read_sql_query", "pandas.read_sql_table", "pandas.read_feather", "pandas.read_table", "pandas.read_orc",
    "pandas.read_gbq", "polars.read_csv", "polars.read_parquet", "polars.scan_csv", "polars.scan_parquet",
    "polars.read_json", "polars.read_database", "dask.dataframe.read_csv", "dask.dataframe.read_parquet",
    "datasets.load_dataset", "pyarrow.parquet.read_table",
})
SPARK_READ_METHODS = frozenset({"csv", "parquet", "table", "json", "orc", "load"})

# ----------------------------------------------------------------- validation tools
VALIDATION_MODULES = ("great_expectations", "gx", "pandera", "tensorflow_data_validation", "deepchecks", "soda",
                      "whylogs", "pydeequ", "evidently",
                      "pointblank", "frictionless", "cerberus", "marshmallow", "schema", "voluptuous",
                      "dataprofiler")
VALIDATION_FUNCTIONS = frozenset({"tensorflow_data_validation.validate_statistics",
                                  "tensorflow_data_validation.validate_examples_in_tfrecord"})
# Hand-rolled checks: tokens inside an assert / if-raise test
VALIDATION_TOKENS = frozenset({"isna", "isnull", "notna", "notnull", "between", "dtypes", "dtype", "hasnans",
                               "is_unique", "duplicated", "is_monotonic_increasing", "columns", "null_count",
                               "is_null", "schema"})

# ----------------------------------------------------------------- feature stores
FEATURE_STORE_MODULES = ("feast", "tecton", "hsfs", "hopsworks", "sagemaker.feature_store",
                         "databricks.feature_store", "databricks.feature_engineering", "featureform",
                         "google.cloud.aiplatform.featurestore", "vertexai.resources.preview.feature_store",
                         "google.cloud.aiplatform_v1.FeatureOnlineStoreServiceClient", "featurebyte", "bytehub")
FEATURE_STORE_NAMES = frozenset({"FeatureView", "Entity", "FeatureService", "FeatureStore", "FeatureStoreClient",
                                 "FeatureEngineeringClient", "FeatureOnlineStore", "FeatureGroup"})
FEATURE_STORE_FILES = r"(^|/)(feature_store\.ya?ml|featurestore\.ya?ml|tecton\.ya?ml)$"


def is_one_of(qualname: str, table) -> bool:
    q = canonical(qualname)
    return bool(q) and (q in table or qualname in table)
