"""save_weights / load_weights: round trips, interoperability with safetensors, refusals."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import chainrule as cr
from chainrule.errors import FileFormatError
from chainrule.weights import DTYPES, load_weights, read_metadata, save_weights


def _arrays(rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {}
    for name, dtype in DTYPES.items():
        shape = (2, 3) if name != "BOOL" else (4,)
        if dtype.kind == "f":
            out[name.lower()] = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind == "b":
            out[name.lower()] = rng.uniform(size=shape) > 0.5
        else:
            out[name.lower()] = rng.integers(0, 100, size=shape).astype(dtype)
    out["scalar"] = np.array(3.5)
    out["empty"] = np.zeros((0, 4), dtype=np.float32)
    out["size_one"] = np.ones((1, 1, 1), dtype=np.float64)
    return out


def test_round_trip_every_dtype_and_shape(tmp_path):
    arrays = _arrays(np.random.default_rng(0))
    path = tmp_path / "w.safetensors"
    save_weights(path, arrays, metadata={"epoch": "3", "note": "größe"})
    loaded, metadata = load_weights(path, with_metadata=True)
    assert sorted(loaded) == sorted(arrays)
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)
    assert metadata == {"epoch": "3", "note": "größe"} == read_metadata(path)


def test_loaded_arrays_are_private_and_writable(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(path, {"a": np.arange(4.0), "b": np.arange(3.0)})
    loaded = load_weights(path)
    loaded["a"][0] = 7.0
    assert loaded["a"].flags.writeable
    assert load_weights(path)["a"][0] == 0.0


def test_accepts_tensors_and_views(tmp_path):
    w = cr.randn(3, 4, requires_grad=True)
    view = np.arange(12.0).reshape(3, 4).T   # not C-contiguous
    path = tmp_path / "t.safetensors"
    save_weights(path, {"w": w, "view": view})
    loaded = load_weights(path)
    np.testing.assert_array_equal(loaded["w"], w.data)
    np.testing.assert_array_equal(loaded["view"], view)


def test_interoperates_with_the_safetensors_package(tmp_path):
    arrays = _arrays(np.random.default_rng(1))
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    save_weights(ours, arrays)
    for name, array in load_file(str(ours)).items():
        np.testing.assert_array_equal(array, arrays[name])
    save_file(arrays, str(theirs), metadata={"k": "v"})
    loaded, metadata = load_weights(theirs, with_metadata=True)
    assert metadata == {"k": "v"}
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name], array)


def test_interoperates_with_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file as torch_load
    from safetensors.torch import save_file as torch_save

    path = tmp_path / "torch.safetensors"
    torch_save({"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)}, str(path))
    np.testing.assert_array_equal(load_weights(path)["w"], np.arange(6.0).reshape(2, 3))
    save_weights(path, {"b": np.array([1.0, -2.0])}, force=True)
    assert torch_load(str(path))["b"].tolist() == [1.0, -2.0]


def test_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(path, {"a": np.zeros(2)})
    with pytest.raises(FileExistsError, match="force=True"):
        save_weights(path, {"a": np.ones(2)})
    np.testing.assert_array_equal(load_weights(path)["a"], np.zeros(2))
    save_weights(path, {"a": np.ones(2)}, force=True)
    np.testing.assert_array_equal(load_weights(path)["a"], np.ones(2))
    assert os.listdir(tmp_path) == ["w.safetensors"]   # no temporary file left behind


def test_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "w.safetensors"
    with pytest.raises(FileFormatError, match="complex128"):
        save_weights(path, {"c": np.zeros(2, dtype=complex)})
    with pytest.raises(ValueError, match="metadata"):
        save_weights(path, {"a": np.zeros(2)}, metadata={"n": 3})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="names"):
        save_weights(path, {"__metadata__": np.zeros(2)})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_weights(tmp_path / "missing" / "w.safetensors", {"a": np.zeros(2)})
    assert os.listdir(tmp_path) == []


def _write(path, header: dict | bytes, data: bytes = b"") -> None:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


MALFORMED = [
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4, "needs 8 bytes"),
    ({"a": {"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, "dtype 'F33'"),
    ({"a": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}, b"\0" * 2, "dtype 'BF16'"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4, "non-negative"),
    ({"a": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}, b"\0" * 4, "non-negative"),
    ({"a": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, b"\0" * 4,
     "non-negative"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 4, "outside"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
      "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, b"\0" * 8, "overlaps"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "gap"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8, "unexplained"),
    ({"a": {"dtype": "F32", "shape": [1]}}, b"", "exactly the keys"),
    ({"a": [1, 2]}, b"", "exactly the keys"),
    ({"__metadata__": {"k": 1}}, b"", "strings to strings"),
    (b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
     b'"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', b"\0" * 4, "twice"),
    (b'{"a": NaN}', b"", "not JSON"),
    (b'{"a": ', b"", "not valid JSON"),
    (b'[1, 2]', b"", "start with"),
    (b'{"\xff": 1}', b"", "UTF-8"),
    (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", b"", "nested too deeply"),
    ({"a": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x07", "BOOL"),
]


@pytest.mark.parametrize(("header", "data", "message"), MALFORMED,
                         ids=[f"{i}-{case[2]}" for i, case in enumerate(MALFORMED)])
def test_rejects_malformed_headers(tmp_path, header, data, message):
    path = tmp_path / "bad.safetensors"
    _write(path, header, data)
    with pytest.raises(FileFormatError, match=message) as info:
        load_weights(path)
    assert str(path) in str(info.value)


def test_rejects_lying_header_size_and_truncation(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", 2 ** 63) + b"{}")
    with pytest.raises(FileFormatError, match="claims"):
        load_weights(path)
    path.write_bytes(b"\x02\x00")
    with pytest.raises(FileFormatError, match="too short"):
        load_weights(path)
    path.write_bytes(b"")
    with pytest.raises(FileFormatError, match="too short"):
        load_weights(path)


def test_names_pickles_and_archives(tmp_path):
    import pickle

    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    with pytest.raises(FileFormatError, match="pickle"):
        load_weights(path)
    path.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(FileFormatError, match="zip"):
        load_weights(path)
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(FileFormatError, match="npy"):
        load_weights(tmp_path / "a.npy")


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_weights(tmp_path / "nope.safetensors")


def test_saved_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        save_weights(tmp_path / "w.safetensors", {"a": np.zeros(1)})
    finally:
        os.umask(umask)
    assert (tmp_path / "w.safetensors").stat().st_mode & 0o777 == 0o644
