"""A Sobol sensitivity analysis with SALib that drives the shrinkcity binary: Saltelli's
sample of two parameters, one small run per sample point, first-order and total indices
of the population in the end year.

    python examples/python/sobol.py [N]      # N base samples (default 8: 32 runs)

At this tiny scale the indices carry the model's noise; for a study, raise --scale, N and
the replicates (the same seeds at every point keep the noise common).
"""

import sys

import pandas as pd
from SALib.analyze import sobol
from SALib.sample import sobol as sample

from shrinkcity_py import run, scratch

problem = {
    "num_vars": 2,
    "names": ["migration.climate_weight", "migration.intercept"],
    "bounds": [[0.6, 1.8], [-2.0, -1.3]],
}
n = int(sys.argv[1]) if len(sys.argv) > 1 else 8
points = sample.sample(problem, n, calc_second_order=False, seed=1)

tmp = scratch("sobol")
population = []
for i, x in enumerate(points):
    sets = [f"{k}={v:.6g}" for k, v in zip(problem["names"], x)]
    out = run(tmp / str(i), scale=0.005, end_year=2022, seed=7, sets=sets)
    summary = pd.read_parquet(out / "summary.parquet", columns=["year", "population"])
    population.append(float(summary["population"].iloc[-1]))

indices = sobol.analyze(problem, pd.Series(population).to_numpy(), calc_second_order=False, seed=1)
print(f"{len(points)} runs; population in 2022")
total, first = indices.to_df()
print(first.join(total).round(3).to_string())
assert len(indices["ST"]) == 2
print("sobol: ok")
