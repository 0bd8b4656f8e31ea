"""Subcommands of the ``chainrule`` CLI, one module each (see :mod:`chainrule.cli`).

Helpers shared by commands live here: writing an output file never overwrites a user's file
unless ``--force`` was given.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..fileio import write_atomically


class OutputExistsError(FileExistsError):
    """The output path exists and ``--force`` was not given."""


def add_output_arguments(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """Add ``--out PATH`` and ``--force`` to a subcommand."""
    parser.add_argument("--out", "-o", default=default, metavar="PATH",
                        help="write to PATH instead of standard output" if default is None
                        else f"output path (default: {default})")
    parser.add_argument("--force", action="store_true",
                        help="overwrite PATH if it exists")


def write_output(path: str | os.PathLike[str], data: str | bytes, force: bool) -> Path:
    """Write ``data`` to ``path`` atomically; refuse to replace an existing file unless forced."""
    chunk = data if isinstance(data, bytes) else data.encode("utf-8")
    return write_atomically(path, [chunk], force=force, how_to_force="pass --force",
                            exists_error=OutputExistsError)
