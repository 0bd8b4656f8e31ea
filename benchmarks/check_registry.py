"""``python -m benchmarks.check_registry``: the numerics check to run after a speed change.

Every registry entry, every sample: first and second order against float64 central differences
(:func:`chainrule.gradcheck`, :func:`chainrule.gradgradcheck`). Then the fused primitives
against the compositions they replace, on float64 data: cross-entropy must agree bit for bit
(value and gradient), linear to rounding. Prints one line per op and exits 1 on any failure.
"""

from __future__ import annotations

import sys

import numpy as np

import chainrule as cr
from chainrule import engine
from chainrule import functional as F
from chainrule.ops import REGISTRY


def check_registry() -> list[str]:
    failures = []
    for name, op in sorted(REGISTRY.items()):
        count = 0
        for sample in op.samples(np.random.default_rng(1234)):
            inputs = [cr.Tensor(a, dtype=a.dtype, requires_grad=a.dtype.kind == "f")
                      for a in sample.args]

            def fn(*xs: cr.Tensor, _op=op, _params=sample.params) -> cr.Tensor:
                return engine.apply(_op, tuple(xs), _params)
            try:
                cr.gradcheck(fn, inputs)
                cr.gradgradcheck(fn, inputs)
            except cr.GradcheckError as exc:
                failures.append(f"{name} ({sample.note}): {exc}")
            count += 1
        print(f"  {name:14} {count:3d} samples, first and second order")
    return failures


def check_fused() -> list[str]:
    rng = np.random.default_rng(0)
    failures = []
    logits = rng.standard_normal((16, 7)) * 4
    target = rng.integers(0, 7, 16)
    results = []
    for fused in (True, False):
        x = cr.tensor(logits, requires_grad=True)
        if fused:
            loss = F.cross_entropy(x, target)
        else:
            logp = F.log_softmax(x, axis=-1)
            loss = -F.getitem(logp, (np.arange(16), target)).mean()
        loss.backward()
        results.append((loss.data, x.grad.data))
    if not (np.array_equal(results[0][0], results[1][0])
            and np.array_equal(results[0][1], results[1][1])):
        failures.append("cross_entropy: the fused primitive differs from log_softmax + gather")
    X, W, b = rng.standard_normal((8, 5)), rng.standard_normal((3, 5)), rng.standard_normal(3)
    grads = []
    for fused in (True, False):
        ts = [cr.tensor(a, requires_grad=True) for a in (X, W, b)]
        out = (F.linear(*ts) if fused else F.matmul(ts[0], ts[1].T) + ts[2])
        (out * out).sum().backward()
        grads.append([out.data] + [t.grad.data for t in ts])
    if not all(np.allclose(a, c, rtol=1e-13, atol=1e-13) for a, c in zip(*grads)):
        failures.append("linear: the fused primitive differs from matmul + transpose + add")
    print(f"  fused primitives against their compositions: {len(failures)} differences")
    return failures


def main() -> int:
    failures = check_registry() + check_fused()
    for failure in failures:
        print("FAILED", failure)
    print(f"{len(REGISTRY)} ops checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
