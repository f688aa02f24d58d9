"""Run the `vae-explorer` command in this process, as a test sees it: exit code, stdout, stderr."""
from __future__ import annotations

from vae_core.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `vae-explorer ARGV`; argparse's exits (--help, bad flags) included."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err
