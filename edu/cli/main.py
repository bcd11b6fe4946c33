"""Entry point of the ``edu`` command: builds the parser from the subcommand modules.

Each subcommand lives in its own module of :mod:`edu.cli` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to the callable that
runs it. The order of :data:`SUBCOMMANDS` is the order shown by ``edu --help``.
"""

from __future__ import annotations

import argparse
import importlib
import io
import sys
from collections.abc import Sequence

from edu import __version__

SUBCOMMANDS = (
    "lab1",
    "train",
    "evaluate",
    "prune",
    "quantize",
    "compress",
    "reproduce",
    "frontier",
    "validate",
    "grade",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the full ``edu`` parser (also used to document the CLI in the notes)."""
    parser = argparse.ArgumentParser(
        prog="edu",
        description="DNN compression course: labs, training, pruning, quantization.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"edu.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; return its exit status.

    Errors about the user's input (missing data, an unreadable checkpoint, weights of
    another model) are printed as one line and give exit status 2, as argparse does for
    bad options; anything else is a bug and keeps its traceback. Standard output is
    line-buffered: the log of a long run sent to a file (``nohup edu reproduce all >
    all.log``) shows each epoch when it ends, not when a block of them fills a buffer.
    """
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        print(f"edu {args.command}: error: {error}", file=sys.stderr)
        return 2
