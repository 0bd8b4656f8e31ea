"""Writing files without ever losing what a user saved.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> write_atomically(path, [b"first"], force=False).name
'notes.txt'
>>> write_atomically(path, [b"second"], force=False)
Traceback (most recent call last):
FileExistsError: ... already exists; pass force=True to overwrite it
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], chunks: Iterable[bytes], *, force: bool,
                     how_to_force: str = "pass force=True",
                     exists_error: type[FileExistsError] = FileExistsError) -> Path:
    """Write ``chunks`` to ``path``; refuse to replace an existing file unless ``force``.

    NOTE: the data goes to a temporary file in the same folder, is flushed to disk and renamed
    into place, so an interrupted write never leaves a half-written file where the user's was.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder; give a file name")
    if target.exists() and not force:
        raise exists_error(f"{target} already exists; {how_to_force} to overwrite it")
    parent = target.parent
    if not parent.is_dir():
        raise FileNotFoundError(f"{target}: the folder {parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        # NOTE: mkstemp creates the file 0600; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
