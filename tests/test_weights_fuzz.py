"""A fuzz corpus of hostile weight files: every malformed one is refused, no pickle ever runs.

The corpus (about 1,500 files, built deterministically from six valid files) holds:
truncations, header lies about dtype, shape and offsets, huge and deeply nested headers,
duplicate keys, random garbage, non-JSON headers, and pickles (raw, every protocol, inside a
torch.save zip, behind a safetensors length) whose loading would write a canary file. Each
must raise FileFormatError with a one-line message naming the file; none may write the canary.
A second group flips random bits in the header: those files may stay valid (a flipped letter
in a tensor's name), so for them the ``safetensors`` package is the oracle: whatever we accept
it must accept too, with the same arrays.
"""

from __future__ import annotations

import builtins
import io
import json
import pickle
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy as st_numpy

from chainrule.errors import FileFormatError
from chainrule.weights import load_weights, save_weights


def _bases(tmp: Path) -> list[bytes]:
    rng = np.random.default_rng(0)
    sets = [
        ({"W1": rng.standard_normal((4, 3)).astype(np.float32),
          "b1": rng.standard_normal(3).astype(np.float32), "step": np.array(7)}, {"epoch": "2"}),
        ({"a": rng.standard_normal((2, 2)), "m": rng.uniform(size=5) > 0.5,
          "e": np.zeros((0, 3), np.float32)}, None),
        ({f"layer{i}.weight": rng.standard_normal((2, i + 1)).astype(np.float32)
          for i in range(10)}, {"arch": "mlp"}),
        ({"bytes": rng.integers(0, 255, 17).astype(np.uint8)}, None),
        ({"h": rng.standard_normal(6).astype(np.float16), "i": np.arange(5, dtype=np.int8),
          "u": np.arange(4, dtype=np.uint16)}, None),
        ({"scalar": np.array(1.5)}, {"note": "0-d"}),
    ]
    out = []
    for k, (tensors, metadata) in enumerate(sets):
        path = tmp / f"base{k}.safetensors"
        if k == 1:   # one written by the reference implementation
            st_numpy.save_file(tensors, str(path))
        else:
            save_weights(path, tensors, metadata=metadata)
        out.append(path.read_bytes())
    return out


def _split(blob: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def _join(header: dict | str | bytes, data: bytes) -> bytes:
    raw = header if isinstance(header, bytes) else (
        header if isinstance(header, str) else json.dumps(header)).encode()
    return struct.pack("<Q", len(raw)) + raw + data


_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8,
             "U32": 4, "U16": 2, "U8": 1, "BOOL": 1}


def _entry_lies(entry: dict) -> list[tuple[str, object]]:
    """Changes to one tensor entry that make the file invalid whatever the tensor."""
    size = int(np.prod(entry["shape"]))
    begin, end = entry["data_offsets"]
    lies: list[tuple[str, object]] = [
        ("dtype", "F33"), ("dtype", ""), ("dtype", 5), ("dtype", None), ("dtype", ["F32"]),
        ("dtype", "BF16"), ("dtype", "F8_E4M3"), ("dtype", "C64"), ("dtype", "f32"),
        ("shape", [-1]), ("shape", [1.5]), ("shape", ["3"]), ("shape", [True]),
        ("shape", None), ("shape", "3"), ("shape", {}), ("shape", [[3]]), ("shape", [1] * 40),
        ("shape", [2 ** 64]), ("shape", [2 ** 40, 2 ** 40]),
        ("data_offsets", [end, begin] if end > begin else [begin + 1, begin]),
        ("data_offsets", [-1, end]), ("data_offsets", [begin, 2 ** 64]),
        ("data_offsets", [begin]), ("data_offsets", [begin, end, 0]),
        ("data_offsets", [str(begin), end]), ("data_offsets", [float(begin), end]),
        ("data_offsets", None), ("data_offsets", [begin, end + 10 ** 9]),
        ("extra", 1), ("__whole__", [1, 2]), ("__whole__", "x"), ("__missing__", "shape"),
        ("__missing__", "dtype"), ("__missing__", "data_offsets"),
    ]
    if size:
        other = next(d for d, n in _ITEMSIZE.items() if n != _ITEMSIZE[entry["dtype"]])
        lies += [("dtype", other), ("shape", [*entry["shape"], 2]),
                 ("shape", [size + 1]), ("data_offsets", [begin + 1, end + 1]),
                 ("data_offsets", [begin, end - 1]), ("data_offsets", [begin, end + 1])]
    return lies


def _header_lies(blob: bytes) -> list[bytes]:
    header, data = _split(blob)
    names = [k for k in header if k != "__metadata__"]
    out = []
    for name in names:
        for key, value in _entry_lies(header[name]):
            h = json.loads(json.dumps(header))
            if key == "__whole__":
                h[name] = value
            elif key == "__missing__":
                del h[name][value]
            else:
                h[name][key] = value
            out.append(_join(h, data))
    for metadata in ({"k": 1}, [], "x", {"k": None}, {"k": {"n": "1"}}, {"k": ["v"]}):
        out.append(_join({**header, "__metadata__": metadata}, data))
    text = json.dumps(header)
    out += [
        _join(text + "xyz", data), _join(text[:-1], data), _join("[" + text + "]", data),
        _join(" " + text, data), _join("\ufeff" + text, data), _join("null", data),
        _join("5", data), _join('"x"', data), _join(text.encode("utf-16"), data),
        _join(text.encode()[:-1] + b"\xff}", data), _join(text.replace("}", "}}", 1), data),
        _join(header, data + b"\0"), _join(header, data[:-1] if data else b"\0"),
        blob + b"trailing garbage",
    ]
    return out


def _duplicates(blob: bytes) -> list[bytes]:
    header, data = _split(blob)
    out = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        one = json.dumps({name: entry})[1:-1]
        rest = json.dumps(header)[1:-1]
        out.append(_join("{" + rest + ", " + one + "}", data))            # a tensor twice
        inner = json.dumps(entry)
        doubled = inner[:-1] + ', "dtype": ' + json.dumps(entry["dtype"]) + "}"
        out.append(_join(json.dumps(header).replace(inner, doubled, 1), data))  # a key twice
    out.append(_join(json.dumps(header)[:-1] + ', "__metadata__": {"a": "1"}, '
                                                '"__metadata__": {"b": "2"}}', data))
    out.append(_join('{"__metadata__": {"a": "1", "a": "2"}}', b""))
    return out


def _length_lies(blob: bytes) -> list[bytes]:
    body = blob[8:]
    claims = [0, 1, 2, 7, len(body) + 1, len(body) * 2, 2 ** 31, 2 ** 32, 2 ** 63, 2 ** 64 - 1,
              17 * 2 ** 20]
    return [struct.pack("<Q", c) + body for c in claims]


def _huge_headers() -> list[bytes]:
    big = json.dumps({f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}
                      for i in range(260_000)})          # a valid-looking 17 MB header
    deep = '{"a": ' + "[" * 200_000 + "]" * 200_000 + "}"
    wide = '{"a": {' + ", ".join(f'"k{i}": 1' for i in range(100_000)) + "}}"
    return [_join(big, b""), _join(deep, b""), _join(wide, b"")]


class _Canary:
    """A pickle payload: unpickling it writes a file (what a hostile checkpoint would do)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (builtins.exec, (f"open({str(self.path)!r}, 'w').write('pickle ran')",))


def _pickles(canary: Path) -> list[bytes]:
    payloads = [_Canary(canary), {"weight": _Canary(canary)}, [np.zeros(2), _Canary(canary)]]
    out = []
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        for payload in payloads:
            raw = pickle.dumps(payload, protocol=protocol)
            out.append(raw)
            out.append(struct.pack("<Q", len(raw)) + raw)             # behind a length
            zipped = io.BytesIO()                                     # torch.save's layout
            with zipfile.ZipFile(zipped, "w") as z:
                z.writestr("archive/data.pkl", raw)
            out.append(zipped.getvalue())
    import torch

    buffer = io.BytesIO()
    torch.save({"w": _Canary(canary)}, buffer)
    out.append(buffer.getvalue())
    return out


def _truncations(blob: bytes, rng: np.random.Generator, count: int) -> list[bytes]:
    cuts = sorted(set(range(min(10, len(blob)))) | set(
        rng.integers(0, len(blob), count).tolist()))
    return [blob[:c] for c in cuts]


def _garbage(rng: np.random.Generator, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        n = int(rng.integers(0, 300))
        out.append(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
        text = "".join(rng.choice(list('{}[]":,0123456789abcdeFIU_ '), n))
        out.append(_join(text, b""))
    return out


def invalid_corpus(tmp: Path, canary: Path) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(42)
    bases = _bases(tmp)
    corpus: list[tuple[str, bytes]] = []
    for k, blob in enumerate(bases):
        corpus += [(f"truncated{k}", b) for b in _truncations(blob, rng, 30)]
        corpus += [(f"header-lie{k}", b) for b in _header_lies(blob)]
        corpus += [(f"duplicate{k}", b) for b in _duplicates(blob)]
        corpus += [(f"length-lie{k}", b) for b in _length_lies(blob)]
    corpus += [("huge-header", b) for b in _huge_headers()]
    corpus += [("pickle", b) for b in _pickles(canary)]
    corpus += [("garbage", b) for b in _garbage(rng, 60)]
    return corpus


def _load_timed(path: Path) -> tuple[float, object]:
    start = time.perf_counter()
    try:
        result: object = load_weights(path)
    except Exception as exc:  # classified by the caller
        result = exc
    return time.perf_counter() - start, result


def test_every_malformed_file_is_refused_and_no_pickle_runs(tmp_path, capsys):
    canary = tmp_path / "CANARY"
    corpus = invalid_corpus(tmp_path, canary)
    assert len(corpus) >= 1000
    slowest, kinds = 0.0, {}
    for i, (kind, blob) in enumerate(corpus):
        path = tmp_path / f"fuzz{i:05d}.safetensors"
        path.write_bytes(blob)
        seconds, result = _load_timed(path)
        slowest = max(slowest, seconds)
        assert isinstance(result, FileFormatError), (kind, i, repr(result)[:300])
        message = str(result)
        assert message.startswith(f"{path}: not a valid safetensors weight file: "), message
        assert "\n" not in message and len(message) < 600, message
        kinds[kind.rstrip("0123456789")] = kinds.get(kind.rstrip("0123456789"), 0) + 1
        path.unlink()
    assert not canary.exists(), "a pickle in the corpus was executed"
    with capsys.disabled():
        print(f"\n[measured] weight-file fuzz: {len(corpus)} malformed files, all refused "
              f"(FileFormatError), 0 canaries, slowest load {slowest * 1000:.0f} ms; {kinds}")


def test_the_pickle_payload_is_live(tmp_path):
    # Positive control: the same payload, unpickled, does write its canary. So "0 canaries"
    # above means the loader never unpickled anything, not that the payload was inert.
    canary = tmp_path / "control"
    pickle.loads(pickle.dumps(_Canary(canary)))   # the point of the control
    assert canary.read_text() == "pickle ran"


def _oracle(blob: bytes) -> dict | None:
    try:
        return st_numpy.load(blob)
    except Exception:
        return None


def test_header_bit_flips_agree_with_the_reference_implementation(tmp_path, capsys):
    rng = np.random.default_rng(7)
    bases = _bases(tmp_path)
    path = tmp_path / "flipped.safetensors"
    refused = accepted = 0
    for k in range(600):
        blob = bytearray(bases[k % len(bases)])
        (n,) = struct.unpack("<Q", blob[:8])
        for _ in range(1 + int(rng.integers(0, 4))):
            position = int(rng.integers(0, 8 + n))
            blob[position] ^= 1 << int(rng.integers(0, 8))
        path.write_bytes(bytes(blob))
        try:
            ours = load_weights(path)
        except FileFormatError:
            refused += 1
            continue
        theirs = _oracle(bytes(blob))
        assert theirs is not None, f"we accepted a file safetensors refuses: {bytes(blob)[:200]}"
        assert sorted(ours) == sorted(theirs)
        for name in ours:
            np.testing.assert_array_equal(ours[name], theirs[name])
        accepted += 1
    with capsys.disabled():
        print(f"\n[measured] header bit flips: 600 files, {refused} refused, {accepted} still "
              "valid and identical to safetensors' reading")
    assert refused > 300


@pytest.mark.parametrize("k", range(6))
def test_valid_bases_load_like_the_reference(tmp_path, k):
    blob = _bases(tmp_path)[k]
    path = tmp_path / "ok.safetensors"
    path.write_bytes(blob)
    ours, theirs = load_weights(path), _oracle(blob)
    assert theirs is not None and sorted(ours) == sorted(theirs)
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name])
