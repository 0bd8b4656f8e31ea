"""Splitting and standardisation.

>>> import numpy as np
>>> X = np.arange(20.0).reshape(10, 2); y = np.array([0, 1] * 5)
>>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=0, stratify=y)
>>> len(X_tr), len(X_te), sorted(y_te.tolist())
(8, 2, [0, 1])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ShapeError, shape_str


def train_test_split(*arrays: Any, test_size: float = 0.2, seed: int = 0,
                     stratify: Any = None) -> list[np.ndarray]:
    """Split arrays into train and test rows: ``X_train, X_test, y_train, y_test, ...``.

    ``test_size`` is a fraction in (0, 1) or a row count. With ``stratify`` (class labels) each
    class keeps its proportion in both parts (at least one row of each class stays in train).
    """
    if not arrays:
        raise ValueError("train_test_split: give at least one array")
    arrays_ = [np.asarray(a) for a in arrays]
    n = len(arrays_[0])
    for i, a in enumerate(arrays_):
        if len(a) != n:
            raise ShapeError(f"train_test_split: array {i} has {len(a)} rows, array 0 has {n}")
    count = test_size >= 1
    fraction = test_size / n if count else float(test_size)
    if not 0 < fraction < 1 or (count and test_size != int(test_size)):
        raise ValueError(f"train_test_split: test_size must be a fraction in (0, 1) or a row "
                         f"count below {n}, got {test_size!r}")
    rng = np.random.default_rng(seed)
    if stratify is None:
        order = rng.permutation(n)
        n_test = max(1, round(fraction * n))
        test, train = order[:n_test], order[n_test:]
    else:
        labels = np.asarray(stratify)
        if labels.shape != (n,):
            raise ShapeError(f"train_test_split: stratify labels have shape "
                             f"{shape_str(labels.shape)}, expected ({n},)")
        test_parts, train_parts = [], []
        for cls in np.unique(labels):
            idx = rng.permutation(np.flatnonzero(labels == cls))
            k = min(round(fraction * len(idx)), len(idx) - 1)
            test_parts.append(idx[:k])
            train_parts.append(idx[k:])
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    if len(train) == 0 or len(test) == 0:
        raise ValueError(f"train_test_split: {n} rows are too few to split with test_size "
                         f"{test_size}")
    out = []
    for a in arrays_:
        out += [a[train], a[test]]
    return out


@dataclass
class Standardizer:
    """Per-feature ``(x - mean) / std``, fitted on training data only.

    >>> s = Standardizer.fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
    >>> s.transform(np.array([[1.0, 5.0]]))
    array([[0., 0.]])
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X: Any) -> Standardizer:
        X = np.asarray(X, dtype=np.float64)
        std = X.std(axis=0)
        # NOTE: a constant feature (std 0, e.g. digits' always-blank corner pixels) is divided
        # by 1 instead: it becomes 0 everywhere rather than NaN.
        std = np.where(std > 0, std, 1.0)
        return cls(X.mean(axis=0), std)

    def transform(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.shape[-1:] != self.mean.shape:
            raise ShapeError(f"Standardizer: data with {X.shape[-1]} features, fitted on "
                             f"{self.mean.shape[0]}")
        return (X - self.mean) / self.std

    def inverse_transform(self, X: Any) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) * self.std + self.mean


def standardize(train: Any, *others: Any) -> tuple[np.ndarray, ...]:
    """Fit a :class:`Standardizer` on ``train`` and apply it to ``train`` and ``others``."""
    s = Standardizer.fit(train)
    return tuple(s.transform(a) for a in (train, *others))
