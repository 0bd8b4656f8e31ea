"""Datasets, loaders, splits, standardisation and CSV files."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import data


def test_dataloader_batches_cover_every_row_once() -> None:
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=4, shuffle=True, seed=3)
    batches = list(loader)
    assert [len(b[1]) for b in batches] == [4, 4, 2] and len(loader) == 3
    seen = np.concatenate([b[1].data for b in batches])
    assert sorted(seen.tolist()) == list(range(10))
    for xb, yb in batches:
        assert isinstance(xb, cr.Tensor) and np.array_equal(xb.data[:, 0], 2.0 * yb.data)
    again = [b[1].data.tolist() for b in data.DataLoader(data.TensorDataset(X, y), 4, True,
                                                         seed=3)]
    assert again == [b[1].data.tolist() for b in batches]
    second_epoch = [b[1].data.tolist() for b in loader]
    assert second_epoch != again            # a new order every epoch


def test_dataloader_drop_last_order_and_generic_datasets() -> None:
    class Squares(data.Dataset):
        def __len__(self) -> int:
            return 7

        def __getitem__(self, i: int):
            return np.array([float(i)]), i * i

    loader = data.DataLoader(Squares(), batch_size=3, drop_last=True)
    batches = list(loader)
    assert len(loader) == 2 and [b[1].data.tolist() for b in batches] == [[0, 1, 4],
                                                                          [9, 16, 25]]
    assert batches[0][0].shape == (3, 1)
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(Squares(), batch_size=0)
    with pytest.raises(cr.ShapeError, match="one row per example"):
        data.TensorDataset(np.zeros((3, 2)), np.zeros(4))


def test_train_test_split_is_seeded_and_stratified() -> None:
    y = np.array([0] * 80 + [1] * 20)
    X = np.arange(100.0)[:, None]
    X_tr, X_te, _, y_te = data.train_test_split(X, y, test_size=0.25, seed=1, stratify=y)
    assert len(X_te) == 25 and np.bincount(y_te).tolist() == [20, 5]
    assert sorted(np.concatenate([X_tr, X_te])[:, 0].tolist()) == list(range(100))
    again = data.train_test_split(X, y, test_size=0.25, seed=1, stratify=y)
    assert np.array_equal(again[1], X_te)
    other = data.train_test_split(X, y, test_size=0.25, seed=2, stratify=y)
    assert not np.array_equal(other[1], X_te)
    plain = data.train_test_split(X, test_size=10, seed=0)
    assert [len(p) for p in plain] == [90, 10]
    with pytest.raises(ValueError, match="test_size"):
        data.train_test_split(X, test_size=1.5)


def test_standardizer_fits_train_and_survives_constant_features() -> None:
    X = np.array([[1.0, 7.0], [3.0, 7.0]])
    s = data.Standardizer.fit(X)
    Z = s.transform(X)
    assert np.array_equal(Z, [[-1.0, 0.0], [1.0, 0.0]])
    assert np.allclose(s.inverse_transform(Z), X)
    _, te = data.standardize(X, np.array([[2.0, 8.0]]))
    assert np.array_equal(te, [[0.0, 1.0]])


@pytest.mark.parametrize("name,shape,classes", [("iris", (150, 4), 3),
                                                ("digits", (1797, 64), 10),
                                                ("wine", (178, 13), 3),
                                                ("breast_cancer", (569, 30), 2)])
def test_bundled_sklearn_datasets(name, shape, classes) -> None:
    b = data.load_dataset(name)
    assert b.X.shape == shape and b.X.dtype == np.float64 and b.y.dtype == np.int64
    assert b.n_classes == classes and sorted(set(b.y.tolist())) == list(range(classes))
    assert len(b.feature_names) == shape[1]


@pytest.mark.parametrize("name", ["moons", "circles", "spirals", "xor"])
def test_generated_datasets_are_seeded_and_balanced(name) -> None:
    a, b, c = (data.load_dataset(name, seed=s) for s in (0, 0, 1))
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    assert a.X.shape[1] == 2 and len(a.X) == len(a.y)
    counts = np.bincount(a.y)
    assert len(counts) == a.n_classes and counts.min() >= 0.3 * counts.max()


def test_generated_geometry() -> None:
    circles = data.make_circles(200, noise=0.0, factor=0.5)
    radius = np.hypot(*circles.X.T)
    assert np.allclose(radius[circles.y == 0], 1.0) and np.allclose(radius[circles.y == 1], 0.5)
    xor = data.make_xor(100)
    assert np.array_equal(xor.y, (xor.X[:, 0] * xor.X[:, 1] < 0).astype(int))
    with pytest.raises(ValueError, match="unknown dataset 'mnist'"):
        data.load_dataset("mnist")


def test_csv_round_trip_with_named_and_numeric_labels(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,kind\n1,2.5,cat\n3,-4,dog\n5,6e1,cat\n")
    b = data.load_csv(path, target="kind")
    assert b.X.tolist() == [[1, 2.5], [3, -4], [5, 60]] and b.feature_names == ["a", "b"]
    assert b.y.tolist() == [0, 1, 0] and b.target_names == ["cat", "dog"]
    numeric = tmp_path / "n.csv"
    data.save_csv(numeric, b.X, b.y, b.feature_names, "label")
    again = data.load_csv(numeric, target="label")
    assert np.array_equal(again.X, b.X) and again.y.tolist() == [0, 1, 0]
    assert data.load_csv(numeric).X.shape == (3, 3)


@pytest.mark.parametrize("text,target,message", [
    ("a,b\n1,2\n", "c", "no column named 'c'; the columns are a, b"),
    ("a,b\n1,x\n", "a", "line 2, column 'b': 'x' is not a finite number"),
    ("a,b\n1,\n", "a", "an empty cell is not a finite number"),
    ("a,b\n1,2\n3\n", "a", "line 3: 1 fields, the header has 2"),
    ("a,b\n", "a", "at least one data row"),
    ("a,b\n1,nan\n", "a", "'nan' is not a finite number"),
])
def test_csv_errors_name_the_place(tmp_path, text, target, message) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(cr.FileFormatError) as info:
        data.load_csv(path, target=target)
    assert message in str(info.value) and "bad.csv" in str(info.value)
