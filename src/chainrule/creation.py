"""Factories: tensor, zeros, ones, full, eye, arange, rand, randn and their ``*_like`` forms.

Random factories draw from one seedable generator (:func:`manual_seed`) unless a
``numpy.random.Generator`` is passed.

>>> import chainrule as cr
>>> cr.manual_seed(0)
>>> cr.randn(2, 3).shape
(2, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import DEFAULT_FLOAT, Tensor

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Reseed the generator used by :func:`rand`, :func:`randn` and the nn initializers."""
    global _generator
    _generator = np.random.default_rng(seed)


def default_generator() -> np.random.Generator:
    """The generator random factories use when none is passed."""
    return _generator


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _leaf(array: np.ndarray, requires_grad: bool, name: str | None) -> Tensor:
    t = Tensor._wrap(array)
    t.name = name
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False,
           name: str | None = None) -> Tensor:
    """A tensor from data (copied). Python floats become float32, arrays keep their dtype.

    >>> tensor([1.0, 2.0]).dtype
    dtype('float32')
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def zeros(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False,
          name: str | None = None) -> Tensor:
    return _leaf(np.zeros(_shape(shape), dtype=dtype), requires_grad, name)


def ones(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False,
         name: str | None = None) -> Tensor:
    return _leaf(np.ones(_shape(shape), dtype=dtype), requires_grad, name)


def full(shape: Any, fill_value: float, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False,
         name: str | None = None) -> Tensor:
    return _leaf(np.full(_shape((shape,)), fill_value, dtype=dtype), requires_grad, name)


def eye(n: int, m: int | None = None, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False,
        name: str | None = None) -> Tensor:
    return _leaf(np.eye(n, m, dtype=dtype), requires_grad, name)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False, name: str | None = None) -> Tensor:
    """Evenly spaced values; int64 for integer arguments, float32 otherwise (as PyTorch)."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if integral else DEFAULT_FLOAT
    return _leaf(np.arange(start, stop, step, dtype=dtype), requires_grad, name)


def rand(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False,
         generator: np.random.Generator | None = None, name: str | None = None) -> Tensor:
    """Uniform samples in [0, 1)."""
    rng = generator or _generator
    return _leaf(rng.random(_shape(shape)).astype(dtype), requires_grad, name)


def randn(*shape: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False,
          generator: np.random.Generator | None = None, name: str | None = None) -> Tensor:
    """Standard normal samples."""
    rng = generator or _generator
    return _leaf(rng.standard_normal(_shape(shape)).astype(dtype), requires_grad, name)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Any = None,
              requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t: Tensor, dtype: Any = None, requires_grad: bool = False,
              generator: np.random.Generator | None = None) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad,
                generator=generator)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False,
               generator: np.random.Generator | None = None) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad,
                 generator=generator)
