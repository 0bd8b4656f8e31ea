"""Weight files in the safetensors format, and nothing else: no pickle, no fallback.

A safetensors file is an 8-byte little-endian header length ``N``, ``N`` bytes of JSON
(``{"name": {"dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end]}, ...,
"__metadata__": {"key": "value"}}``) and then the raw little-endian bytes of every tensor. It
holds numbers only, so loading one can never run code (a pickle-based ``torch.save`` file can).

The header comes from the file, so it is treated as hostile: its size is bounded, the JSON
must be well formed without duplicate keys, dtypes come from an allow-list, shapes are
non-negative integers, and the byte ranges must tile the data exactly (contiguous, in order,
no overlap, no gap, nothing after the last tensor) with ``prod(shape) * itemsize`` bytes each.
Anything else raises :class:`~chainrule.errors.FileFormatError` naming the file and the fault.
The files are readable by the ``safetensors`` package and PyTorch, and theirs by us.

>>> import os, tempfile, numpy as np
>>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
>>> save_weights(path, {"W": np.eye(2, dtype=np.float32)}, metadata={"step": "10"})
>>> load_weights(path)["W"]
array([[1., 0.],
       [0., 1.]], dtype=float32)
>>> read_metadata(path)
{'step': '10'}
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np

from .errors import FileFormatError
from .fileio import write_atomically
from .tensor import Tensor

#: safetensors dtype names and the little-endian NumPy dtypes they map to (the allow-list).
DTYPES: dict[str, np.dtype[Any]] = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NAMES = {(d.kind, d.itemsize): name for name, d in DTYPES.items()}

#: The largest JSON header accepted. NOTE: the safetensors package allows 100 MB; 16 MiB holds
#: the header of a model with ~100,000 tensors and keeps a hostile file's parse well under a second.
MAX_HEADER_BYTES = 16 * 1024 * 1024
#: The most dimensions a tensor may have (NumPy's own limit is 64).
MAX_NDIM = 32
_METADATA = "__metadata__"
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}

PathLike = str | os.PathLike[str]


# ---- writing ---------------------------------------------------------------------------------
def _as_array(name: Any, value: Any) -> np.ndarray:
    if not isinstance(name, str) or not name or name == _METADATA:
        raise ValueError(f"save_weights: tensor names must be non-empty strings other than "
                         f"{_METADATA!r}, got {_show(name)}")
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if (array.dtype.kind, array.dtype.itemsize) not in _NAMES or array.dtype.kind == "V":
        raise FileFormatError(
            f"save_weights: tensor {_show(name)} has dtype {array.dtype}, which safetensors "
            f"files do not hold here; convert it to one of "
            f"{', '.join(str(d) for d in DTYPES.values())}")
    # NOTE: the format is little-endian and C-ordered whatever the machine or the view.
    # (np.ascontiguousarray would turn a 0-d array into shape (1,).)
    return array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)


def _header_bytes(arrays: dict[str, np.ndarray], metadata: Mapping[str, str] | None) -> bytes:
    header: dict[str, Any] = {}
    if metadata:
        bad = [k for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise ValueError(f"save_weights: metadata keys and values must be strings; "
                             f"convert {bad[:3]} with str()")
        header[_METADATA] = dict(metadata)
    offset = 0
    for name, array in arrays.items():
        end = offset + array.nbytes
        header[name] = {"dtype": _NAMES[(array.dtype.kind, array.dtype.itemsize)],
                        "shape": list(array.shape), "data_offsets": [offset, end]}
        offset = end
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    # NOTE: padding with spaces to a multiple of 8 aligns the data for readers that map it.
    return text + b" " * (-len(text) % 8)


def save_weights(path: PathLike, tensors: Mapping[str, Any], *, force: bool = False,
                 metadata: Mapping[str, str] | None = None) -> None:
    """Write ``tensors`` (names to ndarrays or Tensors) to a safetensors file at ``path``.

    Refuses to replace an existing file unless ``force=True``. The file is written to a
    temporary name in the same folder and renamed into place, so an interrupted save never
    leaves a half-written file. ``metadata`` is a dict of strings stored in the header.

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "b.safetensors")
    >>> save_weights(path, {"b": np.zeros(3)})
    >>> save_weights(path, {"b": np.ones(3)})
    Traceback (most recent call last):
    FileExistsError: ... already exists; pass force=True to overwrite it
    """
    target = Path(path)
    arrays = {name: _as_array(name, value) for name, value in sorted(tensors.items())}
    header = _header_bytes(arrays, metadata)
    chunks = (struct.pack("<Q", len(header)), header,
              *(array.tobytes() for array in arrays.values()))
    write_atomically(target, chunks, force=force)


# ---- reading ---------------------------------------------------------------------------------
def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Invalid(f"the header names {_show(key)} twice")
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise _Invalid(f"the header contains {name}, which is not JSON")


def _show(value: Any, limit: int = 60) -> str:
    """A value read from the file, as repr, cut short: a hostile header can be megabytes."""
    if isinstance(value, list) and len(value) > 8:   # repr of a million items is slow too
        return f"{_show(value[:8], limit)[:-1]}, ... ({len(value)} items)]"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


class _Invalid(Exception):
    """A fault found while validating; turned into FileFormatError with the file's name."""


def _sniff(start: bytes) -> str:
    """Name a well-known non-safetensors format from its first bytes (for a clearer error)."""
    if start[:1] == b"\x80" or start[:2] in (b"(d", b"(l", b"}q", b"]q", b"cc"):
        return ("it looks like a Python pickle (e.g. torch.save); pickles can run code when "
                "loaded, so they are never read")
    if start[:4] == b"PK\x03\x04":
        return ("it looks like a zip archive (torch.save's format), which holds a pickle; "
                "convert it once with safetensors.torch.save_file in a trusted environment")
    if start[:6] == b"\x93NUMPY":
        return "it is a NumPy .npy file; save arrays with chainrule.weights.save_weights instead"
    return ""


def _check_shape(name: str, shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, list) or len(shape) > MAX_NDIM:
        raise _Invalid(f"tensor {_show(name)} has shape {_show(shape)}; a shape is a list of "
                       f"at most {MAX_NDIM} integers")
    for d in shape:
        if type(d) is not int or d < 0 or d >= 2 ** 62:
            raise _Invalid(f"tensor {_show(name)} has shape {_show(shape)}; every dimension "
                           "must be a non-negative integer")
    return tuple(shape)


def _check_entry(name: str, entry: Any, data_bytes: int) -> tuple[np.dtype[Any], tuple[int, ...],
                                                                   int, int]:
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        keys = _show(sorted(entry)) if isinstance(entry, dict) else type(entry).__name__
        raise _Invalid(f"tensor {_show(name)} must have exactly the keys dtype, shape and "
                       f"data_offsets, got {keys}")
    dtype_name = entry["dtype"]
    if not isinstance(dtype_name, str) or dtype_name not in DTYPES:
        raise _Invalid(f"tensor {_show(name)} has dtype {_show(dtype_name)}, which is not "
                       f"one of {', '.join(DTYPES)}")
    dtype = DTYPES[dtype_name]
    shape = _check_shape(name, entry["shape"])
    offsets = entry["data_offsets"]
    if (not isinstance(offsets, list) or len(offsets) != 2
            or any(type(o) is not int for o in offsets)):
        raise _Invalid(f"tensor {_show(name)} has data_offsets {_show(offsets)}; expected "
                       "[begin, end] as two integers")
    begin, end = offsets
    if not 0 <= begin <= end <= data_bytes:
        raise _Invalid(f"tensor {_show(name)} has data_offsets [{begin}, {end}], outside the "
                       f"{data_bytes} data bytes the file holds")
    expected = math.prod(shape) * dtype.itemsize
    if end - begin != expected:
        raise _Invalid(f"tensor {_show(name)} of dtype {dtype_name} and shape "
                       f"{_show(tuple(shape), 120)} needs {expected} bytes, but its "
                       f"data_offsets [{begin}, {end}] span {end - begin}")
    return dtype, shape, begin, end


def _parse_header(raw: bytes, data_bytes: int) -> tuple[dict[str, Any], dict[str, str]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Invalid(f"the header is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.startswith("{"):
        raise _Invalid("the header does not start with '{'")
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise _Invalid(f"the header is not valid JSON ({exc.msg} at character {exc.pos})") \
            from None
    except RecursionError:
        raise _Invalid("the header is nested too deeply") from None
    metadata = header.pop(_METADATA, {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _Invalid(f"{_METADATA} must map strings to strings")
    return header, metadata


def _read_exact(f: Any, size: int) -> bytes:
    data = f.read(size)
    if len(data) != size:
        raise _Invalid(f"the file ended after {len(data)} of {size} expected bytes")
    return data


def _load(path: PathLike, read_data: bool = True
          ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        start = f.read(8)
        if len(start) < 8:
            raise _Invalid(_sniff(start) or f"it is {file_size} bytes long, too short for the "
                           "8-byte header length that starts a safetensors file")
        (header_size,) = struct.unpack("<Q", start)
        if header_size > min(MAX_HEADER_BYTES, file_size - 8):
            # NOTE: sniffed only now: a valid 128-byte header also starts with byte 0x80.
            raise _Invalid(_sniff(start) or f"the header claims {header_size} bytes, but the "
                           f"file holds "
                           f"{file_size - 8} after the length and at most {MAX_HEADER_BYTES} "
                           "are accepted")
        data_bytes = file_size - 8 - header_size
        header, metadata = _parse_header(_read_exact(f, header_size), data_bytes)
        entries = sorted(((name, _check_entry(name, e, data_bytes)) for name, e in header.items()),
                         key=lambda item: (item[1][2], item[1][3]))
        position = 0
        for name, (_, _, begin, end) in entries:
            if begin != position:
                problem = "overlaps the previous tensor" if begin < position else \
                    f"leaves a gap of {begin - position} bytes before it"
                raise _Invalid(f"tensor {_show(name)} starts at byte {begin}, which {problem}; "
                               "tensors must be stored contiguously")
            position = end
        if position != data_bytes:
            raise _Invalid(f"the tensors cover {position} data bytes but the file holds "
                           f"{data_bytes}; it has {data_bytes - position} unexplained bytes")
        if not read_data:
            return {}, metadata
        data = _read_exact(f, data_bytes)
    arrays: dict[str, np.ndarray] = {}
    for name, (dtype, shape, begin, end) in entries:
        array = np.frombuffer(data, dtype=dtype, count=(end - begin) // dtype.itemsize,
                              offset=begin)
        if dtype.kind == "b" and array.view(np.uint8).max(initial=0) > 1:
            raise _Invalid(f"tensor {_show(name)} of dtype BOOL holds bytes other than 0 and 1")
        try:
            array = array.reshape(shape)
        except ValueError as exc:
            raise _Invalid(f"tensor {_show(name)} has shape {_show(shape, 120)} that NumPy "
                           f"cannot hold: {exc}") from None
        # NOTE: a private, writable, native-endian copy: nothing aliases the file's bytes.
        arrays[name] = array.astype(dtype.newbyteorder("="), copy=True)
    return arrays, metadata


def _loaded(path: PathLike, read_data: bool = True
            ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    try:
        return _load(path, read_data)
    except _Invalid as exc:
        raise FileFormatError(f"{os.fspath(path)}: not a valid safetensors weight file: {exc}") \
            from None


@overload
def load_weights(path: PathLike, *, with_metadata: Literal[False] = ...
                 ) -> dict[str, np.ndarray]: ...
@overload
def load_weights(path: PathLike, *, with_metadata: Literal[True]
                 ) -> tuple[dict[str, np.ndarray], dict[str, str]]: ...
def load_weights(path: PathLike, *, with_metadata: bool = False) -> Any:
    """Read a safetensors file into ``{name: ndarray}``, after validating it completely.

    With ``with_metadata=True`` returns ``(arrays, metadata)``. A malformed or hostile file
    raises :class:`~chainrule.errors.FileFormatError` naming the file and the problem; a
    missing file raises ``FileNotFoundError``. Nothing in the file is ever executed.

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x.safetensors")
    >>> save_weights(path, {"x": np.arange(3, dtype=np.int64)})
    >>> load_weights(path)
    {'x': array([0, 1, 2])}
    """
    arrays, metadata = _loaded(path)
    return (arrays, metadata) if with_metadata else arrays


def read_metadata(path: PathLike) -> dict[str, str]:
    """The ``__metadata__`` strings of a safetensors file; the header is validated as by
    :func:`load_weights`, the tensor data is not read.

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> save_weights(path, {"w": np.ones(1)}, metadata={"arch": "4-3-1"})
    >>> read_metadata(path)
    {'arch': '4-3-1'}
    """
    return _loaded(path, read_data=False)[1]
