"""`vae-explorer train | evaluate | datasets | sweep | ui`: the engine from a terminal, for scripts and scale.

Bad flags and bad files exit with code 2 and one line on stderr starting `error:`; a diverged run
exits 1 after saving its last good weights.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from .checkpoint import CheckpointError, Run, data_info, load_run, save_run, to_json
from .config import LOSSES, SCHEDULES, WARMUPS, ARCHS, ConfigError, TrainConfig, default_model_config
from .dataset import DataError
from .sweep import command as sweep_command

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 1


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one `error:` line (exit 2) instead of usage + error."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see '{self.prog} --help')\n")
        sys.exit(EXIT_BAD_INPUT)


def _csv_ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, like 400 or 32,64, not {text!r}")


def _add_data_flags(p: argparse.ArgumentParser, required: bool) -> None:
    from .data import BUNDLED

    p.add_argument("--data", required=required, metavar="NAME|PATH",
                   help=f"a bundled data set ({', '.join(BUNDLED)}) or a file: MNIST IDX images (labels found beside "
                        "it), image CSV (label + pixels), NPZ, zip of PNG/JPEG in label folders, or a sensor CSV")
    p.add_argument("--window", type=int, default=None, help="sensor data: time steps per window (default: 64)")
    p.add_argument("--stride", type=int, default=None, help="sensor data: steps between window starts (default: 8; bundled sets have their own)")
    p.add_argument("--scaling", choices=("zscore", "minmax", "none"), default=None,
                   help="sensor data: per-channel scaling fitted on the training part (default: zscore)")
    p.add_argument("--channels", default=None, help="sensor data: comma-separated channel columns (default: every numeric column)")
    p.add_argument("--nan", choices=("interpolate", "drop", "error"), default=None,
                   help="sensor data: what to do with missing values (default: interpolate)")


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser (every flag documents its default)."""
    d = TrainConfig()
    parser = _Parser(prog="vae-explorer", description="Train, evaluate and explore variational autoencoders.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train a VAE headless and save the run folder",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_data_flags(t, required=True)
    m = t.add_argument_group("model")
    m.add_argument("--arch", choices=ARCHS, default=None, help="network: mlp|conv for images, conv1d|gru|mlp for sensor windows (default: mlp for images, conv1d for sensors)")
    m.add_argument("--latent-dim", type=int, default=None, help="size of z (default: 16 for images, 8 for sensors)")
    m.add_argument("--hidden", type=_csv_ints, default=None, help="layer sizes, e.g. 400 (mlp) or 32,64 (conv) (default: per architecture)")
    m.add_argument("--loss", choices=LOSSES, default=None, help="reconstruction likelihood (default: bce for images, mse for sensors)")
    m.add_argument("--huber-delta", type=float, default=1.0, help="Huber loss: where squared error turns into absolute error")
    m.add_argument("--dropout", type=float, default=0.0, help="dropout in hidden layers")
    o = t.add_argument_group("objective and optimiser")
    o.add_argument("--epochs", type=int, default=d.epochs, help="passes over the training part")
    o.add_argument("--batch-size", type=int, default=d.batch_size, help="samples per step")
    o.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    o.add_argument("--beta", type=float, default=d.beta, help="KL weight (1 = plain ELBO, >1 = beta-VAE)")
    o.add_argument("--warmup", choices=WARMUPS, default=d.warmup, help="KL warm-up shape")
    o.add_argument("--warmup-epochs", type=float, default=d.warmup_epochs, help="warm-up length (or cycle length) in epochs")
    o.add_argument("--free-bits", type=float, default=d.free_bits, help="nats per latent dimension not penalised")
    o.add_argument("--weight-decay", type=float, default=d.weight_decay, help="decoupled weight decay (AdamW)")
    o.add_argument("--grad-clip", type=float, default=d.grad_clip, help="max gradient norm (0 = off)")
    o.add_argument("--schedule", choices=SCHEDULES, default=d.schedule, help="learning-rate schedule")
    o.add_argument("--early-stopping", type=int, default=d.early_stopping, help="stop after N epochs without a better validation loss (0 = off)")
    o.add_argument("--seed", type=int, default=d.seed, help="random seed (runs repeat exactly on CPU)")
    o.add_argument("--device", default=d.device, help="auto, cpu, cuda or cuda:N")
    r = t.add_argument_group("output")
    r.add_argument("--out", default=None, help="run folder to write (default: runs/<data>-<time>)")
    r.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue training a saved run (its model; --epochs counts the new epochs)")
    r.add_argument("--iwae-k", type=int, default=64, help="importance samples for the IWAE NLL (images; 0 = skip)")
    r.add_argument("--json", action="store_true", help="print the summary as one JSON object on the last stdout line")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="re-evaluate a saved run on held-out data",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    e.add_argument("run_dir", metavar="RUN_DIR", help="folder written by 'train --out' (or a run zip)")
    _add_data_flags(e, required=False)
    e.add_argument("--part", choices=("test", "val", "train", "all"), default="test", help="which part of the data")
    e.add_argument("--iwae-k", type=int, default=64, help="importance samples for the IWAE NLL (images; 0 = skip)")
    e.add_argument("--json", action="store_true", help="print the result as one JSON object on the last stdout line")

    sub.add_parser("datasets", help="list the bundled data sets")

    sweep_command.add_parser(sub, _add_data_flags)

    u = sub.add_parser("ui", help="start the dashboard", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    u.add_argument("--host", default=os.environ.get("VAE_EXPLORER_HOST", "127.0.0.1"), help="address to listen on")
    u.add_argument("--port", type=int, default=int(os.environ.get("VAE_EXPLORER_PORT", "8501")), help="port to listen on")
    return parser


def _sensor_options(args: argparse.Namespace, source: str, saved: dict | None = None):
    """Sensor flags given on the command line, on top of the saved run's or the bundled set's own."""
    from .data import SensorOptions, bundled_sensor_options

    given = {k: getattr(args, k) for k in ("window", "stride", "scaling", "nan") if getattr(args, k) is not None}
    if args.channels:
        given["channels"] = tuple(c.strip() for c in args.channels.split(",") if c.strip())
    if saved:
        return SensorOptions(**{**saved, **given, "channels": tuple(saved["channels"]) if saved.get("channels") else None})
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
    line = f"test neg. ELBO {summary['test_neg_elbo']:.2f} nats/sample (recon {summary['recon']:.2f} + KL {summary['kl']:.2f})"
    if summary.get("iwae_nll") is not None:
        line += f"; IWAE NLL {summary['iwae_nll']:.2f}"
    print(line)
    print(f"{summary['verdict']}: {summary['collapse_reason']}")
    if summary.get("anomaly_auc") is not None:
        print(f"anomaly detection: ROC-AUC {summary['anomaly_auc']:.3f}, average precision {summary['anomaly_ap']:.3f}")
    if summary.get("seconds") is not None and summary.get("samples_per_second"):
        print(f"{summary['epochs']} epochs in {summary['seconds']:.1f} s ({summary['samples_per_second']:,.0f} samples/s)")


def cmd_train(args: argparse.Namespace) -> int:
    from .runs import new_model, summarize
    from .training import TrainState, train

    from .data import load

    sensor = _sensor_options(args, args.data)
    data = load(args.data, sensor)
    train_cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, beta=args.beta,
                            warmup=args.warmup, warmup_epochs=args.warmup_epochs, free_bits=args.free_bits,
                            weight_decay=args.weight_decay, grad_clip=args.grad_clip, schedule=args.schedule,
                            early_stopping=args.early_stopping, seed=args.seed, device=args.device)
    if args.resume:
        previous = load_run(args.resume)
        model, past_events = previous.model, previous.events
    else:
        model_cfg = default_model_config(data.kind, data.input_shape, arch=args.arch, latent_dim=args.latent_dim,
                                         hidden=args.hidden, loss=args.loss, huber_delta=args.huber_delta,
                                         dropout=args.dropout)
        model, past_events = new_model(model_cfg, args.seed), []
    out = Path(args.out) if args.out else Path("runs") / f"{Path(args.data).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    events = list(past_events)
    state = TrainState(model, train_cfg)
    bar = None
    try:
        for ev in train(model, data, train_cfg, state):
            events.append(ev)
            if bar is None:
                bar = _progress_bar(ev.total_steps, args.quiet)
            if ev.kind == "step":
                bar.update(1)
                bar.set_postfix(epoch=ev.epoch, loss=f"{ev.loss:.2f}", recon=f"{ev.recon:.2f}", kl=f"{ev.kl:.2f}",
                                samples_s=f"{ev.samples_per_second:,.0f}", refresh=False)
    except KeyboardInterrupt:
        print("\nstopped: saving what was learned so far", file=sys.stderr)
    finally:
        if bar is not None:
            bar.close()
    summary = summarize(model, data, train_cfg, events, iwae_k=args.iwae_k)
    info = {**data_info(data), "source": args.data, "sensor": None if sensor is None else asdict(sensor)}
    save_run(Run(model, train_cfg, info, events, summary), out)
    summary["run_dir"] = str(out)
    (out / "summary.json").write_text(to_json(summary))
    if args.json:
        print(json.dumps(json.loads(to_json(summary)), separators=(",", ":")))
    else:
        _print_summary(summary, out)
    if summary["stop_reason"] == "diverged":
        print(f"error: training diverged: {summary['stop_message']} The last good weights were saved to {out}.",
              file=sys.stderr)
        return EXIT_DIVERGED
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .analysis import evaluate
    from .data import load
    from .training import check_compatible

    run = load_run(args.run_dir)
    source = args.data or run.data_info.get("source") or run.data_info.get("name")
    if not source:
        raise DataError("the run does not say which data it was trained on; pass --data")
    saved = run.data_info.get("sensor") if not args.data else None
    data = load(source, _sensor_options(args, source, saved))
    check_compatible(run.model, data)
    epochs = [e for e in run.events if e.kind == "epoch" and e.phase == "train"]
    result = evaluate(run.model, data, args.part, iwae_k=args.iwae_k, recon_history=[e.recon for e in epochs])
    result.update({"run_dir": str(args.run_dir), "data": data.name})
    if args.json:
        print(json.dumps(json.loads(to_json(result)), separators=(",", ":")))
    else:
        _print_summary(result, None)
    return 0


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
    return [sys.executable, "-m", "dashboard.serve", "run", str(app), "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--server.maxUploadSize", str(max(1, MAX_UPLOAD_BYTES // 2**20)), "--client.toolbarMode", "minimal",
            "--client.showErrorDetails", "none", "--theme.base", "light",
            "--runner.postScriptGC", "false"]  # as in .streamlit/config.toml, which only applies from the repo root


def cmd_ui(args: argparse.Namespace) -> int:
    argv = ui_command(args.host, args.port)
    print(f"VAE Explorer on http://{args.host}:{args.port}", file=sys.stderr)
    os.execv(argv[0], argv)
    return 0  # not reached


def cmd_sweep(args: argparse.Namespace) -> int:
    return sweep_command.run(args, _sensor_options)


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "datasets": cmd_datasets, "sweep": cmd_sweep, "ui": cmd_ui}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `vae-explorer` command."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (DataError, ConfigError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
