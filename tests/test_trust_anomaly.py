"""Anomaly mode: 20 planted faults, each located at the right op, stage and line of user code.

Each fault is a small function; the line marked ``# FAULT`` creates the tensor whose op goes
wrong. The test reads that line number from the source, so the expected location is derived
from the code, not typed in.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.errors import AnomalyError


def t64(values, requires_grad=True):
    return cr.tensor(values, dtype=np.float64, requires_grad=requires_grad)


def t32(values, requires_grad=True):
    return cr.tensor(values, dtype=np.float32, requires_grad=requires_grad)


# ---- forward faults: a non-finite value appears in an op's result --------------------------
def log_of_zero():
    x = t64([1.0, 0.0])
    y = x.log()  # FAULT
    return y.sum()


def log_of_negative():
    x = t64([2.0, -1.0])
    y = (x * 3).log()  # FAULT
    return y.sum()


def divide_by_zero():
    x, y = t64([1.0, 2.0]), t64([1.0, 0.0])
    z = x / y  # FAULT
    return z.sum()


def zero_over_zero():
    x = t64([0.0, 1.0])
    z = (x * 0) / (x * 0)  # FAULT
    return z.sum()


def exp_overflow_float64():
    x = t64([1.0, 800.0])
    z = x.exp()  # FAULT
    return z.sum()


def exp_overflow_float32():
    x = t32([1.0, 100.0])
    z = x.exp()  # FAULT
    return z.sum()


def sqrt_of_negative():
    x = t64([4.0, 1.0])
    z = (x - 2).sqrt()  # FAULT
    return z.sum()


def negative_base_fractional_power():
    x = t64([-8.0, 8.0])
    z = x ** 0.5  # FAULT
    return z.sum()


def log1p_of_minus_one():
    x = t64([0.5, -1.0])
    z = x.log1p()  # FAULT
    return z.sum()


def product_overflow():
    x = t64([1e200, 1.0])
    z = x * x  # FAULT
    return z.sum()


def matmul_overflow():
    a = t64([[1e200, 1e200]])
    b = t64([[1e200], [1e200]])
    z = a @ b  # FAULT
    return z.sum()


def sum_overflow():
    x = t64([1e308, 1e308, 1.0])
    z = x.sum()  # FAULT
    return z


def mean_overflow():
    x = t64([[1e308, 1e308], [1.0, 2.0]])
    z = x.mean(axis=1)  # FAULT
    return z.sum()


def zero_to_negative_power():
    x = t64([0.0, 2.0])
    z = x ** -1.0  # FAULT
    return z.sum()


# ---- backward faults: the values are finite, a derivative is not ---------------------------
def sqrt_derivative_at_zero():
    x = t64([4.0, 0.0])
    z = x.sqrt()  # FAULT
    return z.sum()


def half_power_derivative_at_zero():
    x = t64([0.0, 1.0])
    z = x ** 0.5  # FAULT
    return z.sum()


def division_derivative_overflow():
    x, y = t64([1.0, 1.0]), t64([1e-170, 1.0])
    z = x / y  # FAULT
    return z.sum()


def log_derivative_of_subnormal():
    x = t64([1e-320, 1.0])
    z = x.log()  # FAULT
    return z.sum()


def matmul_backward_overflow():
    a = t64([1e200, 1.0])
    b = t64([1e-200, 1.0])
    z = a @ b  # FAULT
    return z * 1e300


def float32_division_backward_overflow():
    x, y = t32([1.0, 2.0]), t32([1e-20, 1.0])
    z = x / y  # FAULT
    return z.sum()


FAULTS = [
    (log_of_zero, "log", "forward"),
    (log_of_negative, "log", "forward"),
    (divide_by_zero, "div", "forward"),
    (zero_over_zero, "div", "forward"),
    (exp_overflow_float64, "exp", "forward"),
    (exp_overflow_float32, "exp", "forward"),
    (sqrt_of_negative, "sqrt", "forward"),
    (negative_base_fractional_power, "pow", "forward"),
    (log1p_of_minus_one, "log1p", "forward"),
    (product_overflow, "mul", "forward"),
    (matmul_overflow, "matmul", "forward"),
    (sum_overflow, "sum", "forward"),
    (mean_overflow, "mean", "forward"),
    (zero_to_negative_power, "pow", "forward"),
    (sqrt_derivative_at_zero, "sqrt", "backward"),
    (half_power_derivative_at_zero, "pow", "backward"),
    (division_derivative_overflow, "div", "backward"),
    (log_derivative_of_subnormal, "log", "backward"),
    (matmul_backward_overflow, "matmul", "backward"),
    (float32_division_backward_overflow, "div", "backward"),
]


def _fault_line(fn) -> int:
    lines, start = inspect.getsourcelines(fn)
    (offset,) = [i for i, line in enumerate(lines) if "# FAULT" in line]
    return start + offset


def test_twenty_distinct_faults():
    assert len(FAULTS) == 20 and len({fn.__name__ for fn, _, _ in FAULTS}) == 20


@pytest.mark.parametrize(("fault", "op", "stage"), FAULTS, ids=[f[0].__name__ for f in FAULTS])
def test_fault_is_located_at_the_right_op_and_line(fault, op, stage):
    with np.errstate(all="ignore"), pytest.raises(AnomalyError) as info, cr.detect_anomaly():
        loss = fault()
        assert stage == "backward", "a forward fault must raise before backward"
        loss.sum().backward()
    message = str(info.value)
    if stage == "forward":
        assert message.startswith(f"'{op}' produced ")
        assert "in its forward value" in message
    else:
        assert message.startswith(f"the gradient that '{op}' passes back")
        assert "in backward" in message
    assert f"{__file__}:{_fault_line(fault)} in {fault.__name__}()" in message
    assert "# FAULT" in message                       # the source line itself is quoted
    assert " in [" in message                          # the input ranges are given


def test_message_gives_ranges_formula_and_counts():
    x = t64([4.0, 0.0, 9.0])
    with np.errstate(all="ignore"), pytest.raises(AnomalyError) as info, cr.detect_anomaly():
        x.sqrt().sum().backward()
    message = str(info.value)
    assert "holds inf (1 of 3 elements)" in message
    assert "d out / d x = 1 / (2 * out)" in message
    assert "x (3,) in [0, 9]" in message and "out in [0, 3]" in message


def test_clean_computation_passes_and_mode_is_scoped():
    x = t64([0.5, -2.0, 3.0])
    with cr.detect_anomaly():
        loss = F.cross_entropy(x.reshape(1, 3) * 2, np.array([2])) + x.sigmoid().sum()
        loss.backward()
    assert np.isfinite(x.grad.data).all()
    with np.errstate(all="ignore"):
        y = t64([0.0]).log()                           # outside the block: no check
    assert np.isneginf(y.data).all()
    assert cr.engine.STATE.anomaly_hook is None


def test_input_that_already_holds_inf_is_reported_as_such():
    x = t64([np.inf, 1.0])
    with pytest.raises(AnomalyError, match="input 0 already held non-finite values"), \
            cr.detect_anomaly():
        _ = x * 2


def test_nan_in_second_order_gradient_is_caught():
    x = t64([0.0, 1.0])
    with np.errstate(all="ignore"), pytest.raises(AnomalyError, match="'pow'") as info, \
            cr.detect_anomaly():
        (g,) = cr.grad((x ** 1.5).sum(), [x], create_graph=True)  # FAULT
        g.sum().backward()
    line = _fault_line(test_nan_in_second_order_gradient_is_caught)
    assert f"{__file__}:{line} in test_nan_in_second_order_gradient_is_caught()" in str(
        info.value)


def test_no_false_alarm_on_any_registry_sample():
    # Every op on every registry sample (all finite by construction): anomaly mode stays
    # silent and changes no number.
    from chainrule import engine
    from chainrule.ops import REGISTRY

    checked = 0
    for name, op in sorted(REGISTRY.items()):
        for sample in op.samples(np.random.default_rng(0)):
            results = []
            for anomaly in (False, True):
                tensors = [cr.tensor(a, dtype=a.dtype, requires_grad=a.dtype.kind == "f")
                           for a in sample.args]
                with cr.detect_anomaly() if anomaly else np.errstate():
                    out = engine.apply(op, tuple(tensors), sample.params)
                    leaves = [t for t in tensors if t.requires_grad]
                    grads = cr.grad(out, leaves, grad_outputs=cr.ones_like(out))
                results.append([out.data, *(g.data for g in grads)])
            for a, b in zip(*results):
                np.testing.assert_array_equal(a, b, err_msg=name)
            checked += 1
    assert checked > 100
