"""shrinkcity as an EMA Workbench model: uncertainties and a policy lever in, outcomes out.

Every experiment is one small shrinkcity run; the workbench crosses scenarios (draws of
the uncertainties) with policies (values of the lever) and collects the outcomes.

    python examples/python/ema_model.py [SCENARIOS] [POLICIES]     # default 4 × 2
"""

import sys
import warnings

import pandas as pd

# The workbench warns on import that its optional cluster evaluator is not installed.
warnings.filterwarnings("ignore", message="ipyparallel not installed")
from ema_workbench import (  # noqa: E402
    Model,
    RealParameter,
    ScalarOutcome,
    SequentialEvaluator,
    perform_experiments,
)

from shrinkcity_py import run, scratch

tmp = scratch("ema")
count = iter(range(10**9))


def shrinkcity(climate_weight=1.2, intercept=-1.634, high_tech_jobs=0.0):
    """One run: the workbench calls this with one value per uncertainty and lever."""
    sets = [
        f"migration.climate_weight={climate_weight:.6g}",
        f"migration.intercept={intercept:.6g}",
        # A time-series lever: this many extra high-tech jobs from 2015 on.
        f"policy.high_tech_jobs=[[2015, {high_tech_jobs:.0f}]]",
    ]
    out = run(tmp / str(next(count)), scale=0.005, end_year=2022, seed=3, sets=sets)
    last = pd.read_parquet(out / "summary.parquet").iloc[-1]
    return {
        "population": float(last["population"]),
        "vacancy_rate": float(last["vacancy_rate"]),
        "unemployment_rate": float(last["unemployment_rate"]),
    }


model = Model("shrinkcity", function=shrinkcity)
model.uncertainties = [
    RealParameter("climate_weight", 0.6, 1.8),
    RealParameter("intercept", -2.0, -1.3),
]
model.levers = [RealParameter("high_tech_jobs", 0, 20000)]
model.outcomes = [
    ScalarOutcome("population"),
    ScalarOutcome("vacancy_rate"),
    ScalarOutcome("unemployment_rate"),
]

scenarios = int(sys.argv[1]) if len(sys.argv) > 1 else 4
policies = int(sys.argv[2]) if len(sys.argv) > 2 else 2
with SequentialEvaluator(model) as evaluator:
    experiments, outcomes = perform_experiments(
        model, scenarios=scenarios, policies=policies, evaluator=evaluator
    )
table = experiments[["climate_weight", "intercept", "high_tech_jobs"]].assign(**outcomes)
print(table.round(4).to_string(index=False))
assert len(table) == scenarios * policies
assert (table["population"] > 0).all()
print("ema_model: ok")
