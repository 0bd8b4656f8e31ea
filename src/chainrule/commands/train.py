"""``chainrule train``: train an MLP on a dataset, a CSV file or a network file.

Examples::

    chainrule train --dataset digits                       # defaults reach >= 97% test accuracy
    chainrule train --dataset moons --hidden 16,16 --activation tanh --epochs 50
    chainrule train --data my.csv --target label --save model.safetensors --plot curves.png
    chainrule train examples/seed.toml --epochs 10         # the network file's own exercise
    chainrule train --resume model.safetensors --epochs 60 --save model.safetensors --force
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

OPTIONS = ("dataset", "data", "target", "hidden", "activation", "dropout", "optimizer", "lr",
           "momentum", "weight_decay", "schedule", "clip", "batch_size", "test_size", "seed",
           "dtype")

#: What a network file itself decides (its layers and its examples).
NETWORK_FIXED = ("target", "hidden", "activation", "dropout", "test_size")


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of widths like 64,32") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: every width must be positive")
    return sizes


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "train", help="train a model on a dataset, a CSV file or a network file",
        description="Train an MLP with a progress bar and held-out evaluation every epoch. "
                    "Defaults: --dataset digits --hidden 512 --activation relu --dropout 0.3 "
                    "--optimizer adam --lr 0.003 --schedule cosine --batch-size 32 --epochs 40 "
                    "--seed 0 (a network file defaults to its own learning rate, plain gradient "
                    "descent on all its examples).")
    p.add_argument("network", nargs="?", metavar="NETWORK.toml",
                   help="a network file: train its network on its examples")
    p.add_argument("--dataset", help="iris, digits, wine, breast_cancer, moons, circles, "
                   "spirals or xor")
    p.add_argument("--data", metavar="CSV", help="your own CSV file (header row; numeric "
                   "features) ...")
    p.add_argument("--target", metavar="COLUMN", help="... and its label column")
    p.add_argument("--hidden", type=_sizes, metavar="W1,W2", help="hidden layer widths")
    p.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "identity"))
    p.add_argument("--dropout", type=float, metavar="P", help="dropout after hidden layers")
    p.add_argument("--optimizer", choices=("adam", "adamw", "sgd", "rmsprop"))
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--momentum", type=float, help="SGD momentum (default 0)")
    p.add_argument("--weight-decay", type=float, help="L2 penalty (decoupled for adamw)")
    p.add_argument("--schedule", choices=("none", "step", "cosine"),
                   help="learning-rate schedule over the epochs")
    p.add_argument("--clip", type=float, metavar="NORM", help="clip the gradient norm")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--epochs", type=int,
                   help="total epochs (when resuming: the new total; the schedule keeps the "
                   "horizon it was started with)")
    p.add_argument("--test-size", type=float, help="held-out fraction (default 0.2)")
    p.add_argument("--seed", type=int, help="seeds the split, the init, shuffling, dropout")
    p.add_argument("--dtype", choices=("float32", "float64"))
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="BLAS threads (default 1: fastest for small matrices on a busy machine)")
    p.add_argument("--save", metavar="PATH", help="write a safetensors checkpoint")
    p.add_argument("--resume", metavar="PATH", help="continue a checkpoint exactly")
    p.add_argument("--plot", metavar="PATH", help="write loss and accuracy curves (PNG)")
    p.add_argument("--force", action="store_true", help="overwrite --save/--plot files")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar or per-epoch lines")
    p.set_defaults(run=run)


def _config(args: argparse.Namespace, saved: Any) -> Any:
    from ..nn.training import TrainConfig

    given = {k: getattr(args, k) for k in OPTIONS if getattr(args, k) is not None}
    if args.network:
        if "dataset" in given or "data" in given:
            raise ValueError("give either a network file or --dataset/--data, not both")
        fixed = [f"--{k.replace('_', '-')}" for k in NETWORK_FIXED if k in given]
        if fixed:
            raise ValueError(f"{', '.join(fixed)} cannot change a network file's network or "
                             "data; edit the file instead")
        given["network"], given["dataset"] = args.network, None
    elif "data" in given:
        if "dataset" in given:
            raise ValueError("give either --dataset or --data, not both")
        given["dataset"] = None
    if saved is None:
        config = TrainConfig(**given)
    else:
        config = saved
        changed = [f"--{k.replace('_', '-')}" for k, v in given.items()
                   if getattr(saved, k) != v]
        if changed:
            raise ValueError(f"{', '.join(changed)} differ from the checkpoint being resumed; "
                             "a resumed run keeps its data, model and optimizer (only --epochs "
                             "may change)")
    if args.epochs is not None:
        config.epochs = args.epochs
    return config


def _check_outputs(args: argparse.Namespace) -> None:
    for flag in ("save", "plot"):
        path = getattr(args, flag)
        if path is None:
            continue
        target = Path(path)
        if target.exists() and not args.force:
            raise FileExistsError(f"--{flag} {path} already exists; pass --force to overwrite it")
        if not target.parent.is_dir() and str(target.parent):
            raise FileNotFoundError(f"--{flag} {path}: the folder {target.parent} does not exist")


def _percent(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def _describe(trainer: Any) -> str:
    c, t = trainer.config, trainer.task
    source = (f"network file {c.network}" if c.network else
              f"{c.data} (target {c.target})" if c.data else c.dataset)
    split = (f"{len(t.X_train)} train / {len(t.X_test)} test" if t.held_out else
             f"{len(t.X_train)} example(s), no held-out data: evaluated on the same examples")
    sizes = "-".join(str(s) for s in t.sizes)
    acts = ",".join(dict.fromkeys(t.activations[:-1])) or "linear"
    if t.activations[-1] != "identity":
        acts += f", output {t.activations[-1]}"
    extras = f", dropout {c.dropout}" if c.dropout else ""
    sched = "" if c.schedule == "none" else f" {c.schedule}"
    return (f"{source}: {split}; MLP {sizes} ({acts}{extras}); {c.optimizer} lr {c.lr:g}"
            f"{sched}, batch {trainer.loader.batch_size}, seed {c.seed}")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..nn.training import blas_threads

    # NOTE: overflow warnings are silenced: a non-finite loss or gradient is reported as one
    # line naming the step and the parameter (Trainer._check_finite).
    with blas_threads(args.threads), np.errstate(all="ignore"):
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    from ..nn.training import TrainConfig, Trainer, read_checkpoint

    _check_outputs(args)
    saved = tensors = meta = None
    if args.resume:
        tensors, meta = read_checkpoint(args.resume)
        saved = TrainConfig.from_json(meta["config"])
    config = _config(args, saved)
    start = time.perf_counter()
    trainer = Trainer(config)
    if tensors is not None and meta is not None:
        trainer.restore(tensors, meta)
    quiet = args.quiet
    if not quiet:
        print(f"chainrule train: {_describe(trainer)}")
        if trainer.epoch:
            print(f"resuming {args.resume} at epoch {trainer.epoch}")
    if trainer.epoch >= config.epochs:
        raise ValueError(f"the checkpoint has already run {trainer.epoch} epochs; pass "
                         f"--epochs above {trainer.epoch} to train further")
    bar = _progress(trainer, quiet)
    try:
        while trainer.epoch < config.epochs:
            record = trainer.run_epoch(on_step=bar.update_step if bar else None)
            line = (f"epoch {record['epoch']:>3}/{config.epochs}  train loss "
                    f"{record['train_loss']:.4f} acc {_percent(record['train_acc'])}  test loss "
                    f"{record['test_loss']:.4f} acc {_percent(record['test_acc'])}")
            if bar:
                bar.write(line)
            elif not quiet:
                print(line, flush=True)
    finally:
        if bar:
            bar.close()
    elapsed = time.perf_counter() - start
    last = trainer.history[-1]
    n_test = len(trainer.task.y_test)
    what = "test" if trainer.task.held_out else "training"
    if last["test_acc"] is not None:
        correct = round(last["test_acc"] * n_test)
        print(f"{what} accuracy {100 * last['test_acc']:.1f}% ({correct}/{n_test}), {what} "
              f"loss {last['test_loss']:.4f}, after {trainer.epoch} epochs in {elapsed:.1f} s")
    else:
        print(f"{what} loss {last['test_loss']:.6g} after {trainer.epoch} epochs in "
              f"{elapsed:.1f} s")
    if args.save:
        trainer.save(args.save, force=args.force)
        print(f"saved model, optimizer state and history to {args.save}")
    if args.plot:
        _plot(trainer.history, args.plot, args.force, _describe(trainer))
        print(f"wrote loss and accuracy curves to {args.plot}")
    return 0


class _Bar:
    """A tqdm bar over all steps, on stderr, showing the running loss and accuracy."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def update_step(self, step: int, loss: float, acc: float | None) -> None:
        post = {"loss": f"{loss:.4f}"}
        if acc is not None:
            post["acc"] = f"{100 * acc:.1f}%"
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(1)

    def write(self, line: str) -> None:
        self.bar.write(line, file=sys.stdout)

    def close(self) -> None:
        self.bar.close()


def _progress(trainer: Any, quiet: bool) -> _Bar | None:
    # NOTE: no bar when stderr is not a terminal (logs, pipes, CI): it would fill them with
    # carriage-return redraws.
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    per_epoch = len(trainer.loader)
    return _Bar(tqdm(total=trainer.config.epochs * per_epoch,
                     initial=trainer.epoch * per_epoch, file=sys.stderr, unit="step",
                     leave=False, dynamic_ncols=True, desc="train"))


def _plot(history: list[dict[str, Any]], path: str, force: bool, title: str) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from . import write_output

    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(10, 4), dpi=100)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for key, label in (("train_loss", "train"), ("test_loss", "test")):
        ax_loss.plot(epochs, [h[key] for h in history], marker=".", label=label)
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss", yscale="log")
    for key, label in (("train_acc", "train"), ("test_acc", "test")):
        values = [h[key] for h in history]
        if all(v is not None for v in values):
            ax_acc.plot(epochs, [100 * v for v in values], marker=".", label=label)
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    write_output(path, buffer.getvalue(), force)
