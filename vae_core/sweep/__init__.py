"""Sweeps: many trainings over a grid, a random sample or a Bayesian search, on one machine or on Ray.

    plan = make_plan(data, "mnist", {"beta": parse_values("beta", "0.5,1,4"), ...})
    outcome = run(plan, ProcessEngine(*plan_workers(None, 6)), "sweeps/a")

See search.run for resume, engines for where trials run, results for OUT/results.csv.
"""
from .engines import InlineEngine, ProcessEngine, RayEngine, cpu_cores, plan_workers
from .results import best, read
from .search import Outcome, Plan, Progress, make_plan, run
from .space import PARAMS, SEARCHES, Choice, Range, SweepError, grid, grid_size, normalize, parse_values, sample
from .trial import FIELDS, TrialOutcome, TrialTask

__all__ = ["FIELDS", "PARAMS", "SEARCHES", "Choice", "InlineEngine", "Outcome", "Plan", "ProcessEngine", "Progress",
           "Range", "RayEngine", "SweepError", "TrialOutcome", "TrialTask", "best", "cpu_cores", "grid", "grid_size",
           "make_plan", "normalize", "parse_values", "plan_workers", "read", "run", "sample"]
