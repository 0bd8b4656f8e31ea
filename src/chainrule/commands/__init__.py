"""Subcommands of the ``chainrule`` CLI, one module each (see :mod:`chainrule.cli`).

Helpers shared by commands live here: writing an output file never overwrites a user's file
unless ``--force`` was given.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path


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
    """Write ``data`` to ``path`` atomically; refuse to replace an existing file unless forced.

    NOTE: the data goes to a temporary file in the same folder first and is renamed into place,
    so an interrupted write never leaves a half-written file where the user's was.
    """
    target = Path(path)
    if target.exists() and not force:
        raise OutputExistsError(f"{target} already exists; pass --force to overwrite it")
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder; give a file name")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"{target}: the folder {parent} does not exist")
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=parent)
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
            f.write(data)
        # NOTE: mkstemp creates the file 0600; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
