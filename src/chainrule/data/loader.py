"""Dataset, TensorDataset and DataLoader: batches of tensors, shuffled reproducibly.

>>> import numpy as np
>>> from chainrule.data import DataLoader, TensorDataset
>>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> loader = DataLoader(ds, batch_size=2, shuffle=True, seed=0)
>>> [y.tolist() for _, y in loader]
[[2, 4], [3, 0], [1]]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import ShapeError, shape_str
from ..tensor import Tensor


class Dataset:
    """Anything with ``__len__`` and ``__getitem__(i)`` returning a tuple of arrays."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError


class TensorDataset(Dataset):
    """Rows of equally long arrays: ``ds[i] == (a[i], b[i], ...)``."""

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: give at least one array")
        self.arrays = [np.asarray(a.data if isinstance(a, Tensor) else a) for a in arrays]
        n = len(self.arrays[0])
        for i, a in enumerate(self.arrays):
            if a.ndim == 0 or len(a) != n:
                raise ShapeError(f"TensorDataset: array {i} has shape {shape_str(a.shape)} but "
                                 f"array 0 has {n} rows; every array needs one row per example")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Iterate over a dataset in batches of tensors.

    Args:
        dataset: a :class:`Dataset` (a :class:`TensorDataset` is sliced without copying rows
            one at a time).
        batch_size: rows per batch.
        shuffle: draw a new order every epoch from the loader's own generator.
        drop_last: skip a last batch smaller than ``batch_size``.
        seed: seeds the shuffling generator (or pass ``generator``); its state is
            ``loader.generator.bit_generator.state``, which a checkpoint can save and restore.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        if int(batch_size) < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.generator = generator if generator is not None else np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def _batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        if isinstance(self.dataset, TensorDataset):
            columns: Sequence[Any] = [a[indices] for a in self.dataset.arrays]
        else:
            rows = [self.dataset[int(i)] for i in indices]
            rows = [r if isinstance(r, tuple) else (r,) for r in rows]
            columns = [np.stack([np.asarray(r[j]) for r in rows]) for j in range(len(rows[0]))]
        return tuple(Tensor._wrap(np.ascontiguousarray(c)) for c in columns)
