"""Network files: a small declarative TOML format for worked exercises.

A file gives the layer sizes and activations, the weights (explicitly or by a rule), the data,
the loss and a learning rate; :func:`load_network` validates it into a :class:`NetworkSpec`,
and :meth:`NetworkSpec.build` makes the tensors, named in the seed's notation (x, W1, b1, a, h,
W2, y_in, y, t, L; deeper nets number the hidden layers a1, h1, a2, h2, ...), ready to be
differentiated, explained (``chainrule explain``) and solved (``chainrule solve``).

Layout: ``W{l}`` has shape ``(sizes[l-1], sizes[l])``, rows are inputs and columns units, so
``w_{l i j} = W{l}[i-1, j-1]`` and a layer computes ``x @ W{l} + b{l}`` on rows of examples.

Defaults: ``bias = false``, biases ``"zeros"``, ``half = false``, ``reduction = "sum"``,
``learning_rate = 0.1``; ``title`` defaults to the file's name. A mean squared error averages
over every element (N examples times the output units, as ``torch.nn.MSELoss``); a mean
cross-entropy averages over the examples.

>>> spec = parse_network('''
... [network]
... sizes = [2, 1]
... activations = ["sigmoid"]
... [weights]
... W1 = "ones"
... [data]
... x = [[1, -1]]
... t = [[1]]
... [loss]
... kind = "squared_error"
... ''')
>>> net = spec.build()
>>> float(net.loss.data)
0.25
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import functional as F
from .autograd import grad
from .errors import AnomalyError, FileFormatError, shape_str
from .tensor import Tensor

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "identity": lambda z: z,
    "relu": F.relu,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "softmax": lambda z: F.softmax(z, axis=-1),
}
_LATEX_ACTIVATIONS = {"sigmoid": r"\sigma", "tanh": r"\tanh"}
LOSSES = ("squared_error", "cross_entropy")
REDUCTIONS = ("sum", "mean")
WEIGHT_RULES = ('"ones"', '"zeros"', "a number", "{ constant = C }",
                '{ random = "normal"|"uniform", scale = S, seed = N }', "an explicit list")
DEFAULT_LEARNING_RATE = 0.1

_KEYS: dict[str, tuple[str, ...]] = {
    "": ("title", "network", "weights", "data", "loss", "train"),
    "network": ("sizes", "activations", "bias"),
    "data": ("x", "t"),
    "loss": ("kind", "half", "reduction"),
    "train": ("learning_rate",),
}


# ---- reading and reporting ---------------------------------------------------------------------
def _toml_loads(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        try:
            import tomli as tomllib
        except ImportError:
            raise ImportError("reading network files on Python 3.10 needs tomli: "
                              "pip install 'chainrule[toml]'") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        # NOTE: the line and column are in the message on every tomllib/tomli version; the
        # lineno/colno attributes only exist from Python 3.14.
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)", message)
        if m:
            reason = message[:m.start()] + message[m.end():]
            raise _Problem(f"{m.group(1)}:{m.group(2)}: not valid TOML: {reason}; fix the "
                           "syntax there (strings need quotes, tables are [name], lists "
                           "[1, 2])") from None
        raise _Problem(f"not valid TOML: {message}") from None


class _Problem(Exception):
    """A parse failure before the source name is known (turned into a FileFormatError)."""


class _Reader:
    """Finds values in the parsed file and raises errors that point at the file and line."""

    def __init__(self, data: dict[str, Any], text: str, source: str) -> None:
        self.data, self.text, self.source = data, text, source

    def line_of(self, table: str, key: str | None) -> int | None:
        """The line where ``key`` is set in ``[table]`` (or the table's header), if found."""
        current = ""
        for number, line in enumerate(self.text.splitlines(), 1):
            stripped = line.strip()
            header = re.match(r"\[\s*([A-Za-z0-9_-]+)\s*\]", stripped)
            if header and not stripped.startswith("[["):
                current = header.group(1)
                if (key is None and current == table) or (table == "" and current == key):
                    return number
            elif key is not None and current == table and re.match(
                    rf"['\"]?{re.escape(key)}['\"]?\s*=", stripped):
                return number
        return None

    def fail(self, table: str, key: str | None, reason: str) -> FileFormatError:
        line = self.line_of(table, key)
        where = f"{self.source}:{line}" if line else self.source
        what = f"[{table}]" if table else ""
        if key is not None:
            what = f"{what} {key}".strip()
        return FileFormatError(f"{where}: {what} {reason}".replace("  ", " "))

    def table(self, name: str, required: bool = True) -> dict[str, Any]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise FileFormatError(f"{self.source}: the [{name}] table is missing; add it "
                                      "(see examples/seed.toml)")
            return {}
        if not isinstance(value, dict):
            raise self.fail("", name, f"must be a table [{name}], got {value!r}")
        return value

    def check_keys(self, name: str, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                what = "table or key" if not name else "key"
                raise self.fail(name, key, f"is not a known {what}; valid here: "
                                           + ", ".join(allowed))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _array(r: _Reader, table: str, key: str, value: Any) -> np.ndarray:
    """A rectangular list of finite numbers as a float64 array, or a clear error."""
    def check(v: Any) -> None:
        if isinstance(v, list):
            for item in v:
                check(item)
        elif not _is_number(v):
            raise r.fail(table, key, f"holds {v!r} ({type(v).__name__}); only numbers and "
                                     "lists of numbers are allowed")
    check(value)
    try:
        array = np.array(value, dtype=np.float64)
    except ValueError:
        raise r.fail(table, key, "is ragged (rows of different lengths); give every row the "
                                 "same number of entries") from None
    if not np.all(np.isfinite(array)):
        raise r.fail(table, key, "holds inf or nan; give finite numbers")
    return array


def _positive(r: _Reader, table: str, key: str, value: Any) -> float:
    if not _is_number(value) or not value > 0 or not np.isfinite(value):
        raise r.fail(table, key, f"must be a positive number, got {value!r}")
    return float(value)


def _boolean(r: _Reader, table: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise r.fail(table, key, f"must be true or false, got {value!r}")
    return value


def _choice(r: _Reader, table: str, key: str, value: Any, choices: Any) -> str:
    if value not in tuple(choices):
        raise r.fail(table, key, f"is {value!r}; choose one of "
                                 + ", ".join(f'"{c}"' for c in choices))
    return str(value)


# ---- weight rules ------------------------------------------------------------------------------
def _rule(r: _Reader, key: str, value: Any, shape: tuple[int, ...], meaning: str) -> np.ndarray:
    """The array a weight rule in ``[weights]`` describes."""
    if value in ("ones", "zeros"):
        return (np.ones if value == "ones" else np.zeros)(shape)
    if _is_number(value):
        return np.full(shape, float(value))
    if isinstance(value, dict):
        return _rule_table(r, key, value, shape)
    if isinstance(value, list):
        array = _array(r, "weights", key, value)
        if array.shape != shape:
            raise r.fail("weights", key, f"has shape {shape_str(array.shape)} but must be "
                                         f"{shape_str(shape)}: {meaning}")
        return array
    raise r.fail("weights", key, f"is {value!r}; give one of: " + ", ".join(WEIGHT_RULES))


def _rule_table(r: _Reader, key: str, value: dict[str, Any], shape: tuple[int, ...]
                ) -> np.ndarray:
    if "constant" in value:
        if set(value) != {"constant"} or not _is_number(value["constant"]):
            raise r.fail("weights", key, "must be { constant = C } with a number C alone, got "
                                         f"{value!r}")
        return np.full(shape, float(value["constant"]))
    if "random" in value:
        unknown = set(value) - {"random", "scale", "seed"}
        if unknown:
            raise r.fail("weights", key, f"has unknown keys {sorted(unknown)}; a random rule "
                                         "takes random, scale and seed")
        kind = value["random"]
        if kind not in ("normal", "uniform"):
            raise r.fail("weights", key, f'random is {kind!r}; choose "normal" or "uniform"')
        scale = value.get("scale", 1.0)
        if not _is_number(scale) or not scale > 0:
            raise r.fail("weights", key, f"scale must be a positive number, got {scale!r}")
        seed = value.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise r.fail("weights", key, f"seed must be a non-negative integer, got {seed!r}")
        rng = np.random.default_rng(seed)
        # NOTE: normal draws have standard deviation `scale`; uniform draws lie in
        # [-scale, scale). The same seed always gives the same numbers (NumPy's PCG64).
        if kind == "normal":
            return rng.normal(0.0, float(scale), shape)
        return rng.uniform(-float(scale), float(scale), shape)
    raise r.fail("weights", key, f"is {value!r}; give one of: " + ", ".join(WEIGHT_RULES))


# ---- the specification -------------------------------------------------------------------------
@dataclass
class NetworkSpec:
    """A validated network file: everything needed to build and solve the exercise."""

    title: str
    sizes: list[int]
    activations: list[str]
    bias: bool
    weights: dict[str, np.ndarray]
    biases: dict[str, np.ndarray]
    x: np.ndarray
    t: np.ndarray
    loss_kind: str
    half: bool
    reduction: str
    learning_rate: float
    source: str = "<string>"

    @property
    def layers(self) -> int:
        """The number of weight layers (sizes minus the input layer)."""
        return len(self.sizes) - 1

    def layer_names(self, layer: int) -> tuple[str, str]:
        """The pre-activation and output names of ``layer`` (1-based), in the seed's notation.

        >>> spec = parse_network(EXAMPLE)
        >>> [spec.layer_names(l) for l in (1, 2)]
        [('a', 'h'), ('y_in', 'y')]
        """
        if layer == self.layers:
            return "y_in", "y"
        if self.layers == 2:
            return "a", "h"
        return f"a{layer}", f"h{layer}"

    def formulas(self, latex: bool = False) -> dict[str, str]:
        """The right-hand side of every computed value, as plain text or LaTeX.

        >>> parse_network(EXAMPLE).formulas()
        {'a': 'x W1', 'h': 'relu(a)', 'y_in': 'h W2', 'y': 'sigmoid(y_in)', 'L': 'sum (y - t)^2'}
        """
        sym = latex_symbol if latex else str
        out: dict[str, str] = {}
        previous = "x"
        for layer in range(1, self.layers + 1):
            pre, post = self.layer_names(layer)
            pieces = [sym(previous), sym(f"W{layer}")]
            rhs = (r"\," if latex else " ").join(pieces)
            if self.bias:
                rhs += f" + {sym(f'b{layer}')}"
            activation = self.activations[layer - 1]
            if activation == "identity":
                out[post] = rhs
            else:
                out[pre] = rhs
                name = _LATEX_ACTIVATIONS.get(activation, rf"\operatorname{{{activation}}}"
                                              ) if latex else activation
                out[post] = f"{name}({sym(pre)})"
            previous = post
        out["L"] = self._loss_formula(sym, latex)
        return out

    def _loss_formula(self, sym: Callable[[str], str], latex: bool) -> str:
        y, t = sym("y"), sym("t")
        mean = self.reduction == "mean"
        if self.loss_kind == "squared_error":
            if latex:
                scale = r"\frac{1}{2}\," if self.half else ""
                reduce = r"\operatorname{mean}" if mean else r"\sum"
                return f"{scale}{reduce} ({y} - {t})^2"
            return f"{'1/2 * ' if self.half else ''}{'mean' if mean else 'sum'} (y - t)^2"
        indices = self.t.ndim == 1
        if latex:
            reduce = r"\frac{1}{N}\sum_n" if mean else r"\sum_n"
            term = r"\log y_{n, t_n}" if indices else r"\sum_k t_{nk} \log y_{nk}"
            return f"-{reduce} {term}"
        reduce = "mean_n" if mean else "sum_n"
        term = "log y[n, t_n]" if indices else "sum_k t[n, k] log y[n, k]"
        return f"-{reduce} {term}"

    def loss_formula(self) -> str:
        """The loss as one line, e.g. ``L = 1/2 * sum (y - t)^2``."""
        return f"L = {self.formulas()['L']}"

    def build(self, dtype: Any = np.float64) -> BuiltNetwork:
        """Make the tensors and run the forward pass; parameters require grad.

        >>> net = parse_network(EXAMPLE).build()
        >>> list(net.values)
        ['a', 'h', 'y_in', 'y', 'L']
        """
        params: dict[str, Tensor] = {}
        for layer in range(1, self.layers + 1):
            params[f"W{layer}"] = Tensor(self.weights[f"W{layer}"], dtype=dtype,
                                         requires_grad=True, name=f"W{layer}")
            if self.bias:
                params[f"b{layer}"] = Tensor(self.biases[f"b{layer}"], dtype=dtype,
                                             requires_grad=True, name=f"b{layer}")
        x = Tensor(self.x, dtype=dtype, name="x")
        t = Tensor(self.t, dtype=np.int64 if self.t.dtype.kind == "i" else dtype, name="t")
        net = BuiltNetwork(self, params, x, t)
        # NOTE: an overflow (weights of 1e200, say) is reported once, as one clear error naming
        # the first value that is not finite, not as NumPy warnings and a page of infs.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            net.values = net.run(x, named=True)
            net.loss = net.loss_of(net.values, t)
        net.loss.name = "L"
        net.values["L"] = net.loss
        _check_finite(self.source, "the forward pass", {n: v.data for n, v in net.values.items()})
        return net


def _check_finite(source: str, stage: str, arrays: dict[str, np.ndarray]) -> None:
    """Raise AnomalyError at the first array holding inf or NaN (a non-finite loss follows)."""
    for name, array in arrays.items():
        if not np.isfinite(array).all():
            bad = array[~np.isfinite(array)].ravel()[0]
            largest = np.finfo(array.dtype).max if array.dtype.kind == "f" else np.inf
            raise AnomalyError(
                f"{source}: {stage} is not finite: {name} holds {bad} ({array.dtype} overflows "
                f"past {largest:.3g}), so the loss cannot be computed or minimized; use smaller "
                "weights or inputs")


@dataclass(eq=False)
class BuiltNetwork:
    """The tensors of a built network: parameters, data, every named value and the loss."""

    spec: NetworkSpec
    params: dict[str, Tensor]
    inputs: Tensor
    targets: Tensor
    values: dict[str, Tensor] = field(default_factory=dict)
    loss: Tensor = None  # type: ignore[assignment]
    _grads: dict[str, np.ndarray] | None = field(default=None, repr=False)

    def run(self, x: Tensor, named: bool = False) -> dict[str, Tensor]:
        """Every layer's pre-activation and output for a batch ``x`` (rows are examples).

        NOTE: an identity layer's output is its pre-activation; it is listed once, under the
        output's name (``y`` rather than ``y_in``), so no tensor has two names.
        """
        values: dict[str, Tensor] = {}
        h = x
        for layer in range(1, self.spec.layers + 1):
            z = h @ self.params[f"W{layer}"]
            if self.spec.bias:
                z = z + self.params[f"b{layer}"]
            activation = self.spec.activations[layer - 1]
            h = ACTIVATIONS[activation](z)
            pre, post = self.spec.layer_names(layer)
            if activation != "identity":
                values[pre] = z
            values[post] = h
        if named:
            for name, value in values.items():
                value.name = name
        return values

    def forward(self, x: Tensor) -> Tensor:
        """The network's output ``y`` for a batch ``x`` of shape (N, sizes[0])."""
        return self.run(x)["y"]

    def loss_of(self, values: dict[str, Tensor], t: Tensor) -> Tensor:
        """The file's loss on the values of :meth:`run` and targets ``t``.

        NOTE: cross-entropy is computed from the logits ``y_in`` with log-softmax (stable for
        any logits), not as log(softmax(y_in)), which underflows to log(0) for large logits.
        The value and gradient are the same.
        """
        spec = self.spec
        if spec.loss_kind == "cross_entropy":
            logits = values.get("y_in", values["y"])
            return F.cross_entropy(logits, t.data if t.dtype.kind == "i" else t, spec.reduction)
        loss = F.mse_loss(values["y"], t, spec.reduction)
        return loss * 0.5 if spec.half else loss

    def named_tensors(self) -> dict[str, Tensor]:
        """Every named tensor in the order of the forward pass: x, W1, b1, a, h, ..., t, L."""
        out: dict[str, Tensor] = {"x": self.inputs}
        for layer in range(1, self.spec.layers + 1):
            for key in (f"W{layer}", f"b{layer}"):
                if key in self.params:
                    out[key] = self.params[key]
            for name in self.spec.layer_names(layer):
                if name in self.values:
                    out[name] = self.values[name]
        out["t"] = self.targets
        out["L"] = self.loss
        return out

    def gradients(self) -> dict[str, np.ndarray]:
        """dL/dp for every parameter p, by autograd; the graph is kept for explaining."""
        if self._grads is None:
            names = list(self.params)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                grads = grad(self.loss, [self.params[n] for n in names], retain_graph=True)
            self._grads = {n: g.data for n, g in zip(names, grads)}  # type: ignore[union-attr]
            _check_finite(self.spec.source, "the gradient",
                          {f"dL/d{n}": g for n, g in self._grads.items()})
        return self._grads

    def step(self, lr: float | None = None) -> dict[str, np.ndarray]:
        """The parameters after one gradient-descent step ``p - lr * dL/dp`` (new arrays).

        The network itself is not changed, so its derivations stay those of the file's
        weights. ``lr`` defaults to the file's learning rate.

        >>> net = parse_network(EXAMPLE).build()
        >>> new = net.step()
        >>> bool(new["W2"][0, 0] < 1.0)
        True
        """
        lr = self.spec.learning_rate if lr is None else float(lr)
        grads = self.gradients()
        return {n: p.data - lr * grads[n] for n, p in self.params.items()}


# ---- parsing -----------------------------------------------------------------------------------
def load_network(path: str | Path) -> NetworkSpec:
    """Read and validate a network file (see the module docstring for the format).

    Raises FileNotFoundError for a missing file and FileFormatError (naming the file, the
    line where known, the key, the reason and the fix) for a malformed one.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path}: is not UTF-8 text (byte {exc.start}); a network file "
                              "is a TOML text file like examples/seed.toml") from None
    return parse_network(text, source=str(path))


def parse_network(text: str, source: str = "<string>") -> NetworkSpec:
    """Validate the TOML ``text`` of a network file; ``source`` names it in error messages."""
    try:
        data = _toml_loads(text)
    except _Problem as exc:
        raise FileFormatError(f"{source}:{exc}") from None
    r = _Reader(data, text, source)
    r.check_keys("", data, _KEYS[""])
    title = data.get("title", Path(source).stem)
    if not isinstance(title, str):
        raise r.fail("", "title", f"must be a string, got {title!r}")

    net = r.table("network")
    r.check_keys("network", net, _KEYS["network"])
    sizes, activations = _layers(r, net)
    bias = _boolean(r, "network", "bias", net.get("bias", False))

    loss = r.table("loss")
    r.check_keys("loss", loss, _KEYS["loss"])
    if "kind" not in loss:
        raise r.fail("loss", None, 'needs kind = "squared_error" or "cross_entropy"')
    kind = _choice(r, "loss", "kind", loss["kind"], LOSSES)
    half = _boolean(r, "loss", "half", loss.get("half", False))
    reduction = _choice(r, "loss", "reduction", loss.get("reduction", "sum"), REDUCTIONS)
    if kind == "cross_entropy":
        if half:
            raise r.fail("loss", "half", "applies to squared_error only; remove it")
        if activations[-1] != "softmax":
            raise r.fail("network", "activations", f'ends with "{activations[-1]}" but '
                         'cross_entropy needs a softmax output layer; make the last '
                         'activation "softmax" (or use kind = "squared_error")')

    weights, biases = _weights(r, sizes, bias)
    x, t = _data(r, sizes, kind)
    train = r.table("train", required=False)
    r.check_keys("train", train, _KEYS["train"])
    lr = _positive(r, "train", "learning_rate",
                   train.get("learning_rate", DEFAULT_LEARNING_RATE))
    return NetworkSpec(title, sizes, activations, bias, weights, biases, x, t, kind, half,
                       reduction, lr, source)


def _layers(r: _Reader, net: dict[str, Any]) -> tuple[list[int], list[str]]:
    sizes = net.get("sizes")
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0
                       for s in sizes)):
        raise r.fail("network", "sizes", f"must list at least two positive whole numbers "
                     f"(input, hidden..., output), e.g. [4, 3, 1]; got {sizes!r}")
    activations = net.get("activations")
    layers = len(sizes) - 1
    if not isinstance(activations, list) or len(activations) != layers:
        count = len(activations) if isinstance(activations, list) else 0
        raise r.fail("network", "activations", f"has {count} entr{'y' if count == 1 else 'ies'}"
                     f" for {layers} layer{'s' if layers != 1 else ''}; give one per "
                     "non-input layer")
    for name in activations:
        _choice(r, "network", "activations", name, ACTIVATIONS)
    if activations[-1] == "softmax" and sizes[-1] == 1:
        raise r.fail("network", "activations", "ends with softmax over a single output unit, "
                     "which is always 1 (no gradient); use sigmoid, or two output units")
    return sizes, activations


def _weights(r: _Reader, sizes: list[int], bias: bool
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    table = r.table("weights")
    layers = len(sizes) - 1
    valid = [f"{p}{layer}" for layer in range(1, layers + 1) for p in ("W", "b")]
    for key in table:
        if key not in valid:
            raise r.fail("weights", key, "is not a weight of this network; valid names: "
                         + ", ".join(valid) + f" (for sizes {sizes})")
        if key.startswith("b") and not bias:
            raise r.fail("weights", key, "is a bias but [network] bias is false; set "
                                         "bias = true in [network] or remove it")
    weights: dict[str, np.ndarray] = {}
    biases: dict[str, np.ndarray] = {}
    for layer in range(1, layers + 1):
        n_in, n_out = sizes[layer - 1], sizes[layer]
        key = f"W{layer}"
        if key not in table:
            raise r.fail("weights", None, f'has no {key}; give a rule, e.g. {key} = "ones"')
        weights[key] = _rule(r, key, table[key], (n_in, n_out),
                             f"layer {layer} maps {n_in} input(s) to {n_out} unit(s), one row per "
                             f"input and one column per unit (w_{{{layer}ij}} = {key}[i-1, j-1]);"
                             " transpose it if you wrote one row per unit")
        if bias:
            key = f"b{layer}"
            biases[key] = _rule(r, key, table.get(key, "zeros"), (n_out,),
                                f"one entry per unit of layer {layer}")
    return weights, biases


def _data(r: _Reader, sizes: list[int], kind: str) -> tuple[np.ndarray, np.ndarray]:
    table = r.table("data")
    r.check_keys("data", table, _KEYS["data"])
    for key in ("x", "t"):
        if key not in table:
            raise r.fail("data", None, f"needs {key}: one row per example, e.g. "
                         f"{key} = [[{', '.join(['0'] * min(sizes[0 if key == 'x' else -1], 4))}]]")
    x = _array(r, "data", "x", table["x"])
    if x.ndim != 2 or x.shape[1] != sizes[0] or x.shape[0] == 0:
        raise r.fail("data", "x", f"has shape {shape_str(x.shape)} but must be (N, {sizes[0]}): "
                     f"one row of {sizes[0]} inputs per example, e.g. x = [[...]] for one")
    n, classes = x.shape[0], sizes[-1]
    t = _array(r, "data", "t", table["t"])
    if kind == "cross_entropy" and t.ndim == 1:
        if t.shape != (n,) or not np.all(t == np.round(t)) or t.min() < 0 or t.max() >= classes:
            raise r.fail("data", "t", f"as class indices must be {n} whole numbers in "
                         f"0..{classes - 1} (one per example), got {table['t']!r}")
        return x, t.astype(np.int64)
    if t.shape != (n, classes):
        extra = (f" or {n} class indices" if kind == "cross_entropy" else "")
        raise r.fail("data", "t", f"has shape {shape_str(t.shape)} but must be ({n}, {classes})"
                     f"{extra}: one row of {classes} targets per example")
    if kind == "cross_entropy":
        bad = [i + 1 for i, row in enumerate(t) if row.min() < 0 or abs(row.sum() - 1) > 1e-9]
        if bad:
            raise r.fail("data", "t", f"row {bad[0]} is not a probability distribution (it "
                         f"must be non-negative and sum to 1, e.g. one-hot); got "
                         f"{t[bad[0] - 1].tolist()}")
    return x, t


def latex_symbol(name: str) -> str:
    """A tensor's name in LaTeX: bold, with its layer number or ``in`` as a subscript.

    >>> print(latex_symbol("W1"), latex_symbol("y_in"), latex_symbol("L"))
    \\mathbf{W}_{1} \\mathbf{y}_{\\text{in}} L
    """
    if name == "L":
        return name
    m = re.fullmatch(r"([A-Za-z]+)_?([0-9]+|in)?", name)
    if not m:
        return rf"\mathrm{{{name}}}"
    letter, sub = m.groups()
    sub = "" if sub is None else ("_{\\text{in}}" if sub == "in" else f"_{{{sub}}}")
    return rf"\mathbf{{{letter}}}{sub}"


#: A tiny network used by the docstring examples.
EXAMPLE = """
[network]
sizes = [2, 2, 1]
activations = ["relu", "sigmoid"]
[weights]
W1 = "ones"
W2 = "ones"
[data]
x = [[1, 2]]
t = [[0]]
[loss]
kind = "squared_error"
"""
