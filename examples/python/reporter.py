"""A custom reporter as one DuckDB query over Parquet snapshots: the unemployment rate of
25-34-year-olds by estate and year, from the agents themselves (what Mesa's DataCollector
or a NetLogo reporter would compute inside the model).

    python examples/python/reporter.py
"""

import duckdb

from shrinkcity_py import run, scratch

out = run(scratch("reporter") / "run", scale=0.02, end_year=2025, snapshots="all")

UNEMPLOYMENT_25_34 = """
SELECT year, estate_id,
       count(*) FILTER (status = 'unemployed') AS unemployed,
       count(*) FILTER (status IN ('employed', 'unemployed')) AS labour_force,
       unemployed / nullif(labour_force, 0) AS unemployment_rate
FROM (
    SELECT CAST(regexp_extract(filename, 'agents_(\\d+)', 1) AS INTEGER) AS year, *
    FROM read_parquet($files, filename = true)
)
WHERE age BETWEEN 25 AND 34 AND estate_id IS NOT NULL
GROUP BY year, estate_id
ORDER BY year, estate_id
"""

table = duckdb.execute(UNEMPLOYMENT_25_34, {"files": f"{out}/agents/agents_*.parquet"}).df()
print(table.head(10).to_string(index=False))
assert set(table["year"]) == set(range(2015, 2026)), sorted(set(table["year"]))
assert (table["unemployed"] <= table["labour_force"]).all()

# The city-wide rate of the same age group, for comparison with the estates.
city = table.groupby("year")[["unemployed", "labour_force"]].sum()
print((city["unemployed"] / city["labour_force"]).round(3).to_string())
print("reporter: ok")
