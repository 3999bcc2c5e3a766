"""Training reads a live database table with no snapshot or time bound.

## What it does
In code reached from a training entrypoint, flags reads of warehouse or database tables whose
query (a literal, or a constant the analysis resolves) has no snapshot and no time bound:
`pd.read_sql`/`read_sql_query`/`read_sql_table`, `pd.read_gbq`/`pandas_gbq.read_gbq`,
`spark.sql(...)`, `spark.table(...)`/`spark.read.table(...)`, BigQuery `client.query(...)`,
Snowflake `cursor.execute(...)`. A query counts as pinned when it has `FOR SYSTEM_TIME AS OF`,
`VERSION AS OF`/`TIMESTAMP AS OF`, `versionAsOf`/`timestampAsOf`, `snapshot-id`,
`as-of-timestamp`, Snowflake `AT(...)`/`BEFORE(...)`, Hudi `as.of.instant`, or a `WHERE` that
bounds a date/time/partition column with a literal or a query parameter.

## Why is this bad?
Checkpoint 3 (reproducible training): the table keeps changing after the run. Retraining the "same"
model next week silently uses different rows, and no one can rebuild the training set a deployed
model was fit on, to debug it or to audit it.

## Example
```python
import pandas as pd

if __name__ == "__main__":
    df = pd.read_sql("SELECT * FROM analytics.orders", conn)
    model.fit(df.drop(columns="y"), df["y"])
```

## Use instead
```python
import pandas as pd

if __name__ == "__main__":
    df = pd.read_sql("SELECT * FROM analytics.orders WHERE order_date < %(cutoff)s", conn,
                     params={"cutoff": "2024-06-01"})
    model.fit(df.drop(columns="y"), df["y"])
```

## Known limits
Queries built at run time (f-strings with placeholders, string formatting, variables the analysis
cannot resolve) are not reported. Spark readers configured through chained options
(`spark.read.option("versionAsOf", 3).table(...)`) are not reported. Reads outside training code
(dashboards, serving) are not reported. Nor are tables named for their snapshot
(`churn_snapshot_20240601`) and queries of Spark temp views the same file registers
(`df.createOrReplaceTempView("churn")`): those are in-session views over what the file read.
"""
import re

from mllint.knowledge import canonical
from mllint.rule import ProjectRule, RuleMeta

_QUERY_FUNCS = {"pandas.read_sql": 0, "pandas.read_sql_query": 0, "pandas.read_gbq": 0,
                "pandas_gbq.read_gbq": 0, "polars.read_database": 0, "polars.read_database_uri": 0}
_TABLE_FUNCS = {"pandas.read_sql_table": 0}
_SELECT = re.compile(r"\bselect\b[\s\S]*\bfrom\b", re.I)
_SNAPSHOT = re.compile(r"(for\s+system_time\s+as\s+of|(version|timestamp)\s+as\s+of|for\s+(version|timestamp)\s+as\s+of|"
                       r"versionasof|timestampasof|snapshot[-_]id|as-of-timestamp|as\.of\.instant|"
                       r"\b(at|before)\s*\(\s*(timestamp|offset|statement)\s*=>|@v\d+|@\d{8,})", re.I)
_TIME_COL = r"[\w.\"`\[\]]*(date|time|ts|day|dt|month|year|week|period|partition|created|updated|modified|snapshot|" \
            r"version|epoch|ds|loaded|ingest)[\w\"`\]]*"
_BOUND = re.compile(r"\bwhere\b[\s\S]*" + r"(" + _TIME_COL + r"\s*(<=|>=|<|>|=|\bbetween\b|\bin\b))", re.I)
_BOUND_REV = re.compile(r"\bwhere\b[\s\S]*(<=|>=|<|>|=)\s*" + _TIME_COL, re.I)
_SPARK_RECEIVERS = ("spark", "spark.read", "self.spark", "self.spark.read", "sqlContext", "sqlContext.read",
                    "sql_context", "session", "spark_session", "ss")


_FROM = re.compile(r"\b(?:from|join)\s+([\w.`\"\[\]-]+)", re.I)
# a table named for its snapshot: ``churn_training_snapshot_20240601``, ``features_2024_06_01``
_DATED = re.compile(r"snapshot|(^|[^0-9])(\d{8}|\d{4}[-_]\d{2}[-_]\d{2})([^0-9]|$)", re.I)
_VIEW_METHODS = ("createOrReplaceTempView", "createTempView", "registerTempTable", "createOrReplaceGlobalTempView",
                 "createGlobalTempView")


def _temp_views(project) -> dict:
    """path -> names of the Spark temp views its code registers (``df.createOrReplaceTempView("x")``):
    in-session views over frames the file reads, not warehouse tables."""
    out: dict = {}
    for path, call in project.all_calls():
        if call.attr in _VIEW_METHODS and call.args:
            v = project.const_value(path, call.scope, call.args[0])
            if v.kind == "const" and isinstance(v.value, str):
                out.setdefault(path, set()).add(v.value.lower())
                out[path].add("global_temp." + v.value.lower())
    return out


def query_is_pinned(sql: str) -> bool:
    return bool(_SNAPSHOT.search(sql) or _BOUND.search(sql) or _BOUND_REV.search(sql))


class MutableTableRead(ProjectRule):
    meta = RuleMeta(code="ML0307", level="note", precision="high", profile="poc",
                    tags=("reproducibility", "data-versioning"), fix="none")

    def check_project(self, project):
        views = _temp_views(project)
        for path, call in project.all_calls():
            if project.is_test_path(path) or not project.is_training(path, call.scope):
                continue
            kind, pos = self._classify(call)
            if kind is None:
                continue
            v = call.arg(pos, "sql" if kind == "query" else "table_name")
            if v is None:
                continue
            v = project.const_value(path, call.scope, v)
            if v.kind != "const" or not isinstance(v.value, str):
                continue  # unresolvable: stay silent
            text = v.value.strip()
            if kind == "query" and re.fullmatch(r"[A-Za-z_][\w.]*", text):
                kind = "table"  # ``pd.read_sql("orders", con)`` reads the whole table
            if kind == "query":
                if not _SELECT.search(text) or query_is_pinned(text):
                    continue
                tables = {t.strip('`"[]').lower() for t in _FROM.findall(text)}
                if tables and all(t in views.get(path, ()) or _DATED.search(t) for t in tables):
                    continue  # temp views over data read in this file, or dated snapshot tables
                what = "a live table query"
            else:
                if not re.fullmatch(r"[\w.`\"\[\]-]+", text) or "@" in text:
                    continue  # a path, or a Delta time-travel spec like table@v3
                if text.strip('`"[]').lower() in views.get(path, ()) or _DATED.search(text):
                    continue
                what = f"the live table `{text}`"
            yield self.finding(path, call.span(),
                               f"training reads {what} with no snapshot or time bound; the rows change after this "
                               f"run, so the training set cannot be rebuilt. Pin it (`FOR SYSTEM_TIME AS OF`, "
                               f"`versionAsOf`, a bounded date `WHERE`) or read a versioned export")

    @staticmethod
    def _classify(call):
        q = canonical(call.qualname)
        if q in _QUERY_FUNCS:
            return "query", _QUERY_FUNCS[q]
        if q in _TABLE_FUNCS:
            return "table", _TABLE_FUNCS[q]
        attr = call.attr
        recv = call.receiver or ""
        rt = canonical(call.receiver_type)
        if attr in ("sql", "table") and (recv in _SPARK_RECEIVERS or rt.startswith(("pyspark.sql",
                                                                                    "snowflake.snowpark"))):
            return ("query" if attr == "sql" else "table"), 0
        if attr == "query" and rt.startswith("google.cloud.bigquery"):
            return "query", 0
        if attr == "execute" and rt.startswith("snowflake.connector"):
            return "query", 0
        return None, 0
