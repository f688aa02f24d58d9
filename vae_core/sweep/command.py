"""`vae-explorer sweep`: the flags and the command (vae_core.cli adds them to its parser)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..config import TrainConfig
from .space import PARAMS, SEARCHES

SWEEP_EPOCHS = 5  # a sweep multiplies every epoch by its trials: a short default
EXIT_INTERRUPTED = 130

EPILOG = """\
lists and ranges: --beta 0.5,1,4 runs each value; --lr 1e-4:1e-2 is a range sampled log-uniformly
(--search random or bayes only); --hidden takes options separated by spaces, layers by commas: --hidden 64 128,64.
A setting not given keeps the train command's default for the data (e.g. mlp, bce and latent size 16 for images).

resume: every finished trial is a row of OUT/results.csv (and a run folder OUT/trials/<id>/, which the
evaluate command and the dashboard's Runs page open). Ctrl-C keeps them; the same command again skips them.

examples:
  vae-explorer sweep --data mnist --beta 0.5,1,2,4 --latent-dim 2,8,16 --loss bce,mse --epochs 5 --out sweeps/a
  vae-explorer sweep --data mnist --search random --trials 20 --lr 1e-4:1e-2 --beta 0.25:8 --out sweeps/r
  vae-explorer sweep --data mnist --search bayes --trials 30 --beta 0.1:16 --latent-dim 2:32 --out sweeps/b
  vae-explorer sweep --data mnist --beta 1,4 --ray-address auto --out sweeps/c
"""


def add_parser(sub, add_data_flags) -> argparse.ArgumentParser:
    """Add the `sweep` subcommand to the CLI's subparsers."""
    d = TrainConfig()
    s = sub.add_parser("sweep", help="train many models over a grid, a random sample or a Bayesian search",
                       description="Train one model per setting and tabulate test neg. ELBO, KL, active units and "
                                   "collapse. Lists (a,b,c) are crossed in a grid; ranges (LOW:HIGH) are sampled.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_flags(s, required=True)
    v = s.add_argument_group("what to vary (a value, a comma list, or LOW:HIGH where noted)")
    for p in PARAMS.values():
        default = SWEEP_EPOCHS if p.name == "epochs" else p.default_text()
        if p.type is tuple:
            v.add_argument(p.flag, dest=p.name, nargs="+", default=None, metavar="SIZES",
                           help=f"{p.help} Options separated by spaces: 64 128,64 (default: {default})")
        else:
            choices = f" From {','.join(p.choices)}." if p.choices else ""
            ranged = "; range allowed" if p.sweep == "range" else ""
            v.add_argument(p.flag, dest=p.name, default=None, help=f"{p.help}{choices} (default: {default}{ranged})")
    h = s.add_argument_group("search and engine")
    h.add_argument("--search", choices=SEARCHES, default="grid",
                   help="grid: every combination; random: --trials settings drawn from the lists and ranges; "
                        "bayes: --trials settings proposed by Optuna's TPE, minimising test neg. ELBO (default: grid)")
    h.add_argument("--trials", type=int, default=None,
                   help="random and bayes: how many trials (default: none, required there)")
    h.add_argument("--seed", type=int, default=d.seed,
                   help="training seed of every trial (same start, so differences come from the settings) and seed "
                        f"of the random and Bayesian samplers (default: {d.seed})")
    h.add_argument("--workers", type=int, default=None,
                   help="trials at once (default: local: cores / --threads, at most one per trial; Ray: the cluster's "
                        "CPUs / --threads)")
    h.add_argument("--threads", type=int, default=None,
                   help=f"torch threads per trial (default: {d.threads}, as `train`). The same settings, seed and "
                        "threads give the same weights as `train` and on either engine")
    h.add_argument("--ray-address", default=None, metavar="auto|HOST:PORT",
                   help="run the trials on a Ray cluster instead of local processes; needs "
                        "pip install 'vae-explorer[ray]' and vae-explorer on every node (default: none, local pool)")
    h.add_argument("--storage", default=None, metavar="URL",
                   help="bayes: Optuna storage for a study shared by several sweep processes, e.g. "
                        "postgresql://host/db (default: sqlite OUT/study.db)")
    h.add_argument("--device", default=d.device, help=f"auto, cpu, cuda or cuda:N (default: {d.device})")
    h.add_argument("--eval-k", dest="eval_k", type=int, default=64,
                   help="importance samples of each trial's test IWAE NLL estimate (images; 0 = skip) (default: 64)")
    o = s.add_argument_group("output")
    o.add_argument("--out", default=None, help="sweep folder: results.csv, trials/<id>/, study.db "
                                               "(default: sweeps/<data name>)")
    o.add_argument("--mlflow", default=None, metavar="URI",
                   help="also log each finished trial to MLflow at this tracking URI, as one MLflow run with the "
                        "trial's settings, per-epoch metrics, summary and run folder (needs pip install "
                        "'vae-explorer[mlflow]') (default: off)")
    o.add_argument("--json", action="store_true",
                   help="print the outcome as one JSON object on the last stdout line (default: off)")
    o.add_argument("--quiet", action="store_true", help="no progress bar (default: off)")
    return s


def _progress_bar(total: int, initial: int, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, file=sys.stderr, disable=quiet, unit="trial", desc="sweep",
                dynamic_ncols=True, mininterval=0.2)


def _best_text(row: dict | None) -> str:
    if row is None:
        return "-"
    return f"{row['test_neg_elbo']:.2f} ({row['trial']})"


def run(args: argparse.Namespace, sensor_options) -> int:
    """The `sweep` command: returns the exit code (0 done, 1 every trial failed, 130 interrupted)."""
    from .. import rate_distortion
    from ..data import load
    from . import engines, results, search
    from .space import parse_values

    sensor = sensor_options(args, args.data)
    space = {name: parse_values(name, getattr(args, name)) for name in PARAMS if getattr(args, name) is not None}
    fixed = {}
    if "epochs" not in space:
        fixed["epochs"] = SWEEP_EPOCHS
    if args.workers is not None and args.workers < 1:
        raise search.SweepError(f"--workers must be 1 or more, not {args.workers}")
    if args.threads is not None and args.threads < 1:
        raise search.SweepError(f"--threads must be 1 or more, not {args.threads}")
    if args.storage and args.search != "bayes":
        raise search.SweepError("--storage is for --search bayes (it holds the Optuna study)")
    if args.eval_k < 0:
        raise search.SweepError(f"--eval-k must be 0 or more, not {args.eval_k}")
    if args.mlflow:
        from .. import tracking

        tracking.check(args.mlflow)  # before any trial runs
    data = load(args.data, sensor)
    plan = search.make_plan(data, args.data, space, search=args.search, trials=args.trials, seed=args.seed,
                            fixed=fixed, sensor=sensor, iwae_k=args.eval_k, storage=args.storage, device=args.device)
    out = Path(args.out) if args.out else Path("sweeps") / Path(args.data).stem
    planned = plan.trials or len(plan.settings())
    if args.ray_address:
        engine = engines.RayEngine(args.ray_address, args.workers, args.threads or 1)
    else:
        workers, threads = engines.plan_workers(args.workers, planned, args.threads or TrainConfig().threads)
        engine = engines.ProcessEngine(workers, threads)
    where = f"Ray ({engine.slots} at once)" if args.ray_address else \
        f"{engine.slots} local process{'es' if engine.slots > 1 else ''} x " \
        f"{engine.threads} thread{'s' if engine.threads > 1 else ''}"
    bar = None

    def progress(p: search.Progress) -> None:
        nonlocal bar
        if bar is None:  # the first call comes once the sweep folder and its storage are open
            print(f"sweep: {args.search}, {planned} trials on {args.data}, {where}; results in {out}/results.csv",
                  file=sys.stderr)
            bar = _progress_bar(p.total, p.done, args.quiet or args.json)
            if p.done:
                bar.write(f"resuming: {p.done} trials already done, skipped", file=sys.stderr)
        else:
            bar.update(1)
        bar.set_postfix_str(f"best neg. ELBO {_best_text(p.best)}")
        if args.mlflow and p.row is not None and (out / "trials" / p.row["trial"] / "config.json").exists():
            _log_trial(args.mlflow, out, p.row, bar)

    started = time.time()
    try:
        outcome = search.run(plan, engine, out, on_progress=progress)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        kept = len([r for r in results.read(out) if results.is_done(r)])
        print(f"\ninterrupted: {kept} finished trials are kept in {out}/results.csv; run the same command again "
              "to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if bar is not None:
            bar.close()
    failed = [r for r in outcome.new if r["status"] == "failed"]
    if args.json:
        print(json.dumps(json.loads(_json(outcome, out, failed, time.time() - started)), separators=(",", ":")))
    else:
        print(results.table(outcome.rows + failed, plan.varied or list(plan.space)))
        print(f"{len(outcome.new)} trials run, {outcome.skipped} skipped (already done), {len(failed)} failed; "
              f"{time.time() - started:.0f} s")
        bests = results.best_per_loss(outcome.rows)
        for loss, best in bests.items():
            print(f"best{f' with {loss}' if len(bests) > 1 else ''}: trial {best['trial']}, test neg. ELBO "
                  f"{best['test_neg_elbo']:.2f} nats; "
                  f"open it with: vae-explorer evaluate {out / 'trials' / best['trial']}")
        if len(bests) > 1:
            print("note: neg. ELBOs under different losses are different likelihoods; compare within one loss")
        for curve in rate_distortion.curves(outcome.rows, plan.varied or list(plan.space)):
            print(rate_distortion.table(curve))
        if outcome.note:
            print(f"note: {outcome.note}")
        print(f"results: {out / results.RESULTS}")
    for row in failed[:3]:
        print(f"warning: trial {row['trial']} failed: {row['message']}", file=sys.stderr)
    return 1 if outcome.new and len(failed) == len(outcome.new) else 0


def _log_trial(uri: str, out: Path, row: dict, bar) -> None:
    """Log one finished trial's run folder to MLflow from the driver (workers never talk to the server)."""
    from .. import tracking

    try:
        tracking.log_run(uri, out / "trials" / row["trial"], run_name=f"{out.name}/{row['trial']}",
                         tags={"vae_explorer.sweep": str(out.resolve()), "vae_explorer.trial_key": row["key"]})
    except tracking.TrackingError as exc:  # the trial is saved; say so once per trial and go on
        bar.write(f"warning: {exc}", file=sys.stderr)


def _json(outcome, out: Path, failed: list, seconds: float) -> str:
    from ..checkpoint import to_json

    return to_json({"out": str(out), "results": str(out / "results.csv"), "total": outcome.total,
                    "run": len(outcome.new), "skipped": outcome.skipped, "failed": len(failed),
                    "seconds": round(seconds, 3), "best": outcome.best, "rows": outcome.rows + failed,
                    "note": outcome.note, "study": outcome.study})
