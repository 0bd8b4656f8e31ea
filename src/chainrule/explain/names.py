"""Names of scalar elements, in the seed's notation for feed-forward networks.

A tensor named ``W1`` gives weights ``w_{1ij}`` (text ``w111``, 1-based), ``b1`` gives biases
``b_{1j}`` (``b11``, also for a one-unit layer), any other name ``N`` gives ``N_i`` with the
singleton dimensions dropped (``x`` of shape (4, 1) -> ``x_1``..``x_4``) and a single element
loses its index (``y_in``, ``L``).
Unnamed tensors get automatic names (``v3``, ``v3[0,1]``, 0-based like the code).

>>> import chainrule as cr
>>> W1 = cr.ones(4, 3, name="W1")
>>> element_name(W1, (0, 0)), element_name(W1, (3, 2), "latex")
('w111', 'w_{143}')
>>> find_element([W1], "w132")[1]
(2, 1)
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor
from .symbolic import Sym

_LAYER = re.compile(r"^([Wb])(\d+)$")
_BRACKETS = re.compile(r"^(?P<name>.+?)\[(?P<index>[\d,\s]*)\]$")


def _join(parts: list[int]) -> str:
    return "".join(map(str, parts)) if all(p < 10 for p in parts) else ",".join(map(str, parts))


def normalize_index(shape: tuple[int, ...], index: Any) -> tuple[int, ...]:
    """An index into ``shape`` as a tuple of non-negative ints (an int is a flat index)."""
    if index is None:
        if int(np.prod(shape)) != 1:
            raise IndexError(f"a tensor of shape {shape} has {int(np.prod(shape))} elements; "
                             "pass index=(i, j, ...) to choose one")
        return (0,) * len(shape)
    if isinstance(index, (int, np.integer)) and len(shape) != 1:
        size = int(np.prod(shape))
        if not -size <= int(index) < size:
            raise IndexError(f"flat index {index} is out of range for shape {shape}")
        return tuple(int(i) for i in np.unravel_index(int(index) % size, shape))
    parts = tuple(index) if isinstance(index, (tuple, list)) else (index,)
    if len(parts) != len(shape) or not all(isinstance(p, (int, np.integer)) for p in parts):
        raise IndexError(f"index {index!r} does not name one element of a tensor of shape "
                         f"{shape}; give {len(shape)} integers")
    out = []
    for p, d in zip(parts, shape):
        if not -d <= int(p) < d:
            raise IndexError(f"index {index!r} is out of range for shape {shape}")
        out.append(int(p) % d)
    return tuple(out)


def symbol(name: str | None, shape: tuple[int, ...], index: tuple[int, ...],
           value: float = float("nan"), auto: str = "v") -> Sym:
    """The symbol of ``tensor[index]`` for a tensor called ``name`` (``auto`` if unnamed)."""
    if not name:
        flat = ",".join(map(str, index))
        text = auto if int(np.prod(shape)) == 1 else f"{auto}[{flat}]"
        digits = auto.lstrip("abcdefghijklmnopqrstuvwxyz")
        letters = auto[:len(auto) - len(digits)]
        latex = f"{letters}_{{{digits}}}" if digits else letters
        if int(np.prod(shape)) != 1:
            latex += f"[{flat}]"
        return Sym(text, latex, base=letters, sub=digits,
                   index=flat if int(np.prod(shape)) != 1 else "", value=value)
    layer = _LAYER.match(name)
    if layer and len(shape) <= 2:
        letter, number = layer.group(1).lower(), layer.group(2)
        # A bias b_{lj} is indexed by its unit j alone, even in a layer of one unit (b31).
        kept = ([index[-1] + 1] if index else []) if letter == "b" else [i + 1 for i in index]
        sub = number + ("," if any(p >= 10 for p in kept) or int(number) >= 10 else "") \
            + _join(kept) if kept else number
        return Sym(letter + sub, f"{letter}_{{{sub}}}", base=letter, sub=sub, value=value)
    base, _, own_sub = name.partition("_")
    kept = [i + 1 for i, d in zip(index, shape) if d != 1]
    sub = ",".join(p for p in (own_sub, _join(kept) if kept else "") if p)
    if not sub:
        return Sym(name, _latex_base(base), base=base, value=value)
    return Sym(f"{base}_{sub}", f"{_latex_base(base)}_{{{sub}}}", base=base, sub=sub,
               value=value)


def _latex_base(base: str) -> str:
    return base if len(base) == 1 else rf"\mathrm{{{base}}}"


def element_name(tensor: Tensor, index: Any = None, fmt: str = "text") -> str:
    """The name of one element of ``tensor``: ``fmt`` is ``"text"`` or ``"latex"``."""
    idx = normalize_index(tensor.shape, index)
    sym = symbol(tensor.name, tensor.shape, idx)
    return sym.latex if fmt == "latex" else sym.text


def _candidates(tensor: Tensor, query: str) -> Iterable[tuple[int, ...]]:
    name = tensor.name
    if not name:
        return
    match = _BRACKETS.match(query.replace(" ", ""))
    if match and match.group("name") == name:   # W1[0, 0]: the code's 0-based index
        parts = tuple(int(p) for p in match.group("index").split(",") if p)
        with contextlib.suppress(IndexError):
            yield normalize_index(tensor.shape, parts)
        return
    if query == name and tensor.data.size == 1:
        yield (0,) * tensor.ndim
        return
    # Seed notation: generate the prefix, then split the remaining digits into indices.
    probe = symbol(name, tensor.shape, (0,) * tensor.ndim)
    layer = _LAYER.match(name)
    prefixes = ([probe.base + name[1:]] if layer else [f"{name}_", name])
    for prefix in prefixes:
        if not query.startswith(prefix) or len(query) == len(prefix):
            continue
        rest = query[len(prefix):].lstrip(",")
        if layer and layer.group(1) == "b":   # b_{lj}: the unit j is the last axis
            for (j,) in _splits(rest, 1):
                if tensor.ndim and 1 <= j <= tensor.shape[-1]:
                    yield (0,) * (tensor.ndim - 1) + (j - 1,)
            continue
        dims = list(tensor.shape) if layer else [d for d in tensor.shape if d != 1]
        for parts in _splits(rest, len(dims)):
            if all(1 <= p <= d for p, d in zip(parts, dims)):
                it = iter(parts)
                yield tuple((next(it) - 1) if (d != 1 or layer) else 0 for d in tensor.shape)


def _splits(rest: str, n: int) -> Iterable[tuple[int, ...]]:
    if "," in rest:
        parts = rest.split(",")
        if len(parts) == n and all(p.isdigit() for p in parts):
            yield tuple(int(p) for p in parts)
        return
    if not rest.isdigit() or n == 0:
        return
    for cut in itertools.combinations(range(1, len(rest)), n - 1):
        bounds = (0, *cut, len(rest))
        pieces = [rest[a:b] for a, b in itertools.pairwise(bounds)]
        if all(not (len(p) > 1 and p[0] == "0") for p in pieces):
            yield tuple(int(p) for p in pieces)


def find_element(tensors: Iterable[Tensor] | Mapping[str, Tensor],
                 name: str) -> tuple[Tensor, tuple[int, ...]]:
    """The tensor and index an element name refers to (``"w111"``, ``"x_2"``, ``"W1[0, 0]"``).

    Raises KeyError naming the tensors searched when nothing (or more than one thing) matches.
    """
    pool = list(tensors.values()) if isinstance(tensors, Mapping) else list(tensors)
    query = name.strip()
    found: list[tuple[Tensor, tuple[int, ...]]] = []
    for tensor in pool:
        for index in _candidates(tensor, query):
            if all(t is not tensor or i != index for t, i in found):
                found.append((tensor, index))
    if len(found) == 1:
        return found[0]
    known = ", ".join(sorted({t.name for t in pool if t.name}))
    if not found:
        raise KeyError(f"no element called {query!r}; the named tensors are {known} (write an "
                       "element as w111 for W1[0, 0], x_2, h_1, or W1[0, 0])")
    listed = ", ".join(f"{t.name}{list(i)}" for t, i in found)
    raise KeyError(f"{query!r} is ambiguous: it could be {listed}; write it as NAME[i, j]")
