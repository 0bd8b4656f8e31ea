"""Module and Parameter: the containers that find a model's parameters by attribute.

A :class:`Module` registers every :class:`Parameter` and sub-module assigned to it as an
attribute, in assignment order, so ``named_parameters`` and ``state_dict`` use PyTorch's dotted
names (``"0.weight"``, ``"layers.1.bias"``) and a state dict moves between the two libraries.

>>> import numpy as np
>>> import chainrule.nn as nn
>>> class Affine(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.scale = nn.Parameter(np.ones(2))
...         self.inner = nn.Linear(2, 1)
...     def forward(self, x):
...         return self.inner(x * self.scale)
>>> [name for name, _ in Affine().named_parameters()]
['scale', 'inner.weight', 'inner.bias']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..errors import ChainruleError, shape_str
from ..tensor import Tensor


class StateDictError(ChainruleError, ValueError):
    """A state dict whose names or shapes do not fit the module it is loaded into."""


class Parameter(Tensor):
    """A tensor that is a model parameter: it requires grad and modules register it.

    >>> p = Parameter(np.zeros(3))
    >>> p.requires_grad, p.dtype
    (True, dtype('float64'))
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, name: str | None = None) -> None:
        super().__init__(data.data if isinstance(data, Tensor) else data,
                         requires_grad=requires_grad, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: override ``forward``; call the module to run it."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ---- registration -----------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if params is None:
            raise ChainruleError(f"{type(self).__name__}: call super().__init__() in __init__ "
                                 f"before assigning attribute {name!r}")
        modules = self.__dict__["_modules"]
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter under ``name`` (None leaves a named hole, e.g. ``bias=False``)."""
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name: str, module: Module) -> None:
        setattr(self, name, module)

    # ---- running ------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined; subclasses "
                                  "of Module must implement forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ---- traversal ----------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, depth first, each once."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs; a parameter shared by two modules comes once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, p in module._parameters.items():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    # ---- modes and gradients ------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active) for this module and all sub-modules."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout is the identity)."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._wrap(np.zeros_like(p.data))

    def to(self, dtype: Any) -> Module:
        """Convert every parameter to ``dtype`` (e.g. ``np.float64`` for gradient checks)."""
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    # ---- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter's values (copies) by dotted name, in registration order."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters, converted to each parameter's dtype.

        Mis-shaped entries are always an error; with ``strict`` so are missing and unexpected
        names. All problems are listed in one message.
        """
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        wrong = []
        for k, p in own.items():
            if k in state:
                shape = tuple(np.shape(state[k].data if isinstance(state[k], Tensor)
                                       else state[k]))
                if shape != p.shape:
                    wrong.append(f"{k}: the module has {shape_str(p.shape)}, the state dict "
                                 f"{shape_str(shape)}")
        problems = []
        if wrong:
            problems.append("mis-shaped: " + "; ".join(wrong))
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            raise StateDictError(
                f"load_state_dict into {type(self).__name__}: " + " | ".join(problems)
                + "; build the module with the same layer sizes as the saved one"
                + (", or pass strict=False to skip missing/unexpected keys" if not wrong else ""))
        for k, p in own.items():
            if k in state:
                value = state[k].data if isinstance(state[k], Tensor) else state[k]
                p.data = np.array(value, dtype=p.dtype, copy=True)
        return IncompatibleKeys(missing, unexpected)

    # ---- printing -----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class _Ordered(Module):
    """Sub-modules named by position ("0", "1", ...): indexing, length, iteration, append."""

    def append(self, module: Module) -> _Ordered:
        _check_module(module, f"{type(self).__name__}.append")
        self.add_module(str(len(self)), module)
        return self

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class Sequential(_Ordered):
    """Modules applied in order; parameters are named by position (``"0.weight"``).

    >>> import chainrule as cr
    >>> import chainrule.nn as nn
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> model(cr.zeros(5, 3)).shape
    (5, 2)
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(_Ordered):
    """A list of modules whose parameters are registered (a plain list's would be missed).

    >>> import chainrule.nn as nn
    >>> blocks = nn.ModuleList(nn.Linear(2, 2) for _ in range(3))
    >>> len(list(blocks.parameters()))
    6
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self


def _check_module(m: Any, where: str) -> None:
    if not isinstance(m, Module):
        raise TypeError(f"{where}: expected a Module, got {type(m).__name__}; wrap functions "
                        "in a Module subclass")
