"""`vae-explorer export RUN --projector DIR`: a run's codes for TensorBoard's Embedding Projector (vae_core.cli adds
the subcommand; vae_core.projector makes the files)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import projector
from .dataset import DataError


def add_parser(sub, add_data_flags, add_runs_dir_flag) -> argparse.ArgumentParser:
    """Add the `export` subcommand to the CLI's subparsers."""
    x = sub.add_parser("export", help="export a run's codes (for TensorBoard's Embedding Projector)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="Write the latent means of a run's inputs as the files TensorBoard's Embedding "
                                   "Projector reads: tensors.tsv, metadata.tsv (index, part, label), sprite.png "
                                   "(images) and projector_config.pbtxt. Open the folder with `tensorboard --logdir "
                                   "DIR`, or load the two TSV files at projector.tensorflow.org.")
    x.add_argument("run_dir", metavar="RUN", help="a run's id (or unique id prefix) from 'vae-explorer runs', or a "
                                                  "run folder (or a run zip)")
    add_runs_dir_flag(x)
    x.add_argument("--projector", type=Path, required=True, metavar="DIR", help="the folder to write the files to")
    x.add_argument("--part", choices=("test", "val", "train", "all"), default="test", help="which inputs to export")
    x.add_argument("--points", type=int, default=projector.MAX_POINTS,
                   help="at most this many inputs (a seeded random sample of the part)")
    add_data_flags(x, required=False)
    return x


def run(args: argparse.Namespace, load_run, load_data) -> int:
    """The `export` command: `load_run(ref, runs_dir)` and `load_data(args, run)` come from the CLI."""
    if not 1 <= args.points <= projector.MAX_POINTS:
        raise DataError(f"--points must be from 1 to {projector.MAX_POINTS:,}, not {args.points}")
    run = load_run(args.run_dir, args.runs_dir)
    data = load_data(args, run)
    try:
        files = projector.projector_files(run.model, data, args.part, args.points,
                                          name=f"{run.short_name}: {data.name} codes ({args.part} part)")
    except ValueError as exc:
        raise DataError(str(exc)) from None
    out = projector.write(files, args.projector)
    rows = files[projector.TENSORS].count(b"\n")
    print(f"wrote {out}/: {', '.join(files)} ({rows:,} points, {run.model.cfg.latent_dim} dimensions)")
    print(f"open it with: tensorboard --logdir {out}  (or load {projector.TENSORS} and {projector.METADATA} at "
          "https://projector.tensorflow.org)", file=sys.stderr)
    return 0
