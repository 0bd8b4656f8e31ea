"""The Optimizer base class: parameter groups, per-parameter state, state dicts.

Subclasses implement ``_update(p, grad, state, group)`` in NumPy, following PyTorch's
single-tensor update formulas line by line, and return the parameter's new array. The base class
runs them without recording a graph and assigns ``p.data`` a fresh array: neither ``p.grad`` nor
an array the caller may still hold is ever written into.

The state dict has PyTorch's shape (``{"state": {index: {...}}, "param_groups": [...]}``) and
:func:`flatten_state` turns it into arrays plus JSON for a safetensors file, so training can be
resumed exactly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..engine import no_grad
from ..errors import ChainruleError, shape_str
from ..tensor import Tensor


class OptimizerError(ChainruleError, ValueError):
    """Bad optimizer arguments (no parameters, a non-finite learning rate) or state."""


def check_hyper(where: str, name: str, value: Any, low: float = 0.0,
                high: float = math.inf, high_open: bool = False) -> float:
    """``value`` as a finite float in [low, high] (or [low, high)), else a clear error."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise OptimizerError(f"{where}: {name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < low or v > high or (high_open and v == high):
        upper = "" if high == math.inf else (f" and below {high}" if high_open
                                             else f" and at most {high}")
        raise OptimizerError(f"{where}: {name} must be finite, at least {low}{upper}; "
                             f"got {value!r}")
    return v


class Optimizer:
    """Base class. ``params`` is an iterable of tensors or of dicts (parameter groups)."""

    defaults: dict[str, Any]

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        items = list(params) if not isinstance(params, Tensor) else [params]
        if not items:
            raise OptimizerError(f"{name}: got an empty parameter list; pass model.parameters() "
                                 "of a model that has parameters")
        groups = items if isinstance(items[0], Mapping) else [{"params": items}]
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        seen: set[int] = set()
        for group in groups:
            group = dict(group)
            ps = group["params"]
            ps = [ps] if isinstance(ps, Tensor) else list(ps)
            if not ps:
                raise OptimizerError(f"{name}: a parameter group has no parameters")
            for p in ps:
                if not isinstance(p, Tensor) or not p.requires_grad or not p.is_leaf:
                    raise OptimizerError(f"{name}: can only optimize leaf tensors that require "
                                         f"grad, got {type(p).__name__}")
                if id(p) in seen:
                    raise OptimizerError(f"{name}: a parameter appears twice")
                seen.add(id(p))
            group["params"] = ps
            for key, value in defaults.items():
                group.setdefault(key, value)
            self._check_group(group)
            self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        group["lr"] = check_hyper(type(self).__name__, "lr", group["lr"])

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget gradients (set to None by default, as PyTorch; else to fresh zeros)."""
        for p in self._params():
            p.grad = None if set_to_none or p.grad is None else Tensor._wrap(
                np.zeros_like(p.data))

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        index = 0
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        state = self.state.setdefault(index, {})
                        grad = p.grad.data
                        if group.get("maximize"):
                            grad = -grad
                        p.data = self._update(p.data, grad, state, group)
                        # NOTE: a new value, as after an in-place update: a graph that saved
                        # p before this step now refuses to backward instead of using it.
                        p.mark_modified()
                    index += 1

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> np.ndarray:
        raise NotImplementedError

    # ---- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {name: array or number}}, "param_groups": [...]}`` (copies)."""
        groups, start = [], 0
        for g in self.param_groups:
            n = len(g["params"])
            groups.append({**{k: v for k, v in g.items() if k != "params"},
                           "params": list(range(start, start + n))})
            start += n
        state = {i: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                 for i, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore hyperparameters and per-parameter state saved by :meth:`state_dict`."""
        name = type(self).__name__
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(s["params"]) != len(g["params"]) for s, g in zip(groups, self.param_groups)):
            raise OptimizerError(
                f"{name}.load_state_dict: the saved state has parameter groups of sizes "
                f"{[len(s['params']) for s in groups]}, this optimizer "
                f"{[len(g['params']) for g in self.param_groups]}; build the optimizer over "
                "the same model")
        params = self._params()
        new_state: dict[int, dict[str, Any]] = {}
        for key, entry in state_dict["state"].items():
            i = int(key)
            if not 0 <= i < len(params):
                raise OptimizerError(f"{name}.load_state_dict: state for parameter {i}, but "
                                     f"there are only {len(params)}")
            restored = {}
            for k, v in entry.items():
                if isinstance(v, np.ndarray):
                    if v.shape != params[i].shape:
                        raise OptimizerError(
                            f"{name}.load_state_dict: state {k!r} of parameter {i} has shape "
                            f"{shape_str(v.shape)}, the parameter {shape_str(params[i].shape)}")
                    v = np.array(v, dtype=params[i].dtype, copy=True)
                restored[k] = v
            new_state[i] = restored
        for saved, group in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = tuple(v) if isinstance(v, list) else v
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join([*lines, ")"])


def lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """``start + weight * (end - start)`` evaluated as ``torch.lerp`` does.

    NOTE: PyTorch switches to ``end - (end - start) * (1 - weight)`` for weight >= 0.5, which
    is exact at weight = 1; copying the switch keeps trajectories equal to the last bits.
    """
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def flatten_state(state_dict: Mapping[str, Any], prefix: str = "optim."
                  ) -> tuple[dict[str, np.ndarray], str]:
    """An optimizer state dict as ``{prefix + "i.name": array}`` plus JSON for everything else.

    JSON keeps every float exactly (``repr`` round-trips), so a resumed run is bitwise equal.
    """
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for i, entry in state_dict["state"].items():
        for k, v in entry.items():
            if isinstance(v, np.ndarray):
                arrays[f"{prefix}{i}.{k}"] = v
            else:
                scalars.setdefault(str(i), {})[k] = v
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
              for g in state_dict["param_groups"]]
    return arrays, json.dumps({"param_groups": groups, "scalars": scalars})


def unflatten_state(arrays: Mapping[str, np.ndarray], meta: str, prefix: str = "optim."
                    ) -> dict[str, Any]:
    """The inverse of :func:`flatten_state`."""
    info = json.loads(meta)
    state: dict[int, dict[str, Any]] = {int(i): dict(v) for i, v in info["scalars"].items()}
    for key, value in arrays.items():
        if key.startswith(prefix):
            index, _, name = key[len(prefix):].partition(".")
            state.setdefault(int(index), {})[name] = value
    return {"state": state, "param_groups": info["param_groups"]}
