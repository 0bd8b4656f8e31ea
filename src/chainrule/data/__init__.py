"""Data for training: datasets, loaders, splitting and standardisation.

>>> from chainrule import data
>>> b = data.make_xor(40, seed=1)
>>> X_tr, X_te, y_tr, y_te = data.train_test_split(b.X, b.y, test_size=0.25, seed=0)
>>> len(X_tr), len(X_te)
(30, 10)
"""

from __future__ import annotations

from .datasets import (
    DATASETS,
    Bundle,
    load_breast_cancer,
    load_csv,
    load_dataset,
    load_digits,
    load_iris,
    load_wine,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    save_csv,
)
from .loader import DataLoader, Dataset, TensorDataset
from .prep import Standardizer, standardize, train_test_split

__all__ = [
    "DATASETS", "Bundle", "DataLoader", "Dataset", "Standardizer", "TensorDataset",
    "load_breast_cancer", "load_csv", "load_dataset", "load_digits", "load_iris", "load_wine",
    "make_circles", "make_moons", "make_spirals", "make_xor", "save_csv", "standardize",
    "train_test_split",
]
