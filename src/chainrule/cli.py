"""The ``chainrule`` command line.

Each subcommand is a module in :mod:`chainrule.commands` defining ``add_parser(subparsers)`` and
``run(args) -> int``; they are discovered, so adding a command touches no other file. Heavy
imports belong inside ``run`` so that ``chainrule --help`` and ``chainrule demo`` stay fast.

A user's mistake (a bad flag, a missing file, a malformed network file, an unwritable path)
ends with one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import commands
from .errors import ChainruleError


class _OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (argparse prints usage as well)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="chainrule",
        description="An autograd engine that shows its work: chain-rule derivations with "
                    "numbers, checked by finite differences.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_OneLineParser)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.add_parser(sub)
    return parser


def _version() -> str:
    from . import __version__

    return f"chainrule {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"chainrule {args.command}"
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (ChainruleError, OSError, ValueError, KeyError, TypeError) as exc:
        if os.environ.get("CHAINRULE_DEBUG"):
            raise
        message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, OSError) and exc.filename:
            message = f"{exc.filename}: {message}"
        print(f"{prog}: error: {' '.join(message.split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
