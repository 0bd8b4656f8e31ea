"""Tests generated from the op registry: every primitive, every sample, first and second order.

A new op gets these checks by being registered; the completeness tests fail for an entry that
lacks a derivative, samples or a printable form.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

import chainrule as cr
from chainrule import engine
from chainrule.ops import (
    NOT_DIFFERENTIABLE,
    REGISTRY,
    Derivative,
    IncompleteOpError,
    Op,
    Sample,
    validate,
)
from chainrule.ops.samples import BROADCAST_SHAPES

CASES = [(name, i, sample) for name, op in REGISTRY.items()
         for i, sample in enumerate(op.samples(np.random.default_rng(1234)))]


def _inputs(sample: Sample) -> list[cr.Tensor]:
    return [cr.Tensor(a, dtype=a.dtype, requires_grad=a.dtype.kind == "f") for a in sample.args]


def _function(op: Op, sample: Sample):
    return lambda *xs: engine.apply(op, tuple(xs), sample.params)


@pytest.mark.parametrize(("name", "index", "sample"), CASES,
                         ids=[f"{n}-{i}-{s.note}" for n, i, s in CASES])
def test_first_order_gradient(name: str, index: int, sample: Sample) -> None:
    assert cr.gradcheck(_function(REGISTRY[name], sample), _inputs(sample))


@pytest.mark.parametrize(("name", "index", "sample"), CASES,
                         ids=[f"{n}-{i}-{s.note}" for n, i, s in CASES])
def test_second_order_gradient(name: str, index: int, sample: Sample) -> None:
    assert cr.gradgradcheck(_function(REGISTRY[name], sample), _inputs(sample))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_entry_is_complete(name: str) -> None:
    op = REGISTRY[name]
    validate(op)
    assert list(op.samples(np.random.default_rng(0))), f"{name} has no samples"
    assert len(op.numpy_vjps) == len(op.derivatives)


@pytest.mark.parametrize("name", sorted(n for n, op in REGISTRY.items()
                                        if op.elementwise and op.inputs == ("x", "y")))
def test_binary_elementwise_ops_cover_every_broadcasting_pair(name: str) -> None:
    pairs = {(s.args[0].shape, s.args[1].shape)
             for s in REGISTRY[name].samples(np.random.default_rng(0))}
    assert pairs == set(itertools.product(BROADCAST_SHAPES, repeat=2))


@pytest.mark.parametrize("name", sorted(n for n, op in REGISTRY.items()
                                        if op.elementwise and op.inputs == ("x",)))
def test_unary_elementwise_ops_cover_every_broadcasting_shape(name: str) -> None:
    shapes = {s.args[0].shape for s in REGISTRY[name].samples(np.random.default_rng(0))}
    assert shapes == set(BROADCAST_SHAPES)


def _planted(**changes: object) -> Op:
    return dataclasses.replace(REGISTRY["mul"], name="planted", **changes)


@pytest.mark.parametrize(("changes", "message"), [
    ({"derivatives": (Derivative("y"), None)}, "no derivative for input 'y'"),
    ({"derivatives": (Derivative("y"),)}, "1 derivatives for 2 inputs"),
    ({"samples": None}, "no sample inputs"),
    ({"expr": ""}, "no printable expr"),
    ({"derivatives": (Derivative("y"), Derivative("z * 2"))}, "unknown names ['z']"),
    ({"derivatives": (Derivative("y"), Derivative())}, "needs a formula"),
])
def test_completeness_check_fails_on_a_planted_incomplete_entry(changes: dict[str, object],
                                                                 message: str) -> None:
    with pytest.raises(IncompleteOpError, match="planted") as info:
        validate(_planted(**changes))
    assert message in str(info.value)


def test_structural_entry_without_template_is_incomplete() -> None:
    op = dataclasses.replace(REGISTRY["sum"], name="planted_sum",
                             derivatives=(Derivative(backward=lambda *a: None),))
    with pytest.raises(IncompleteOpError, match="needs a backward and a template"):
        validate(op)


def test_not_differentiable_inputs_are_explicit() -> None:
    assert REGISTRY["where"].derivatives[0] is NOT_DIFFERENTIABLE


def test_a_wrong_derivative_is_caught_by_the_generated_check() -> None:
    """The generated checks can fail: a sigmoid derivative that drops a factor is caught."""
    op = REGISTRY["sigmoid"]
    wrong = dataclasses.replace(op, name="sigmoid_wrong", derivatives=(Derivative("out"),))
    from chainrule.ops.backends import NUMPY
    from chainrule.ops.registry import _compile_vjps

    wrong.numpy_vjps = _compile_vjps(wrong, NUMPY)
    wrong.uses_out = True
    x = cr.tensor([0.3, -1.2], dtype=np.float64, requires_grad=True)
    with pytest.raises(cr.GradcheckError, match=r"d output\[0\] / d input 0\[0\]"):
        cr.gradcheck(lambda t: engine.apply(wrong, (t,)), [x])
