"""`vae-explorer train | evaluate | datasets | sweep | ui`: the engine from a terminal, for scripts and scale.

Bad flags and bad files exit with code 2 and one line on stderr starting `error:`; a diverged run
exits 1 after saving its last good weights.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

from . import checks, export_command
from .analysis import likelihood_note
from .anomaly.scoring import ThresholdRule
from .checkpoint import FILES, CheckpointError, load_run, to_json
from .config import LIVE, SETTINGS, ConfigError, configs_for
from .dataset import DataError
from .formats.sensor_options import SensorOptions
from .settings import collect, parse_sizes
from .store import RunStore, StoreError, default_runs_dir
from .sweep import command as sweep_command
from .tracking import TrackingError
from .training import Change, check_change

SENSOR_SETTINGS = collect(SensorOptions)
RULE_SETTINGS = collect(ThresholdRule)
EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 1


class OutputError(Exception):
    """--out names a place where a run cannot be written; the message says which and why."""


def check_out_folder(out: Path) -> None:
    """Refuse, before any work, an --out that cannot take a run: a file, a folder of other files, no write access."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot write {out}: it is a file, not a folder; give a new folder for the run")
    folder = out
    while not folder.exists():  # the nearest existing folder: where `out` would be created
        folder = folder.parent
    try:
        if not folder.is_dir():
            raise OutputError(f"cannot write {out}: {folder} is a file, not a folder")
        others = sorted(p.name for p in out.iterdir() if p.name not in FILES) if out.is_dir() else []
        if others:
            listed = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise OutputError(f"cannot write {out}: the folder holds other files ({listed}); give a new or empty "
                              "folder, or a run folder to replace")
        with tempfile.TemporaryFile(dir=folder):  # the one sure test of write access (root, read-only mounts)
            pass
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror}") from None


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one `error:` line (exit 2) instead of usage + error."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see '{self.prog} --help')\n")
        sys.exit(EXIT_BAD_INPUT)


def _add_data_flags(p: argparse.ArgumentParser, required: bool) -> None:
    from .data import BUNDLED

    p.add_argument("--data", required=required, metavar="NAME|PATH",
                   help=f"a bundled data set ({', '.join(BUNDLED)}) or a file: MNIST IDX images (labels found beside "
                        "it), image CSV (label + pixels), NPZ, zip of PNG/JPEG in label folders, or a sensor recording "
                        "(CSV or .xlsx)")
    g = p.add_argument_group("sensor recordings (CSV or .xlsx)")
    for s in SENSOR_SETTINGS.values():
        if s.type is bool:  # exclude_anomalies: on by default, so the flag turns it off
            g.add_argument("--keep-anomalies", dest=s.name, action="store_const", const=False, default=None,
                           help="Keep training and validation windows that overlap a labelled anomaly (default: "
                                "they are left out, so the model learns normal behaviour only).")
            continue
        g.add_argument(s.flag, dest=s.name, type=_reader(s), default=None, choices=s.choices or None,
                       metavar=s.metavar or None, help=f"{s.help} (default: {s.default_text()})")


def _add_label_names_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label-names", default=None, metavar="NAMES",
                   help="names of the class labels 0, 1, 2, ... in order, comma separated (e.g. "
                        "'T-shirt,Trouser,Pullover,...' for Fashion-MNIST), so legends and reports say them instead of "
                        "numbers (default: the file's own names, or the numbers)")


def _add_anomaly_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("anomaly scoring (labelled sensor recordings: the whole recording, every step)")
    for s in RULE_SETTINGS.values():
        g.add_argument(s.flag, dest=s.name, type=_reader(s), default=None, choices=s.choices or None,
                       help=f"{s.help} (default: {s.default_text()})")
    g.add_argument("--score-stride", type=int, default=1, metavar="N",
                   help="score windows every N steps (1: every step is covered by every window holding it) "
                        "(default: 1)")
    g.add_argument("--scores", type=Path, default=None, metavar="FILE.csv",
                   help="write one row per time step: time, part, total score, one score per channel, label, alarm")
    g.add_argument("--no-baselines", action="store_true",
                   help="skip the baselines (random, rolling z-score, PCA, Isolation Forest) the VAE is compared with")


def _reader(s):
    """argparse type for a declared setting: its own reader, its message as argparse's."""
    def read(text: str):
        try:
            return s.parse(text)
        except (ConfigError, DataError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    read.__name__ = s.name
    return read


def _add_setting_flags(group, target: str) -> None:
    """One flag per declared setting of `target` ('model' | 'train'), its help and default from the declaration.

    Types are read here; ranges are checked when the configs are built, with the declaration's message.
    """
    for s in SETTINGS.values():
        if s.target == target and s.cli and s.type is bool:  # a switch: the flag turns it on
            group.add_argument(s.flag, dest=s.name, action="store_const", const=True, default=None,
                               help=f"{s.help} (default: {s.default_text()})")
        elif s.target == target and s.cli:
            kind = _reader(s) if s.items else _SIZES if s.type is tuple else s.type
            group.add_argument(s.flag, dest=s.name, type=kind, default=None, choices=s.choices or None,
                               metavar=s.metavar or ("SIZES" if s.type is tuple else None),
                               help=f"{s.help} (default: {s.default_text()})")


def _sizes(text: str) -> tuple[int, ...]:
    sizes = parse_sizes(text)
    if sizes is None:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, like 400 or 32,64, not {text!r}")
    return sizes


_SIZES = _sizes


def _change(text: str) -> Change:
    try:
        step, rest = text.split(":", 1)
        name, value = rest.split("=", 1)
        return Change(int(step), name.strip().replace("-", "_"), check_change(name.strip().replace("-", "_"),
                                                                               float(value)))
    except (ValueError, ConfigError) as exc:
        raise argparse.ArgumentTypeError(f"expected STEP:NAME=VALUE like 300:beta=8, not {text!r} ({exc})") from None


def given_settings(args: argparse.Namespace) -> dict:
    """The settings given on the command line (None: not given)."""
    return {name: getattr(args, name) for name in SETTINGS if getattr(args, name, None) is not None}


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser (every flag documents its default)."""
    parser = _Parser(prog="vae-explorer", description="Train, evaluate and explore variational autoencoders.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train a VAE headless and save the run folder",
                       description="Train a VAE and save the run folder. Every setting not given takes the "
                                   "recommended value for the data (images or sensor windows).")
    _add_data_flags(t, required=True)
    _add_label_names_flag(t)
    _add_anomaly_flags(t)
    _add_setting_flags(t.add_argument_group("model"), "model")
    o = t.add_argument_group("objective, optimiser and randomness")
    _add_setting_flags(o, "train")
    o.add_argument("--change", action="append", default=[], type=_change, metavar="STEP:NAME=VALUE",
                   help=f"change a live setting ({', '.join(LIVE)}) from optimiser step STEP on, as a teacher can "
                        "while a run trains in the dashboard, e.g. --change 300:beta=8 --change 600:beta=1 "
                        "(repeatable)")
    r = t.add_argument_group("output")
    add_runs_dir_flag(r)
    r.add_argument("--out", default=None, help="write the run to this plain folder instead of the run store "
                                               "(default: a new folder in --runs-dir)")
    r.add_argument("--resume", default=None, metavar="RUN",
                   help="continue a saved run (an id or unique id prefix from 'vae-explorer runs', or a folder) "
                        "from where it stopped or was interrupted, with its optimiser and generator states: up to the "
                        "epochs it was started with, or --epochs N more (other setting flags are refused). A run of "
                        "the store continues in its own folder")
    r.add_argument("--mlflow", default=None, metavar="URI",
                   help="also log the run to MLflow at this tracking URI: settings, per-epoch metrics, summary and "
                        "the run folder (needs pip install 'vae-explorer[mlflow]')")
    add_eval_k_flag(r)
    r.add_argument("--json", action="store_true", help="print the summary as one JSON object on the last stdout line")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="re-evaluate a saved run on held-out data",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    e.add_argument("run_dir", metavar="RUN", help="a run's id (or unique id prefix) from 'vae-explorer runs', or a "
                                                  "run folder (or a run zip)")
    add_runs_dir_flag(e)
    _add_data_flags(e, required=False)
    _add_label_names_flag(e)
    _add_anomaly_flags(e)
    e.add_argument("--part", choices=("test", "val", "train", "all"), default="test", help="which part of the data")
    add_eval_k_flag(e, "--iwae-k")  # evaluate has no training settings: the old name still works here
    e.add_argument("--json", action="store_true", help="print the result as one JSON object on the last stdout line")

    sub.add_parser("datasets", help="list the bundled data sets")

    g = sub.add_parser("sample", help="draw new samples from a saved run (a chosen class from a conditional run)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    g.add_argument("run_dir", metavar="RUN", help="a run's id (or unique id prefix) from 'vae-explorer runs', or a "
                                                  "run folder (or a run zip)")
    add_runs_dir_flag(g)
    g.add_argument("--label", default=None, help="the class to draw (a label name or number; conditional runs only; "
                                                 "without it, a run draws from its prior)")
    g.add_argument("--n", type=int, default=64, help="how many samples")
    g.add_argument("--seed", type=int, default=0, help="seed of the codes drawn from the prior")
    g.add_argument("--out", type=Path, required=True, metavar="FILE.npz",
                   help="where to write them: key x, (n, H, W) images in [0, 1] or (n, T, C) windows in the "
                        "recording's units; key y, the class of each (conditional runs)")

    ls = sub.add_parser("runs", help="list the runs in the run store")
    add_runs_dir_flag(ls)
    ls.add_argument("--json", action="store_true", help="print the runs as one JSON list on the last stdout line")

    sweep_command.add_parser(sub, _add_data_flags)
    _add_label_names_flag(export_command.add_parser(sub, _add_data_flags, add_runs_dir_flag))

    u = sub.add_parser("ui", help="start the dashboard", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    u.add_argument("--host", default=os.environ.get("VAE_EXPLORER_HOST", "127.0.0.1"), help="address to listen on")
    u.add_argument("--port", type=int, default=int(os.environ.get("VAE_EXPLORER_PORT", "8501")),
                   help="port to listen on")
    add_runs_dir_flag(u)
    u.add_argument("--shared", action="store_true",
                   help="a server for several people: each browser sees only its own runs, under a workspace code "
                        "(implied by a --host other than loopback)")
    u.add_argument("--quota-mb", type=float, default=float(os.environ.get("VAE_EXPLORER_QUOTA_MB") or 500),
                   help="shared servers: disk each workspace's runs may take, in MB")
    u.add_argument("--mlflow", default=os.environ.get("VAE_EXPLORER_MLFLOW"), metavar="URI",
                   help="also log every run trained or added in the dashboard to MLflow at this tracking URI")
    return parser


def add_eval_k_flag(group, *aliases: str) -> None:
    """--eval-k: importance samples of the test IWAE NLL estimate (not the IWAE objective's k, --iwae-k)."""
    group.add_argument("--eval-k", *aliases, dest="eval_k", type=int, default=64,
                       help="importance samples of the test IWAE NLL estimate (images; 0 = skip) (default: 64)")


def add_runs_dir_flag(group) -> None:
    """--runs-dir: the run store's folder (default $VAE_EXPLORER_RUNS_DIR, else runs/)."""
    group.add_argument("--runs-dir", type=Path, default=default_runs_dir(), metavar="DIR",
                       help="the run store, a folder of run folders shared with the dashboard "
                            "(default: %(default)s; $VAE_EXPLORER_RUNS_DIR sets it)")


def _sensor_options(args: argparse.Namespace, source: str, saved: dict | None = None):
    """Sensor flags given on the command line, on top of the saved run's or the bundled set's own."""
    from .data import SensorOptions, bundled_sensor_options

    given = {k: getattr(args, k) for k in SENSOR_SETTINGS if getattr(args, k, None) is not None}
    if saved:
        known = {k: v for k, v in saved.items() if k in SENSOR_SETTINGS}  # a run saved by an older version
        return SensorOptions(**{**known, **given})
    base = bundled_sensor_options(source)
    if base is not None:
        return replace(base, **given)
    return SensorOptions(**given) if given else None


def _progress_bar(total: int, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, disable=quiet, unit="step", mininterval=0.5, dynamic_ncols=True)


def _print_summary(summary: dict, out: Path | None) -> None:
    if out:
        print(f"saved {out}/ (config.json, model.safetensors, metrics.csv, summary.json)")
    line = (f"test neg. ELBO {summary['test_neg_elbo']:.2f} nats/sample "
            f"(recon {summary['recon']:.2f} + KL {summary['kl']:.2f})")
    if summary.get("iwae_nll") is not None:
        line += f"; IWAE NLL {summary['iwae_nll']:.2f} ({likelihood_note(summary)})"
    print(line)
    print(f"{summary['verdict']}: {summary['collapse_reason']}")
    if summary.get("anomaly_auc") is not None:
        print(f"anomaly detection, test windows: ROC-AUC {summary['anomaly_auc']:.3f}, average precision "
              f"{summary['anomaly_ap']:.3f}")
    if summary.get("anomaly_events_total") is not None:
        print(anomaly_lines(summary))
    if summary.get("seconds") is not None and summary.get("samples_per_second"):
        print(f"{summary['epochs']} epochs in {summary['seconds']:.1f} s "
              f"({summary['samples_per_second']:,.0f} samples/s)")


def cmd_train(args: argparse.Namespace) -> int:
    from . import tracking
    from .data import load
    from .runs import finish_run, new_run, train_run
    from .store_writer import RunWriter
    from .training import check_compatible

    # before any work: an output that cannot be written would lose the whole run
    store = None if args.out else RunStore(args.runs_dir)
    if store is None:
        check_out_folder(Path(args.out))
    else:
        store.check_writable()
    if args.mlflow:
        tracking.check(args.mlflow)
    sensor = _sensor_options(args, args.data)
    data = load(args.data, sensor, args.label_names)
    given = given_settings(args)
    info = {"source": args.data, "sensor": None if sensor is None else asdict(sensor)}
    if args.resume:
        run = _resumable(args.resume, given, args.runs_dir)
        run.data_info.update(info)
        for change in args.change:  # more planned changes, after where it stopped
            if change.step <= run.state.step:
                raise ConfigError(f"--change {change.step}:{change.name}: the run already took {run.state.step} "
                                  "steps; a change on resume must come after them")
            run.state.changes.append(change)
        # --epochs N trains N more; without it a stopped run goes on to the total it was started with
        if "epochs" in given:
            run.train_cfg = replace(run.train_cfg, epochs=run.state.epoch + given["epochs"])
    else:
        run = new_run(data, *configs_for(data.kind, data.input_shape, given, data.classes), changes=args.change,
                      **info)
    check_compatible(run.model, data, run.train_cfg)  # before a folder is made for it
    failed = checks.problems(data, run.model_cfg, run.train_cfg)
    for check in failed:  # the set-up's problems, each with its fix, before the first step
        print(f"check: {check.problem}. Fix: {check.fix}.", file=sys.stderr)
    writer = RunWriter(Path(args.out), run) if args.out else store.writer(run)
    bar = None
    with writer:
        try:
            for ev in train_run(run, data):
                writer.event(ev)  # a checkpoint at each epoch end
                if bar is None:
                    bar = _progress_bar(ev.total_steps, args.quiet)
                    bar.update(ev.step - 1)
                if ev.kind == "step":
                    bar.update(1)
                    bar.set_postfix(epoch=ev.epoch, loss=f"{ev.loss:.2f}", recon=f"{ev.recon:.2f}", kl=f"{ev.kl:.2f}",
                                    samples_s=f"{ev.samples_per_second:,.0f}", refresh=False)
        except KeyboardInterrupt:
            print("\nstopped: saving what was learned so far", file=sys.stderr)
            writer.stopped()
        finally:
            if bar is not None:
                bar.close()
        summary = finish_run(run, iwae_k=args.eval_k).summary
        _score_recording(args, run.model, data, summary)
        _notes(data, summary)
        summary["run_dir"] = str(writer.folder)
        summary["checks"] = [{"name": c.name, "problem": c.problem, "fix": c.fix} for c in failed]
        writer.finished()
    out = writer.folder
    if args.json:
        print(json.dumps(json.loads(to_json({**summary, "run_id": run.id})), separators=(",", ":")))
    else:
        _print_summary(summary, out)
    if args.mlflow:
        print(f"logged to MLflow at {args.mlflow}: run {tracking.log_run(args.mlflow, out)}", file=sys.stderr)
    if summary["stop_reason"] == "diverged":
        print(f"error: training diverged: {summary['stop_message']} The last good weights were saved to {out}.",
              file=sys.stderr)
        return EXIT_DIVERGED
    return 0


def _load(ref: str, runs_dir: Path):
    """A saved run by path (folder or zip), or by id or unique id prefix in the run store at `runs_dir`."""
    path = Path(ref)
    if path.exists() and path.resolve().parent == runs_dir.resolve():
        return RunStore(runs_dir).load(path.name)  # a store run keeps its id, so it continues in its own folder
    if path.exists() or "/" in ref or os.sep in ref:
        return load_run(path)
    return RunStore(runs_dir).load(ref)


def _resumable(ref: str, given: dict, runs_dir: Path):
    """A saved run to continue; only --epochs (the new total) may change, the rest is the run's own."""
    from .runs import fresh_state

    run = _load(ref, runs_dir)
    others = sorted(set(given) - {"epochs"})
    if others:
        raise ConfigError(f"--resume continues the saved run with its own settings; drop "
                          f"{', '.join(SETTINGS[n].flag for n in others)} (only --epochs, how many more, may be given)")
    if run.state is None:
        print(f"note: {ref} has no state.safetensors (saved by an older version): it continues with a fresh "
              "optimiser and generators, so it will not match a run that never stopped", file=sys.stderr)
        run.state = fresh_state(run)
    return run


def anomaly_lines(summary: dict) -> str:
    """The whole recording's anomaly figures beside the baselines', as a few lines of text."""
    def row(name: str, m: dict) -> str:
        f = {k: "-" if m.get(k) is None else f"{m[k]:.3f}" for k in ("point_auc", "point_ap", "vus_roc", "vus_pr",
                                                                      "event_f1")}
        return (f"  {name:<16} {f['point_auc']:>9} {f['point_ap']:>8} {f['vus_roc']:>8} {f['vus_pr']:>8} "
                f"{f['event_f1']:>9}")
    vae = {k.removeprefix("anomaly_"): v for k, v in summary.items() if k.startswith("anomaly_")}
    lines = [f"anomaly detection, whole recording (every step; threshold: {summary['anomaly_threshold_rule']} = "
             f"{summary['anomaly_threshold']:.3g}): {summary['anomaly_events_detected']} of "
             f"{summary['anomaly_events_total']} labelled events detected",
             f"  {'method':<16} {'point AUC':>9} {'point AP':>8} {'VUS-ROC':>8} {'VUS-PR':>8} {'event F1':>9}",
             row("VAE", vae)]
    lines += [row(name, m) for name, m in (summary.get("anomaly_baselines") or {}).items()]
    return "\n".join(lines)


def _score_recording(args: argparse.Namespace, model, data, summary: dict) -> None:
    """Labelled (or not) sensor recordings: every step scored, the anomaly figures added, the scores file written."""
    from . import anomaly

    if data.kind != "sensor" or data.series is None:
        if args.scores:
            raise DataError("--scores needs a sensor recording (a CSV cut into windows)")
        return
    rule = ThresholdRule(**{k: getattr(args, k) for k in RULE_SETTINGS if getattr(args, k, None) is not None})
    scores = anomaly.score_recording(model, data, args.score_stride)
    baselines = () if args.no_baselines else anomaly.BASELINES
    summary.update(anomaly.anomaly_summary(model, data, rule, args.score_stride, baselines, scores=scores))
    if args.scores:
        threshold = rule.threshold(scores.validation())
        anomaly.scores_frame(scores, threshold, rule, data.series_time).to_csv(args.scores, index=False)
        print(f"wrote {args.scores}: one row per time step ({len(scores.total):,} steps)", file=sys.stderr)


def _notes(data, summary: dict) -> None:
    """What the loader did with the file: on stderr, and in the JSON summary."""
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    summary["data_notes"] = list(data.notes)


def _run_data(args: argparse.Namespace, run):
    """The data a saved run was trained on (its recorded source and sensor options), or --data; checked to fit."""
    from .data import load
    from .training import check_compatible

    source = args.data or run.data_info.get("source") or run.data_info.get("name")
    if not source:
        raise DataError("the run does not say which data it was trained on; pass --data")
    saved = run.data_info.get("sensor") if not args.data else None
    data = load(source, _sensor_options(args, source, saved), args.label_names)
    check_compatible(run.model, data)
    return data


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .analysis import evaluate
    from .training import TrainingSoFar

    run = _load(args.run_dir, args.runs_dir)
    data = _run_data(args, run)
    result = evaluate(run.model, data, args.part, iwae_k=args.eval_k, history=TrainingSoFar.of(run.events))
    result.update({"run_dir": str(args.run_dir), "data": data.name})
    _notes(data, result)
    _score_recording(args, run.model, data, result)
    if args.json:
        print(json.dumps(json.loads(to_json(result)), separators=(",", ":")))
    else:
        _print_summary(result, None)
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from . import sampling

    run = _load(args.run_dir, args.runs_dir)
    label = None if args.label is None else sampling.label_index(run, args.label)
    x = sampling.draw(run, args.n, label, args.seed)
    check_out_file(args.out)
    arrays = {"x": x} if label is None else {"x": x, "y": np.full(args.n, label, dtype=np.int64)}
    with open(args.out, "wb") as f:
        np.savez(f, **arrays)
    what = f"class {args.label}" if label is not None else "the prior"
    print(f"wrote {args.out}: {args.n} samples from {what}, x of shape {x.shape}, values {x.min():.3g} to "
          f"{x.max():.3g}")
    return 0


def check_out_file(out: Path) -> None:
    """Refuse an output file whose folder is missing or which is a folder."""
    if out.is_dir() or not out.parent.is_dir():
        raise OutputError(f"cannot write {out}: " + ("it is a folder" if out.is_dir() else
                                                     f"there is no folder {out.parent}"))


def cmd_runs(args: argparse.Namespace) -> int:
    store = RunStore(args.runs_dir)
    for note in store.notes:
        print(f"note: {note}", file=sys.stderr)
    entries = store.list()
    if args.json:
        print(json.dumps(json.loads(to_json([e.to_dict() for e in entries])), separators=(",", ":")))
        return 0
    if not entries:
        print(f"no runs in {args.runs_dir} yet: 'vae-explorer train --data mnist' saves one there")
        return 0
    print(runs_table(entries))
    return 0


def runs_table(entries) -> str:
    """The store's runs as a plain-text table: id (first 12 characters), name, status, data, epochs, neg. ELBO, ..."""
    head = ("id", "name", "status", "data", "epochs", "neg.ELBO", "created", "path")
    rows = [(e.id[:12], e.name, e.status, e.data or "-",
             f"{e.epochs}/{e.epochs_planned}" if e.epochs_planned else str(e.epochs),
             "-" if e.test_neg_elbo is None else f"{e.test_neg_elbo:.2f}",
             time.strftime("%Y-%m-%d %H:%M", time.localtime(e.created)), str(e.path)) for e in entries]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in (head, *rows)]
    problems = [f"{e.id[:12]}: {e.message}" for e in entries if e.status in ("broken", "interrupted")]
    return "\n".join(lines + problems)


def cmd_datasets(args: argparse.Namespace) -> int:
    from .data import BUNDLED

    for name, text in BUNDLED.items():
        print(f"{name:14s} {text}")
    return 0


def ui_command(host: str, port: int) -> list[str]:
    """The `streamlit run` command line for the dashboard (also used by the browser tests).

    It goes through dashboard.serve, which imports torch and the dashboard before the server starts.
    """
    from .data import MAX_UPLOAD_BYTES

    app = Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py"
    return [sys.executable, "-m", "dashboard.serve", "run", str(app),
            "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--server.maxUploadSize", str(max(1, MAX_UPLOAD_BYTES // 2**20)), "--client.toolbarMode", "minimal",
            "--client.showErrorDetails", "none", "--theme.base", "light",
            "--runner.postScriptGC", "false"]  # as in .streamlit/config.toml, which only applies from the repo root


def ui_environment(args: argparse.Namespace) -> dict[str, str]:
    """How `ui`'s flags reach the dashboard's server process: its environment (dashboard/state.py reads it)."""
    shared = args.shared or not is_loopback(args.host)
    env = {"VAE_EXPLORER_RUNS_DIR": str(args.runs_dir.resolve()), "VAE_EXPLORER_SHARED": "1" if shared else "0",
           "VAE_EXPLORER_QUOTA_MB": f"{args.quota_mb:g}"}
    if args.mlflow:
        env["VAE_EXPLORER_MLFLOW"] = args.mlflow
    return env


def is_loopback(host: str) -> bool:
    """Does `host` only take connections from this machine?"""
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")


def cmd_ui(args: argparse.Namespace) -> int:
    from . import tracking

    if args.quota_mb <= 0:
        raise ConfigError(f"--quota-mb must be a positive number of MB, not {args.quota_mb:g}")
    if args.mlflow:
        tracking.check(args.mlflow)
    env = ui_environment(args)
    store = RunStore(args.runs_dir)
    for note in store.notes:
        print(f"note: {note}", file=sys.stderr)
    who = "shared: each browser sees its own runs" if env["VAE_EXPLORER_SHARED"] == "1" else "personal: every run shows"
    print(f"VAE Explorer on http://{args.host}:{args.port} · runs in {args.runs_dir.resolve()} ({who})",
          file=sys.stderr)
    argv = ui_command(args.host, args.port)
    os.execve(argv[0], argv, {**os.environ, **env})
    return 0  # not reached


def cmd_sweep(args: argparse.Namespace) -> int:
    return sweep_command.run(args, _sensor_options)


def cmd_export(args: argparse.Namespace) -> int:
    return export_command.run(args, _load, _run_data)


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "datasets": cmd_datasets, "runs": cmd_runs,
            "sweep": cmd_sweep, "export": cmd_export, "ui": cmd_ui, "sample": cmd_sample}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `vae-explorer` command."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (DataError, ConfigError, CheckpointError, OutputError, StoreError, TrackingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
