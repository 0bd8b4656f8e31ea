"""Datasets: the four that scikit-learn ships inside its package (no downloads), four generated
ones (seeded), and the user's own CSV file.

Every loader returns a :class:`Bundle` of features ``X`` (float64, one row per example),
labels ``y`` (int64 class indices; float64 for a regression target) and names.

>>> b = make_moons(100, seed=0)
>>> b.X.shape, sorted(set(b.y.tolist()))
((100, 2), [0, 1])
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError


@dataclass
class Bundle:
    """Features, labels and their names."""

    name: str
    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_names: list[str] = field(default_factory=list)
    target: str = "target"
    target_labels: list[str] = field(default_factory=list)   # a CSV's raw label cells

    @property
    def n_classes(self) -> int:
        return len(self.target_names)


def _sklearn(name: str) -> Bundle:
    # NOTE: imported here, never at import time: scikit-learn takes over a second to load.
    from sklearn import datasets

    raw = getattr(datasets, f"load_{name}")()
    return Bundle(name, np.asarray(raw.data, dtype=np.float64),
                  np.asarray(raw.target, dtype=np.int64),
                  [str(f) for f in raw.feature_names], [str(t) for t in raw.target_names])


def load_iris() -> Bundle:
    """Fisher's iris: 150 flowers, 4 measurements, 3 species."""
    return _sklearn("iris")


def load_digits() -> Bundle:
    """8x8 handwritten digits: 1797 images, 64 pixel intensities (0-16), 10 classes."""
    return _sklearn("digits")


def load_wine() -> Bundle:
    """178 wines, 13 chemical measurements, 3 cultivars."""
    return _sklearn("wine")


def load_breast_cancer() -> Bundle:
    """569 tumours, 30 features, malignant or benign."""
    return _sklearn("breast_cancer")


def _finish(name: str, X: np.ndarray, y: np.ndarray, rng: np.random.Generator,
            noise: float, classes: int) -> Bundle:
    X = X + rng.normal(0.0, noise, X.shape) if noise else X
    order = rng.permutation(len(X))
    return Bundle(name, X[order], y[order].astype(np.int64), ["x0", "x1"],
                  [str(c) for c in range(classes)])


def _counts(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> Bundle:
    """Two interleaving half circles (as scikit-learn's ``make_moons``)."""
    rng = np.random.default_rng(seed)
    n0, n1 = _counts(n, 2)
    a, b = np.linspace(0, math.pi, n0), np.linspace(0, math.pi, n1)
    X = np.vstack([np.c_[np.cos(a), np.sin(a)], np.c_[1 - np.cos(b), 0.5 - np.sin(b)]])
    return _finish("moons", X, np.repeat([0, 1], [n0, n1]), rng, noise, 2)


def make_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5,
                 seed: int = 0) -> Bundle:
    """A small circle (class 1) inside a large one (class 0)."""
    rng = np.random.default_rng(seed)
    n0, n1 = _counts(n, 2)
    a = np.linspace(0, 2 * math.pi, n0, endpoint=False)
    b = np.linspace(0, 2 * math.pi, n1, endpoint=False)
    X = np.vstack([np.c_[np.cos(a), np.sin(a)], factor * np.c_[np.cos(b), np.sin(b)]])
    return _finish("circles", X, np.repeat([0, 1], [n0, n1]), rng, noise, 2)


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0) -> Bundle:
    """Interleaved spiral arms, one per class (the CS231n spiral): a classic nonlinear task."""
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for k, m in enumerate(_counts(n, classes)):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, m) + rng.normal(0.0, noise, m)
        parts.append(np.c_[r * np.sin(t), r * np.cos(t)])
        labels.append(np.full(m, k))
    return _finish("spirals", np.vstack(parts), np.concatenate(labels), rng, 0.0, classes)


def make_xor(n: int = 200, noise: float = 0.0, seed: int = 0) -> Bundle:
    """Points in [-1, 1]^2 labelled 1 where exactly one coordinate is positive."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    return _finish("xor", X, y, rng, noise, 2)


#: Dataset names accepted by ``chainrule train --dataset``.
DATASETS: dict[str, Callable[..., Bundle]] = {
    "iris": load_iris, "digits": load_digits, "wine": load_wine,
    "breast_cancer": load_breast_cancer, "moons": make_moons, "circles": make_circles,
    "spirals": make_spirals, "xor": make_xor,
}
GENERATED = ("moons", "circles", "spirals", "xor")


def load_dataset(name: str, seed: int = 0) -> Bundle:
    """A dataset by name; generated ones are drawn with ``seed``."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}, or "
                         "give your own CSV file with --data PATH --target COLUMN")
    return DATASETS[name](seed=seed) if name in GENERATED else DATASETS[name]()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def load_csv(path: str | Path, target: str | None = None, delimiter: str = ",",
             labels_as_text: bool = False) -> Bundle:
    """A CSV file with a header row; every column but ``target`` must be numeric.

    The target column may hold numbers (integers become class indices, other numbers a
    regression target) or names (classes, numbered in sorted order); its raw cells are kept in
    ``target_labels`` (and only there with ``labels_as_text``). Errors name the file, the line
    and the column.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=delimiter))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise FileFormatError(f"{path}: needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    if target is not None and target not in header:
        raise FileFormatError(f"{path}: no column named {target!r}; the columns are "
                              f"{', '.join(header)}")
    t_col = header.index(target) if target is not None else -1
    features = [h for i, h in enumerate(header) if i != t_col]
    if not features:
        raise FileFormatError(f"{path}: no feature columns besides the target {target!r}")
    X = np.empty((len(rows) - 1, len(features)))
    labels: list[str] = []
    for r, row in enumerate(rows[1:]):
        line = r + 2
        if len(row) != len(header):
            raise FileFormatError(f"{path}, line {line}: {len(row)} fields, the header has "
                                  f"{len(header)}")
        j = 0
        for i, cell in enumerate(row):
            if i == t_col:
                labels.append(cell.strip())
                continue
            value = _number(cell)
            if value is None or not math.isfinite(value):
                what = "an empty cell" if not cell.strip() else f"{cell.strip()!r}"
                raise FileFormatError(f"{path}, line {line}, column {header[i]!r}: {what} is "
                                      "not a finite number; features must be numeric (encode "
                                      "categories as numbers, fill missing values)")
            X[r, j] = value
            j += 1
    y, names = (None, [])
    if target is not None and not labels_as_text:
        y, names = _targets(labels, path, target)
    return Bundle(path.stem, X, y, features, names, target or "target", labels)


def _targets(labels: list[str], path: Path, target: str) -> tuple[np.ndarray, list[str]]:
    values = [_number(v) for v in labels]
    if any(not v for v in labels):
        raise FileFormatError(f"{path}: column {target!r} has an empty cell at line "
                              f"{labels.index('') + 2}")
    if all(v is not None for v in values):
        arr = np.array(values, dtype=np.float64)
        if np.all(arr == np.round(arr)) and arr.min() >= 0:
            ints = arr.astype(np.int64)
            return ints, [str(c) for c in range(int(ints.max()) + 1)]
        return arr, []
    names = sorted(set(labels))
    lookup = {name: i for i, name in enumerate(names)}
    return np.array([lookup[v] for v in labels], dtype=np.int64), names


def save_csv(path: str | Path, X: Any, y: Any = None, feature_names: list[str] | None = None,
             target: str = "target") -> None:
    """Write features (and a target column) as a CSV that :func:`load_csv` reads back."""
    X = np.asarray(X)
    names = feature_names or [f"x{i}" for i in range(X.shape[1])]
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*names, target] if y is not None else names)
        for i, row in enumerate(X):
            cells = [repr(float(v)) for v in row]
            w.writerow([*cells, np.asarray(y)[i].item()] if y is not None else cells)
