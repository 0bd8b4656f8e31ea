"""The training loop behind ``chainrule train`` and ``chainrule predict``, usable from Python.

A :class:`TrainConfig` (plain JSON-able values) says what to train: a named dataset, a CSV file
or a network file, the model, the optimizer and the schedule. :class:`Trainer` builds it all
deterministically from the config's seed, runs epochs, and saves or restores a checkpoint: one
safetensors file holding the model, the optimizer state, the epoch, the random generators and
the history, so that a resumed run is bitwise equal to one that never stopped.

>>> from chainrule.nn.training import TrainConfig, Trainer
>>> trainer = Trainer(TrainConfig(dataset="xor", hidden=[8], epochs=2, lr=0.05, seed=0))
>>> record = trainer.run_epoch()
>>> record["epoch"], 0.0 <= record["test_acc"] <= 1.0
(1, True)
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from .. import creation
from .. import functional as F
from ..engine import no_grad
from ..errors import AnomalyError, FileFormatError
from ..tensor import Tensor
from .layers import MLP, Linear
from .module import Module

#: The ``format`` metadata value of a training checkpoint.
CHECKPOINT_FORMAT = "chainrule-train/1"
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("none", "step", "cosine")
DEFAULT_LR = 0.003


@dataclass
class TrainConfig:
    """Everything that determines a training run (the defaults train digits to >= 97%)."""

    dataset: str | None = "digits"
    data: str | None = None          # a CSV file (with ``target``) instead of a dataset
    target: str | None = None
    network: str | None = None       # a network file (TOML) instead of either
    hidden: list[int] = field(default_factory=lambda: [512])
    activation: str = "relu"
    dropout: float = 0.3
    optimizer: str | None = None     # adam (sgd for a network file: plain gradient descent)
    lr: float | None = None          # 0.003 (a network file's own learning_rate)
    momentum: float = 0.0
    weight_decay: float = 0.0
    schedule: str | None = None      # cosine (none for a network file)
    clip: float | None = None
    batch_size: int = 32
    epochs: int = 40
    test_size: float = 0.2
    seed: int = 0
    dtype: str = "float32"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in known})


@dataclass
class Task:
    """The prepared data and what the model must compute on it."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    sizes: list[int]
    activations: list[str]
    bias: bool
    loss: Callable[[Tensor, Any], Tensor]
    kind: str                         # "classify" | "regress" (network files' squared error)
    mean: np.ndarray
    std: np.ndarray
    feature_names: list[str]
    target_names: list[str]
    held_out: bool = True
    init: dict[str, np.ndarray] | None = None
    batch_size: int | None = None
    lr: float | None = None


def prepare(config: TrainConfig) -> Task:
    """Load, split and standardise the data (seeded); decide sizes, activations and loss."""
    from .. import data

    if config.network:
        return _prepare_network(config)
    if config.data:
        bundle = data.load_csv(config.data, target=config.target or _required_target())
    else:
        bundle = data.load_dataset(config.dataset or "digits", seed=config.seed)
    assert bundle.y is not None
    if bundle.y.dtype.kind != "i" or bundle.n_classes < 2:
        raise ValueError(f"{bundle.name}: the target {bundle.target!r} must be class labels (two "
                         "or more classes: names or whole numbers from 0), got real numbers; "
                         "chainrule train classifies")
    X_tr, X_te, y_tr, y_te = data.train_test_split(
        bundle.X, bundle.y, test_size=config.test_size, seed=config.seed, stratify=bundle.y)
    scaler = data.Standardizer.fit(X_tr)
    n_hidden = len(config.hidden)
    return Task(scaler.transform(X_tr), y_tr, scaler.transform(X_te), y_te,
                [bundle.X.shape[1], *config.hidden, bundle.n_classes],
                [config.activation] * n_hidden + ["identity"], True,
                lambda out, y: F.cross_entropy(out, y), "classify", scaler.mean, scaler.std,
                bundle.feature_names, bundle.target_names)


def _required_target() -> str:
    raise ValueError("--data needs --target COLUMN: the CSV column holding the labels")


def _prepare_network(config: TrainConfig) -> Task:
    from ..network import load_network

    spec = load_network(config.network)  # type: ignore[arg-type]
    init = {}
    for layer in range(1, len(spec.sizes)):
        # NOTE: network files store W{l} as (in, out) (x @ W); Linear keeps PyTorch's (out, in).
        init[f"W{layer}"] = spec.weights[f"W{layer}"].T
        if spec.bias:
            init[f"b{layer}"] = spec.biases[f"b{layer}"]
    activations = list(spec.activations)
    if spec.loss_kind == "cross_entropy":
        # The model outputs logits; the loss applies log-softmax itself (stable).
        activations[-1] = "identity"
        kind, t = "classify", spec.t

        def loss(out: Tensor, y: Any) -> Tensor:
            return F.cross_entropy(out, y, spec.reduction)
    else:
        kind, t = "regress", spec.t

        def loss(out: Tensor, y: Any) -> Tensor:
            value = F.mse_loss(out, y, spec.reduction)
            return value * 0.5 if spec.half else value
    n_in = spec.sizes[0]
    return Task(spec.x, t, spec.x, t, list(spec.sizes), activations, spec.bias, loss, kind,
                np.zeros(n_in), np.ones(n_in), [f"x{i + 1}" for i in range(n_in)],
                [str(c) for c in range(spec.sizes[-1])] if kind == "classify" else [],
                held_out=False, init=init, batch_size=len(spec.x), lr=spec.learning_rate)


def blas_threads(n: int = 1) -> contextlib.AbstractContextManager[Any]:
    """Limit NumPy's BLAS to ``n`` threads inside a ``with`` block (if threadpoolctl is there).

    NOTE: an MLP's matrices are small; with several threads OpenBLAS spends its time waiting
    for the other threads, which on a busy 2-core machine made training 10x slower.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover (it comes with scikit-learn)
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def build_model(sizes: list[int], activations: list[str], bias: bool, dropout: float,
                dtype: Any) -> Module:
    return MLP(sizes, activation=activations, bias=bias, dropout=dropout, dtype=dtype)


def accuracy(out: np.ndarray, y: np.ndarray, kind: str) -> float | None:
    """Fraction of correct predictions; None for a regression target that is not 0/1."""
    if kind == "classify":
        target = y if y.ndim == 1 else y.argmax(axis=1)
        return float(np.mean(out.argmax(axis=1) == target))
    if out.shape[1] == 1 and np.all((y == 0) | (y == 1)):
        return float(np.mean((out > 0.5) == (y > 0.5)))
    return None


class Trainer:
    """Builds model, optimizer, schedule and loader from a config; runs and checkpoints them."""

    def __init__(self, config: TrainConfig) -> None:
        from .. import data, optim

        network = bool(config.network)
        config.optimizer = config.optimizer or ("sgd" if network else "adam")
        config.schedule = config.schedule or ("none" if network else "cosine")
        if network:
            config.dropout = 0.0
        self.config = config
        if config.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {config.optimizer!r}; use one of "
                             f"{', '.join(OPTIMIZERS)}")
        if config.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {config.schedule!r}; use one of "
                             f"{', '.join(SCHEDULES)}")
        if int(config.epochs) < 1:
            raise ValueError(f"--epochs must be at least 1, got {config.epochs}")
        self.dtype = np.dtype(config.dtype)
        creation.manual_seed(config.seed)
        self.task = task = prepare(config)
        self.model = build_model(task.sizes, task.activations, task.bias, config.dropout,
                                 self.dtype)
        if task.init is not None:
            linears = [m for m in self.model.modules() if isinstance(m, Linear)]
            for layer, linear in enumerate(linears, start=1):
                linear.weight.data = task.init[f"W{layer}"].astype(self.dtype)
                if linear.bias is not None:
                    linear.bias.data = task.init[f"b{layer}"].astype(self.dtype)
        self.params = list(self.model.parameters())
        if config.lr is None:
            config.lr = task.lr if task.lr is not None else DEFAULT_LR
        self.optimizer = _make_optimizer(optim, config, self.params, config.lr)
        self.scheduler = None
        if config.schedule == "step":
            self.scheduler = optim.StepLR(self.optimizer, step_size=max(1, config.epochs // 3),
                                          gamma=0.1)
        elif config.schedule == "cosine":
            self.scheduler = optim.CosineAnnealingLR(self.optimizer, T_max=config.epochs)
        y_dtype = task.y_train.dtype if task.y_train.dtype.kind == "i" else self.dtype
        self.loader = data.DataLoader(
            data.TensorDataset(task.X_train.astype(self.dtype), task.y_train.astype(y_dtype)),
            batch_size=task.batch_size or config.batch_size, shuffle=task.held_out,
            seed=config.seed)
        self.epoch = 0
        self.step_count = 0
        self.history: list[dict[str, Any]] = []

    # ---- running -----------------------------------------------------------------------------
    def run_epoch(self, on_step: Callable[[int, float, float | None], None] | None = None
                  ) -> dict[str, Any]:
        """One pass over the training data; returns the epoch's record (losses, accuracies)."""
        from ..optim import clip_grad_norm_

        self.model.train()
        total, correct, seen, scored = 0.0, 0.0, 0, True
        kind = self.task.kind
        for batch, (xb, yb) in enumerate(self.loader, start=1):
            self.step_count += 1
            out = self.model(xb)
            loss = self.task.loss(out, yb.data if yb.dtype.kind == "i" else yb)
            self.optimizer.zero_grad()
            loss.backward()
            value = float(loss.data)
            self._check_finite(value, batch)
            if self.config.clip:
                clip_grad_norm_(self.params, self.config.clip)
            self.optimizer.step()
            n = len(xb)
            total += value * n
            seen += n
            acc = accuracy(out.data, yb.data, kind)
            correct += (acc or 0.0) * n
            scored = scored and acc is not None
            if on_step is not None:
                on_step(self.step_count, value, acc)
        if self.scheduler is not None:
            self.scheduler.step()
        self.epoch += 1
        test_loss, test_acc = self.evaluate(self.task.X_test, self.task.y_test)
        record = {"epoch": self.epoch, "train_loss": total / seen,
                  "train_acc": correct / seen if scored else None, "test_loss": test_loss,
                  "test_acc": test_acc,
                  "lr": self.optimizer.param_groups[0]["lr"]}
        self.history.append(record)
        return record

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        """Loss and accuracy on data already standardised, in evaluation mode."""
        self.model.eval()
        with no_grad():
            out = self.model(Tensor._wrap(np.asarray(X, dtype=self.dtype)))
            target = y if y.dtype.kind == "i" else y.astype(self.dtype)
            loss = float(self.task.loss(out, target).data)
        self.model.train()
        return loss, accuracy(out.data, y, self.task.kind)

    def _check_finite(self, loss: float, batch: int) -> None:
        named = [(n, p) for n, p in self.model.named_parameters() if p.grad is not None]
        bad = [n for n, p in reversed(named) if not np.all(np.isfinite(p.grad.data))]
        if math.isfinite(loss) and not bad:
            return
        where = f"step {self.step_count} (epoch {self.epoch + 1}, batch {batch})"
        if bad:
            grads = (f"the gradient of {bad[0]} is not finite (the first in backward order; "
                     f"{len(bad)} of {len(named)} parameters have non-finite gradients)")
        else:
            grads = "every gradient is still finite, so the parameters themselves overflowed"
        lr = self.optimizer.param_groups[0]["lr"]
        raise AnomalyError(f"{where}: the loss is {loss}; {grads}; lower the learning rate "
                           f"(--lr {lr:g}) or clip gradients (--clip 1.0)")

    # ---- checkpoints -------------------------------------------------------------------------
    def save(self, path: str | Path, force: bool = False) -> None:
        """Write model, optimizer, schedule, generators and history to a safetensors file."""
        from ..optim import flatten_state
        from ..weights import save_weights

        tensors: dict[str, np.ndarray] = {f"model.{k}": v for k, v in
                                          self.model.state_dict().items()}
        optim_arrays, optim_meta = flatten_state(self.optimizer.state_dict())
        tensors.update(optim_arrays)
        tensors["data.mean"], tensors["data.std"] = self.task.mean, self.task.std
        t = self.task
        meta = {
            "format": CHECKPOINT_FORMAT,
            "config": self.config.to_json(),
            "model": json.dumps({"sizes": t.sizes, "activations": t.activations,
                                 "bias": t.bias, "dropout": self.config.dropout,
                                 "kind": t.kind, "dtype": self.dtype.name}),
            "features": json.dumps(t.feature_names),
            "classes": json.dumps(t.target_names),
            "optimizer": optim_meta,
            "scheduler": json.dumps(self.scheduler.state_dict() if self.scheduler else None),
            "epoch": str(self.epoch),
            "step": str(self.step_count),
            "rng": json.dumps({"loader": self.loader.generator.bit_generator.state,
                               "global": creation.default_generator().bit_generator.state}),
            "history": json.dumps(self.history),
        }
        save_weights(path, tensors, force=force, metadata=meta)

    def restore(self, tensors: dict[str, np.ndarray], meta: dict[str, str]) -> None:
        """Continue from a checkpoint saved by :meth:`save` with the same config."""
        from ..optim import unflatten_state

        self.model.load_state_dict(model_state(tensors))
        self.optimizer.load_state_dict(unflatten_state(tensors, meta["optimizer"]))
        scheduler = json.loads(meta["scheduler"])
        if self.scheduler is not None and scheduler is not None:
            self.scheduler.load_state_dict(scheduler)
        self.epoch, self.step_count = int(meta["epoch"]), int(meta["step"])
        rng = json.loads(meta["rng"])
        self.loader.generator.bit_generator.state = rng["loader"]
        creation.default_generator().bit_generator.state = rng["global"]
        self.history = json.loads(meta["history"])


def _make_optimizer(optim: Any, config: TrainConfig, params: list[Any], lr: float) -> Any:
    wd = config.weight_decay
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    if config.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=wd)
    cls = optim.AdamW if config.optimizer == "adamw" else optim.Adam
    return cls(params, lr=lr, weight_decay=wd)


def model_state(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}


def read_checkpoint(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors and metadata of a checkpoint, or a clear error for any other file."""
    from ..weights import load_weights

    tensors, meta = load_weights(path, with_metadata=True)
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise FileFormatError(f"{path}: not a chainrule training checkpoint (no format = "
                              f"{CHECKPOINT_FORMAT!r} in its metadata); save one with "
                              "chainrule train --save PATH")
    needed = ("config", "model", "optimizer", "scheduler", "epoch", "step", "rng", "history")
    missing = [k for k in needed if k not in meta]
    if missing or "data.mean" not in tensors or "data.std" not in tensors:
        raise FileFormatError(f"{path}: the checkpoint lacks "
                              f"{', '.join(missing or ['data.mean / data.std'])}")
    for key in needed:
        try:
            json.loads(meta[key])
        except ValueError as exc:
            raise FileFormatError(f"{path}: metadata {key!r} is not valid JSON ({exc})") from None
    return tensors, meta


def load_model(path: str | Path) -> tuple[Module, dict[str, Any], dict[str, np.ndarray]]:
    """The trained model of a checkpoint (in eval mode), its description and its tensors."""
    tensors, meta = read_checkpoint(path)
    info = json.loads(meta["model"])
    info["features"] = json.loads(meta.get("features", "[]"))
    info["classes"] = json.loads(meta.get("classes", "[]"))
    model = build_model(info["sizes"], info["activations"], info["bias"], info["dropout"],
                        np.dtype(info["dtype"]))
    model.load_state_dict(model_state(tensors))
    model.eval()
    return model, info, tensors
