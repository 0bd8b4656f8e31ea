"""``chainrule predict``: score a CSV file with a model saved by ``chainrule train --save``.

With ``--target`` (a column of true labels) it prints the accuracy; otherwise it writes one
prediction per row (CSV: the row number, the predicted class and its probability).
"""

from __future__ import annotations

import argparse

from . import add_output_arguments


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "predict", help="score a CSV file with saved weights",
        description="Load a checkpoint written by `chainrule train --save` and run its model on "
                    "a CSV file whose columns are the training features (matched by name, or "
                    "by position when the names differ). Prints the accuracy when --target "
                    "names a label column, else writes predictions.")
    p.add_argument("--weights", required=True, metavar="PATH", help="a training checkpoint")
    p.add_argument("--data", required=True, metavar="CSV", help="the rows to score")
    p.add_argument("--target", metavar="COLUMN", help="the column of true labels, if any")
    add_output_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import functional as F
    from ..data import load_csv
    from ..engine import no_grad
    from ..errors import ShapeError
    from ..nn.training import load_model
    from ..tensor import Tensor
    from . import write_output

    model, info, tensors = load_model(args.weights)
    bundle = load_csv(args.data, target=args.target, labels_as_text=True)
    features: list[str] = info["features"]
    if features and all(f in bundle.feature_names for f in features):
        X = bundle.X[:, [bundle.feature_names.index(f) for f in features]]
    elif bundle.X.shape[1] == info["sizes"][0]:
        X = bundle.X
    else:
        raise ShapeError(f"{args.data}: {bundle.X.shape[1]} feature columns, but the model "
                         f"takes {info['sizes'][0]} ({', '.join(features[:5])}...); give the "
                         "columns it was trained on")
    X = (X - tensors["data.mean"]) / tensors["data.std"]
    with no_grad():
        out = model(Tensor._wrap(X.astype(info["dtype"])))
    classes: list[str] = info["classes"]
    if info["kind"] != "classify":
        values = out.data
        if args.target is not None:
            truth = np.array([float(v) for v in bundle.target_labels]).reshape(values.shape)
            print(f"mean squared error {float(np.mean((values - truth) ** 2)):.6g} on "
                  f"{len(values)} rows of {args.data}")
            return 0
        lines = ["row," + ",".join(f"y{j + 1}" for j in range(values.shape[1]))]
        lines += [f"{i + 1}," + ",".join(repr(float(v)) for v in row)
                  for i, row in enumerate(values)]
        return _emit(args, "\n".join(lines) + "\n", write_output)
    probs = F.softmax(out, axis=-1).data
    predicted = probs.argmax(axis=1)
    if args.target is not None:
        truth = np.array([_class_index(v, classes, args.target) for v in bundle.target_labels])
        correct = int(np.sum(predicted == truth))
        print(f"accuracy {100 * correct / len(truth):.1f}% ({correct}/{len(truth)}) on "
              f"{args.data}")
        return 0
    lines = ["row,prediction,probability"]
    lines += [f"{i + 1},{classes[k] if k < len(classes) else k},{probs[i, k]:.6f}"
              for i, k in enumerate(predicted)]
    return _emit(args, "\n".join(lines) + "\n", write_output)


def _class_index(label: str, classes: list[str], column: str) -> int:
    """A true label as the model's class index: by class name, else as a whole number."""
    if label in classes:
        return classes.index(label)
    try:
        value = float(label)
    except ValueError:
        value = -1.0
    if value == int(value) and 0 <= value < len(classes):
        return int(value)
    raise ValueError(f"column {column!r}: label {label!r} is none of the model's classes "
                     f"({', '.join(classes)})")


def _emit(args: argparse.Namespace, text: str, write_output) -> int:  # type: ignore[no-untyped-def]
    if args.out:
        write_output(args.out, text, args.force)
        print(f"wrote predictions to {args.out}")
    else:
        print(text, end="")
    return 0
