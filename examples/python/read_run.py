"""Reading a run in pandas, polars and DuckDB, from Parquet and from CSV.

Writes one small run in each format (agent snapshots every 5 years) and reads its
summary and one year of agents with each library; checks that both formats hold the
same numbers, and that pandas reads the CSV snapshot without a DtypeWarning.

    python examples/python/read_run.py
"""

import warnings

import duckdb
import pandas as pd
import polars as pl

from shrinkcity_py import run, scratch

tmp = scratch("read")
pq = run(tmp / "parquet", fmt="parquet", snapshots="every:5")
csv = run(tmp / "csv", fmt="csv", snapshots="every:5")

# pandas: Parquet through pyarrow (typed columns; words come back as categories).
summary = pd.read_parquet(pq / "summary.parquet")
agents = pd.read_parquet(pq / "agents" / "agents_2020.parquet")
print(summary[["year", "population", "unemployment_rate", "price_per_m2"]].tail(3).to_string(index=False))
print(agents.dtypes.to_string())

# pandas: the CSV, with every warning an error (a DtypeWarning would fail here).
with warnings.catch_warnings():
    warnings.simplefilter("error")
    agents_csv = pd.read_csv(csv / "agents" / "agents_2020.csv")
    summary_csv = pd.read_csv(csv / "summary.csv")

# Same content: the words compare as text, missing dwellings as NaN on both sides.
pd.testing.assert_frame_equal(summary, summary_csv, check_dtype=False)
as_text = agents.astype({c: str for c in ["sex", "role", "status", "sector"]})
pd.testing.assert_frame_equal(as_text, agents_csv, check_dtype=False)

# polars: lazily, only the columns a question needs.
employed = (
    pl.scan_parquet(pq / "agents" / "*.parquet", include_file_paths="file")
    .filter(pl.col("status") == "employed")
    .group_by("sector")
    .agg(pl.len().alias("agents"), pl.col("income").mean().alias("mean_income"))
    .sort("sector")
    .collect()
)
print(employed)
assert employed.height == 6, employed

# DuckDB: SQL straight over the files.
households = duckdb.sql(
    f"""
    SELECT count(DISTINCT household_id) AS households, avg(age) AS mean_age
    FROM read_parquet('{pq}/agents/agents_2020.parquet')
    """
).fetchall()[0]
print("2020: households", households[0], "mean age", round(households[1], 1))
assert households[0] > 0

print("read_run: ok")
