"""The seed: every number of shared/seed/NOTES.md, with torch as an independent oracle."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.seed import build_seed

NOTES = {
    "a": [2.0, 2.0, 2.0],
    "h": [2.0, 2.0, 2.0],
    "y_in": 6.0,
    "y": "0.9975274",
    "loss": "0.9950609",
    "dW2": "9.84164e-3",
    "dW1_rows": ["-4.92082e-3", "9.84164e-3", "-1.47625e-2", "1.96833e-2"],
}


def assert_matches_printed(values, printed: str) -> None:
    """Every value agrees to 1e-6 and rounds to the digits NOTES.md prints."""
    note = float(printed)
    mantissa = printed.lower().split("e")[0].lstrip("-")
    digits = len(mantissa.replace(".", "").lstrip("0"))
    half_unit = 0.5 * 10.0 ** (np.floor(np.log10(abs(note))) - digits + 1)
    values = np.asarray(values, dtype=np.float64)
    assert np.all(np.abs(values - note) <= 1e-6), (values, printed)
    assert np.all(np.abs(values - note) <= half_unit * (1 + 1e-9)), (values, printed)


@pytest.fixture(scope="module")
def seed():
    return build_seed()


def test_forward_values(seed) -> None:
    np.testing.assert_allclose(seed.a.data.ravel(), NOTES["a"], rtol=1e-6)
    np.testing.assert_allclose(seed.h1.data.ravel(), NOTES["h"], rtol=1e-6)
    assert seed.y_in.item() == pytest.approx(NOTES["y_in"], rel=1e-6)
    assert_matches_printed(seed.y.data, NOTES["y"])
    assert_matches_printed(seed.loss.data, NOTES["loss"])


def test_gradients(seed) -> None:
    assert seed.dW2.shape == (3, 1) and seed.dW1.shape == (4, 3)
    assert_matches_printed(seed.dW2.data, NOTES["dW2"])
    for row, printed in zip(seed.dW1.data, NOTES["dW1_rows"]):
        assert_matches_printed(row, printed)


def test_the_seeds_hand_derivation_is_off_by_one_plus_e_to_the_minus_six(seed) -> None:
    # The seed prints 9.8657e-3 and -4.9328e-3: too large by the factor 1 + e^-6.
    factor = 1 + np.exp(-6.0)
    assert seed.dW2.data[0, 0] * factor == pytest.approx(9.8657e-3, rel=5e-5)
    assert seed.dW1.data[0, 0] * factor == pytest.approx(-4.9328e-3, rel=5e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(dtype) -> None:
    torch = pytest.importorskip("torch")
    ours = build_seed(dtype=dtype)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    x = torch.tensor([[-1.0], [2.0], [-3.0], [4.0]], dtype=tdtype)
    w1 = torch.ones(4, 3, dtype=tdtype, requires_grad=True)
    w2 = torch.ones(3, 1, dtype=tdtype, requires_grad=True)
    loss = (torch.sigmoid(torch.relu(x.T @ w1) @ w2) ** 2).sum()
    g1, g2 = torch.autograd.grad(loss, [w1, w2])
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(ours.dW1.data, g1.numpy(), rtol=tol)
    np.testing.assert_allclose(ours.dW2.data, g2.numpy(), rtol=tol)
    assert ours.dW1.dtype == dtype


def test_central_differences_agree(seed) -> None:
    w1 = cr.ones(4, 3, dtype=np.float64, requires_grad=True)
    w2 = cr.ones(3, 1, dtype=np.float64, requires_grad=True)
    x = cr.tensor([[-1.0, 2.0, -3.0, 4.0]], dtype=np.float64)
    assert cr.gradcheck(lambda a, b: (((x @ a).relu() @ b).sigmoid() ** 2).sum(), [w1, w2])


def test_the_example_script_prints_the_seeds_numbers() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "examples" / "hasktorch_autograd.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "0.00984164" in result.stdout and "-0.00492082" in result.stdout   # dW2, dW1 row 1
    assert "= 9.84164e−3" in result.stdout and "= −4.92082e−3" in result.stdout   # derivations
