"""The Tensor: an ndarray, a gradient slot and, when an op made it, its place in the graph.

Operators and methods only dispatch to :mod:`chainrule.functional`; the arithmetic lives in the
op registry and the graph mechanics in :mod:`chainrule.engine`.

>>> import chainrule as cr
>>> w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True, name="w")
>>> loss = (w * w).sum()
>>> loss.backward()
>>> w.grad
tensor([2., 4., 6.])
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from . import engine
from .errors import DTypeError, GraphError, ShapeError
from .ops.registry import Op

#: Default dtype for Python floats, as in PyTorch.
DEFAULT_FLOAT = np.dtype(np.float32)
_new_object = object.__new__


def to_array(data: Any, dtype: Any = None, where: str = "tensor") -> np.ndarray:
    """Convert user data to a fresh ndarray, with PyTorch's dtype rules for Python data.

    Python floats become float32, ints int64, bools bool; a NumPy array keeps its dtype.
    Ragged nesting, objects, strings and complex numbers are refused with a clear error.
    """
    if isinstance(data, Tensor):
        data = data.data
    from_numpy = isinstance(data, (np.ndarray, np.generic))
    try:
        array = np.array(data, dtype=dtype, copy=True)
    except ValueError as exc:
        if "inhomogeneous" in str(exc) or "sequence" in str(exc):
            raise ShapeError(
                f"{where}: the data is ragged (nested lists of different lengths): {exc}; make "
                "every row the same length, or pad it") from None
        raise DTypeError(f"{where}: cannot convert the data to numbers: {exc}") from None
    except TypeError as exc:
        raise DTypeError(f"{where}: cannot convert the data to numbers: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise DTypeError(
            f"{where}: cannot make a tensor of dtype {array.dtype} (from {type(data).__name__}); "
            "tensors hold real numbers or bools: convert the data to floats first")
    if dtype is None and not from_numpy and array.dtype == np.float64:
        array = array.astype(DEFAULT_FLOAT)
    return array


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    Args:
        data: a number, nested sequence or ndarray (copied).
        requires_grad: whether gradients should be computed for this tensor.
        dtype: a NumPy dtype; Python floats default to float32, arrays keep their dtype.
        name: a label shown by the explainer and the graph drawing (e.g. ``"W1"``).
    """

    # NOTE: ``op``, ``inputs``, ``params``, ``number`` and ``versions`` are the graph: a tensor
    # made by an op is its own node (see chainrule.engine.record). A leaf has op None and
    # inputs None, and the other three unset.
    __slots__ = ("__weakref__", "_requires_grad", "_version", "data", "grad", "inputs", "name",
                 "number", "op", "params", "versions")
    params: dict[str, Any]
    number: int
    versions: tuple[int, ...] | None
    # NOTE: makes ``ndarray + Tensor`` call Tensor.__radd__ instead of broadcasting the Tensor
    # as an object inside a NumPy ufunc.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self.data: np.ndarray = to_array(data, dtype)
        self.grad: Tensor | None = None
        self.op: Op | None = None
        self.inputs: tuple[Tensor, ...] | None = None
        self.name = name
        self._requires_grad = False
        self._version = 0   # bumped by every in-place method; checked by backward
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _wrap(data: np.ndarray) -> Tensor:
        """Make a leaf tensor around an array without copying or checking (internal fast path)."""
        t = _new_object(Tensor)
        t.data = data
        t.grad = None
        t._requires_grad = False
        t.op = None
        t.inputs = None
        t.name = None
        t._version = 0
        return t

    # ---- gradient bookkeeping -------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and not self._requires_grad:
            if self.op is not None:
                raise GraphError("requires_grad: only leaf tensors can change requires_grad; "
                                 "use .detach().requires_grad_() for a new leaf")
            engine.check_differentiable(self.data, "requires_grad")
        elif not value and self.op is not None:
            raise GraphError("requires_grad: a tensor computed from tensors that require grad "
                             "cannot be switched off; use .detach()")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by an op."""
        return self.op is None

    @property
    def grad_fn(self) -> Op | None:
        """The op that produced this tensor (None for leaves), as ``grad_fn`` in PyTorch.

        >>> import chainrule as cr
        >>> (cr.tensor([1.0], requires_grad=True) * 2).grad_fn
        Op('mul')
        """
        return self.op

    def backward(self, gradient: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d self / d leaf into every leaf's ``.grad`` (see :func:`chainrule.grad`)."""
        engine.run_backward([self], [gradient], targets=None,
                            retain_graph=retain_graph or create_graph,
                            create_graph=create_graph, where="backward")

    def detach(self) -> Tensor:
        """The same data (shared) as a new leaf that does not require grad.

        An in-place method on the result copies the data first, so it never changes this
        tensor (whose values a graph may have saved) behind the engine's back.
        """
        t = Tensor._wrap(self.data.view())
        t.name = self.name
        return t

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    # ---- in-place updates (outside the graph) ----------------------------------------------
    def _modify(self, where: str, update: Any, *others: Any) -> Tensor:
        """Run ``update(array, *values)`` on this tensor's array in place and bump ``_version``.

        In-place updates are not recorded in the graph: on tensors that require grad they are
        allowed only under ``no_grad()`` (an optimizer step). A node that saved this tensor
        remembers its version, so a backward through it after the update raises GraphError
        instead of using the new values.
        """
        if engine.STATE.grad_enabled and (self._requires_grad or any(
                isinstance(o, Tensor) and o._requires_grad for o in others)):
            raise GraphError(
                f"{where}: in-place operations are not recorded in the graph, and a tensor here "
                "requires grad; run it inside `with chainrule.no_grad():` (as in an optimizer "
                "step) or use the out-of-place form (x = x * 2, not x.mul_(2))")
        values = [o.data if isinstance(o, Tensor) else o for o in others]
        if not (self.data.flags.owndata and self.data.flags.writeable):
            # NOTE: the array is a view of another tensor's (reshape, indexing, detach): copy it
            # first, so that tensor's values never change behind its version counter.
            self.data = np.array(self.data)
        try:
            update(self.data, *values)
        except ValueError as exc:
            shapes = ", ".join(str(np.shape(v)) for v in values)
            raise ShapeError(f"{where}: {exc} (tensor shape {self.shape}, other shapes "
                             f"{shapes}); the result of an in-place op must keep the tensor's "
                             "shape") from None
        except TypeError as exc:
            raise DTypeError(f"{where}: {exc}; an in-place op keeps the tensor's dtype "
                             f"({self.dtype}), so convert the other operand first") from None
        self.mark_modified()
        return self

    def mark_modified(self) -> None:
        """Record that this tensor's values changed outside the graph (an in-place method, or
        an optimizer assigning ``.data``): backward through a node that saved it then raises.

        >>> import chainrule as cr
        >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> loss = (w * w).sum()
        >>> w.data = w.data * 0.5; w.mark_modified()
        >>> loss.backward()
        Traceback (most recent call last):
        chainrule.errors.GraphError: backward: a tensor needed by 'mul' was modified in place ...
        """
        self._version += 1
        engine.STATE.mutations += 1   # lets backward skip version checks until this happens

    def add_(self, other: Any) -> Tensor:
        """``self += other`` in place (see :meth:`_modify` for the rules).

        >>> import chainrule as cr
        >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> loss = (w * w).sum()
        >>> loss.backward(retain_graph=True)
        >>> with cr.no_grad():       # an optimizer step: outside the graph
        ...     _ = w.add_(-0.5 * w.grad)
        >>> w
        tensor([0., 0.], requires_grad=True)
        >>> loss.backward()          # mul saved w before the step: refused, not wrong
        Traceback (most recent call last):
        chainrule.errors.GraphError: backward: a tensor needed by 'mul' was modified in place ...
        """
        return self._modify("add_", lambda a, o: np.add(a, o, out=a, casting="same_kind"), other)

    def sub_(self, other: Any) -> Tensor:
        """``self -= other`` in place."""
        return self._modify("sub_", lambda a, o: np.subtract(a, o, out=a, casting="same_kind"),
                            other)

    def mul_(self, other: Any) -> Tensor:
        """``self *= other`` in place."""
        return self._modify("mul_", lambda a, o: np.multiply(a, o, out=a, casting="same_kind"),
                            other)

    def div_(self, other: Any) -> Tensor:
        """``self /= other`` in place."""
        return self._modify("div_", lambda a, o: np.divide(a, o, out=a, casting="same_kind"),
                            other)

    def zero_(self) -> Tensor:
        """Set every element to 0 in place."""
        return self._modify("zero_", lambda a: a.fill(0))

    def fill_(self, value: Any) -> Tensor:
        """Set every element to ``value`` in place."""
        return self._modify("fill_", lambda a, v: np.copyto(a, v, casting="same_kind"), value)

    def copy_(self, source: Any) -> Tensor:
        """Copy ``source`` (broadcast to this shape) into this tensor in place."""
        return self._modify("copy_", lambda a, v: np.copyto(a, v, casting="same_kind"), source)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        """Limit the values to [min, max] in place."""
        return self._modify("clamp_", lambda a: np.clip(a, min, max, out=a))

    clip_ = clamp_

    def __setitem__(self, index: Any, value: Any) -> None:
        """``x[index] = value`` in place (the same rules as the other in-place methods)."""
        index = F._normalize_index(index)
        self._modify("__setitem__", lambda a, v: a.__setitem__(index, v), value)

    # ---- array protocol -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return int(self.data.size)

    def numel(self) -> int:
        return int(self.data.size)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, as ``torch.Tensor.numpy``)."""
        return self.data

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ShapeError(f"item: only one-element tensors convert to a Python number, this "
                             f"one has shape {self.shape}; index it or reduce it first")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if (self.dtype != DEFAULT_FLOAT and self.dtype.kind == "f") or self.dtype.kind == "b":
            extras.append(f"dtype={self.dtype}")
        if self.name:
            extras.append(f"name={self.name!r}")
        if self.op is not None:
            extras.append(f"grad_fn=<{self.op.name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ---- operators (dispatch only) --------------------------------------------------------
    # NOTE: +, -, *, /, ** and @ with the tensor on the left are bound to the functional
    # wrappers themselves at the end of this module (one Python call per operator, not two).
    if TYPE_CHECKING:
        def __add__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...

    def __radd__(self, other: Any) -> Tensor:
        return F.add(other, self)

    def __rsub__(self, other: Any) -> Tensor:
        return F.sub(other, self)

    def __rmul__(self, other: Any) -> Tensor:
        return F.mul(other, self)

    def __rtruediv__(self, other: Any) -> Tensor:
        return F.div(other, self)

    def __rpow__(self, other: Any) -> Tensor:
        return F.pow(other, self)

    def __rmatmul__(self, other: Any) -> Tensor:
        return F.matmul(other, self)

    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return F.getitem(self, index)

    # Comparisons and logic give constant bool tensors: they have no derivative.
    def __lt__(self, other: Any) -> Tensor:
        return F.constant(self.data < F.raw(other))

    def __le__(self, other: Any) -> Tensor:
        return F.constant(self.data <= F.raw(other))

    def __gt__(self, other: Any) -> Tensor:
        return F.constant(self.data > F.raw(other))

    def __ge__(self, other: Any) -> Tensor:
        return F.constant(self.data >= F.raw(other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return F.constant(self.data == F.raw(other))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return F.constant(self.data != F.raw(other))

    def __and__(self, other: Any) -> Tensor:
        return F.constant(self.data & F.raw(other))

    def __or__(self, other: Any) -> Tensor:
        return F.constant(self.data | F.raw(other))

    def __invert__(self) -> Tensor:
        return F.constant(~self.data)

    # ---- methods (dispatch only) ----------------------------------------------------------
    # NOTE: -x, abs(x), the elementwise methods and the reductions are bound to the functional
    # functions themselves at the end of this module, like the operators (one call fewer).
    if TYPE_CHECKING:
        def __neg__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def exp(self) -> Tensor: ...
        def log(self) -> Tensor: ...
        def log1p(self) -> Tensor: ...
        def sqrt(self) -> Tensor: ...
        def abs(self) -> Tensor: ...
        def tanh(self) -> Tensor: ...
        def sigmoid(self) -> Tensor: ...
        def relu(self) -> Tensor: ...
        def sum(self, axis: Any = None, keepdims: bool = False, **names: Any) -> Tensor: ...
        def mean(self, axis: Any = None, keepdims: bool = False, **names: Any) -> Tensor: ...
        def max(self, axis: Any = None, keepdims: bool = False, **names: Any) -> Tensor: ...
        def min(self, axis: Any = None, keepdims: bool = False, **names: Any) -> Tensor: ...
        def logsumexp(self, axis: Any = None, keepdims: bool = False,
                      **names: Any) -> Tensor: ...

    def pow(self, exponent: Any) -> Tensor:
        return F.pow(self, exponent)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        return F.clip(self, min, max)

    clamp = clip

    def matmul(self, other: Any) -> Tensor:
        return F.matmul(self, other)

    def argmax(self, axis: int | None = None) -> Tensor:
        return F.constant(np.argmax(self.data, axis=axis))

    def argmin(self, axis: int | None = None) -> Tensor:
        return F.constant(np.argmin(self.data, axis=axis))

    def softmax(self, axis: int = -1) -> Tensor:
        return F.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return F.log_softmax(self, axis)

    def reshape(self, *shape: Any) -> Tensor:
        return F.reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int)
                         else shape)

    view = reshape

    def flatten(self, start: int = 0) -> Tensor:
        return F.flatten(self, start)

    def squeeze(self, axis: int | None = None) -> Tensor:
        return F.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        return F.unsqueeze(self, axis)

    def broadcast_to(self, *shape: Any) -> Tensor:
        return F.broadcast_to(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int)
                              else shape)

    expand = broadcast_to

    def permute(self, *axes: Any) -> Tensor:
        return F.permute(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int)
                         else axes)

    def transpose(self, axis0: int = -2, axis1: int = -1) -> Tensor:
        return F.swapaxes(self, axis0, axis1)

    @property
    def T(self) -> Tensor:
        return F.reverse_axes(self)

    def astype(self, dtype: Any) -> Tensor:
        return F.astype(self, dtype)

    def float(self) -> Tensor:
        return F.astype(self, np.float32)

    def double(self) -> Tensor:
        return F.astype(self, np.float64)


class SharedConstant(Tensor):
    """A Python number used as an operand (the ``2.0`` in ``x * 2.0``): one frozen 0-d tensor per
    value and dtype, shared by every graph that uses it.

    It never requires grad and refuses in-place changes, so sharing it cannot change one graph
    through another. Graphs keep it as an input like any other tensor.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * 3.0).inputs[1] is (x * 3.0).inputs[1]
    True
    """

    __slots__ = ()

    @staticmethod
    def of(array: np.ndarray) -> SharedConstant:
        """Freeze a 0-d array (read-only) and wrap it."""
        array.flags.writeable = False
        shared = Tensor._wrap(array)
        shared.__class__ = SharedConstant   # the same slots: a leaf, frozen
        return shared  # type: ignore[return-value]

    @property
    def requires_grad(self) -> bool:
        return False

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value:
            raise GraphError(
                f"requires_grad: {self.item()!r} is a constant from a Python number, shared by "
                "every use; make a tensor of it to differentiate (cr.tensor(2.0, "
                "requires_grad=True))")

    def _modify(self, where: str, update: Any, *others: Any) -> Tensor:
        raise GraphError(
            f"{where}: {self.item()!r} is a constant from a Python number, shared by every use "
            "of that number, and cannot be changed in place; make a tensor of it first "
            "(cr.tensor(2.0)) and change that")


def bind_operators(functional: Any) -> None:
    """Bind +, -, *, /, ** and @ (and unary -, abs(), the elementwise methods and the
    reductions) to the functional wrappers themselves.

    Called by :mod:`chainrule.functional` once it has defined them (the two modules import
    each other, so neither can do it at import time of the other).
    """
    Tensor.__add__ = functional.add  # type: ignore[method-assign]
    Tensor.__sub__ = functional.sub  # type: ignore[method-assign]
    Tensor.__mul__ = functional.mul  # type: ignore[method-assign]
    Tensor.__truediv__ = functional.div  # type: ignore[method-assign]
    Tensor.__pow__ = functional.pow  # type: ignore[method-assign]
    Tensor.__matmul__ = functional.matmul  # type: ignore[method-assign]
    Tensor.__neg__ = functional.neg  # type: ignore[method-assign]
    Tensor.__abs__ = functional.abs  # type: ignore[method-assign]
    for name in ("exp", "log", "log1p", "sqrt", "abs", "tanh", "sigmoid", "relu",
                 "sum", "mean", "max", "min", "logsumexp"):
        setattr(Tensor, name, getattr(functional, name))


engine.bind_tensor_class(Tensor)

from . import functional as F  # noqa: E402  (functional needs Tensor defined first)
