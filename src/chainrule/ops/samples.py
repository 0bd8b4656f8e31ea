"""Sample inputs for the tests generated from the registry.

Gradient checks need inputs away from kinks (relu at 0, abs at 0, ties of max): a central
difference straddling a kink measures the average of two one-sided slopes, not the derivative.
Kinks themselves are tested separately against PyTorch's conventions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import numpy as np

from .registry import Sample

#: The broadcasting shapes every elementwise op is checked over, alone and in pairs.
BROADCAST_SHAPES: tuple[tuple[int, ...], ...] = ((), (4,), (3, 4), (1, 4), (3, 1))

Domain = tuple[float, float]
MARGIN = 0.1


def uniform(rng: np.random.Generator, shape: tuple[int, ...], domain: Domain,
            kinks: tuple[float, ...] = ()) -> np.ndarray:
    """Float64 values in ``domain``, each at least ``MARGIN`` away from every kink."""
    values = rng.uniform(domain[0], domain[1], size=shape)
    for kink in kinks:
        close = np.abs(values - kink) < MARGIN
        values = np.where(close, kink + np.where(values >= kink, 2, -2) * MARGIN, values)
    return np.asarray(values, dtype=np.float64)


def unary(domain: Domain = (-2.0, 2.0), kinks: tuple[float, ...] = (),
          **params: object) -> Callable[[np.random.Generator], Iterator[Sample]]:
    """Samples for a one-input elementwise op over every broadcasting shape."""
    def generate(rng: np.random.Generator) -> Iterator[Sample]:
        for shape in BROADCAST_SHAPES:
            yield Sample((uniform(rng, shape, domain, kinks),), dict(params), f"x{shape}")
    return generate


def binary(x_domain: Domain = (-2.0, 2.0), y_domain: Domain = (-2.0, 2.0),
           avoid_ties: bool = False) -> Callable[[np.random.Generator], Iterator[Sample]]:
    """Samples for a two-input elementwise op over every pair of broadcasting shapes."""
    def generate(rng: np.random.Generator) -> Iterator[Sample]:
        for x_shape, y_shape in itertools.product(BROADCAST_SHAPES, repeat=2):
            x = uniform(rng, x_shape, x_domain)
            y = uniform(rng, y_shape, y_domain)
            while avoid_ties and np.any(np.abs(x - y) < MARGIN):
                y = uniform(rng, y_shape, y_domain)
            yield Sample((x, y), {}, f"x{x_shape} y{y_shape}")
    return generate
