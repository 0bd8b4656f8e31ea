"""``chainrule train`` and ``chainrule predict`` end to end, and the seed network's training."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from chainrule import data
from chainrule.cli import main
from chainrule.network import load_network
from chainrule.nn.training import TrainConfig, Trainer, read_checkpoint
from chainrule.weights import load_weights, save_weights

SMALL = ["--dataset", "moons", "--hidden", "16", "--epochs", "3", "--batch-size", "16"]


def _train(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["train", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_prints_epochs_and_held_out_accuracy(capsys) -> None:
    code, out, err = _train(capsys, *SMALL)
    assert code == 0 and err == ""           # no progress bar when stderr is not a terminal
    lines = out.splitlines()
    assert lines[0].startswith("chainrule train: moons: 160 train / 40 test; MLP 2-16-2")
    assert [line.split()[1] for line in lines[1:4]] == ["1/3", "2/3", "3/3"]
    assert lines[4].startswith("test accuracy ") and "/40)" in lines[4]
    code, out, _ = _train(capsys, *SMALL, "--quiet")
    assert code == 0 and len(out.splitlines()) == 1


def test_save_refuses_to_overwrite_and_resume_is_exact(tmp_path, capsys) -> None:
    base = [*SMALL, "--schedule", "none", "--dropout", "0.2"]
    full, half, resumed = (tmp_path / n for n in ("full.st", "half.st", "resumed.st"))
    assert _train(capsys, *base, "--epochs", "4", "--save", str(full))[0] == 0
    code, _, err = _train(capsys, *base, "--save", str(full))
    assert code == 1 and "already exists; pass --force" in err and len(err.splitlines()) == 1
    assert _train(capsys, *base, "--epochs", "2", "--save", str(half))[0] == 0
    code, out, _ = _train(capsys, "--resume", str(half), "--epochs", "4", "--save", str(resumed))
    assert code == 0 and "resuming" in out and "epoch   3/4" in out
    a, b = load_weights(full), load_weights(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    code, _, err = _train(capsys, "--resume", str(half), "--lr", "0.5")
    assert code == 1 and "--lr differ from the checkpoint" in err


def test_trainer_resume_is_bitwise_with_cosine_schedule_and_dropout(tmp_path) -> None:
    config = dict(dataset="spirals", hidden=[12, 12], epochs=4, batch_size=20, dropout=0.2,
                  optimizer="adamw", weight_decay=0.01, clip=1.0)
    straight = Trainer(TrainConfig(**config))
    for _ in range(4):
        straight.run_epoch()
    first = Trainer(TrainConfig(**config))
    first.run_epoch()
    first.run_epoch()
    first.save(tmp_path / "c.st")
    tensors, meta = read_checkpoint(tmp_path / "c.st")
    second = Trainer(TrainConfig.from_json(meta["config"]))
    second.restore(tensors, meta)
    second.run_epoch()
    second.run_epoch()
    for key, value in straight.model.state_dict().items():
        assert np.array_equal(value, second.model.state_dict()[key]), key
    assert straight.history == second.history


def test_seed_network_trains_with_its_loss_falling_every_step() -> None:
    spec = load_network("examples/seed.toml")
    trainer = Trainer(TrainConfig(network="examples/seed.toml", epochs=30, dtype="float64"))
    # The first loss and the first step are exactly the network file's own (x @ W layout).
    net = spec.build()
    after_one = net.step()
    losses: list[float] = []
    trainer.run_epoch(on_step=lambda step, loss, acc: losses.append(loss))
    assert losses[0] == pytest.approx(float(net.loss.data), rel=1e-14)
    linears = [m for m in trainer.model if hasattr(m, "weight")]
    for layer, linear in enumerate(linears, start=1):
        assert np.allclose(linear.weight.data.T, after_one[f"W{layer}"], rtol=0, atol=1e-15)
    for _ in range(29):
        trainer.run_epoch(on_step=lambda step, loss, acc: losses.append(loss))
    assert len(losses) == 30
    # With the file's learning rate 0.1 the loss falls at every one of the first 26 steps ...
    assert all(b < a for a, b in itertools.pairwise(losses[:26])), losses
    # ... until step 26 pushes every hidden pre-activation below 0: the ReLUs die, y = sigmoid(0)
    # and the loss stays at (1/2)^2 with zero gradient, as plain gradient descent must.
    assert losses[25:] == [0.25] * 5


def test_network_file_with_cross_entropy_trains(capsys) -> None:
    code, out, _ = _train(capsys, "examples/softmax.toml", "--epochs", "20")
    assert code == 0 and "no held-out data" in out and "MLP 2-3-3" in out
    losses = [float(line.split()[4]) for line in out.splitlines() if line.startswith("epoch")]
    assert losses[-1] < losses[0]
    code, _, err = _train(capsys, "examples/softmax.toml", "--dataset", "iris")
    assert code == 1 and "not both" in err
    code, _, err = _train(capsys, "examples/softmax.toml", "--hidden", "4")
    assert code == 1 and "--hidden cannot change a network file" in err


def test_non_finite_loss_stops_with_one_line_naming_step_and_parameter(capsys) -> None:
    code, _, err = _train(capsys, *SMALL, "--optimizer", "sgd", "--lr", "1e30", "--quiet")
    assert code == 1 and len(err.splitlines()) == 1
    assert "step " in err and "the loss is" in err
    # the output layer (3: after Linear, ReLU, Dropout) is the first reached by backward
    assert re.search(r"the gradient of 3\.(weight|bias) is not finite", err), err
    assert "lower the learning rate" in err


def test_plot_writes_a_png(tmp_path, capsys) -> None:
    png = tmp_path / "curves.png"
    code, out, _ = _train(capsys, *SMALL, "--plot", str(png))
    assert code == 0 and f"wrote loss and accuracy curves to {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert _train(capsys, *SMALL, "--plot", str(png))[0] == 1


def test_predict_scores_a_csv(tmp_path, capsys) -> None:
    iris = data.load_iris()
    labelled, unlabelled = tmp_path / "iris.csv", tmp_path / "rows.csv"
    data.save_csv(labelled, iris.X, [iris.target_names[i] for i in iris.y], iris.feature_names,
                  "species")
    data.save_csv(unlabelled, iris.X[[0, 75, 149]], None, iris.feature_names)
    weights = tmp_path / "iris.st"
    code, out, _ = _train(capsys, "--data", str(labelled), "--target", "species", "--epochs",
                          "30", "--hidden", "32", "--batch-size", "16", "--save", str(weights))
    assert code == 0
    test_acc = float(out.split("test accuracy ")[1].split("%")[0])
    assert main(["predict", "--weights", str(weights), "--data", str(labelled), "--target",
                 "species"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("accuracy ") and "/150) on" in out
    assert float(out.split()[1].rstrip("%")) >= min(test_acc, 80.0)
    assert main(["predict", "--weights", str(weights), "--data", str(unlabelled)]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "row,prediction,probability" and len(rows) == 4
    assert [r.split(",")[1] for r in rows[1:]] == ["setosa", "versicolor", "virginica"]
    out_csv = tmp_path / "pred.csv"
    argv = ["predict", "--weights", str(weights), "--data", str(unlabelled), "--out", str(out_csv)]
    assert main(argv) == 0 and out_csv.read_text().splitlines() == rows
    assert main(argv) == 1 and "--force" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["predict", "--weights", str(weights), "--data", str(bad)]) == 1
    assert "the model takes 4" in capsys.readouterr().err
    assert main(["predict", "--weights", str(labelled), "--data", str(bad)]) == 1
    assert "chainrule predict: error:" in capsys.readouterr().err


def test_csv_target_errors_are_one_line(tmp_path, capsys) -> None:
    path = tmp_path / "r.csv"
    path.write_text("x,y\n1,0.5\n2,1.5\n3,2.5\n4,3.5\n5,4.5\n")
    code, _, err = _train(capsys, "--data", str(path), "--target", "y")
    assert code == 1 and "must be class labels" in err and len(err.splitlines()) == 1
    code, _, err = _train(capsys, "--data", str(path))
    assert code == 1 and "--data needs --target" in err


def test_resume_rejects_foreign_corrupt_and_truncated_files(tmp_path, capsys) -> None:
    good = tmp_path / "good.st"
    assert _train(capsys, *SMALL, "--epochs", "1", "--save", str(good))[0] == 0
    tensors, meta = load_weights(good, with_metadata=True)
    cases = {
        "foreign.st": ({"w": np.zeros(2)}, {}, "not a chainrule training checkpoint"),
        "json.st": (tensors, {**meta, "rng": "{oops"}, "metadata 'rng' is not valid JSON"),
        "lacks.st": (tensors, {k: v for k, v in meta.items() if k != "optimizer"},
                     "the checkpoint lacks optimizer"),
    }
    for name, (arrays, metadata, message) in cases.items():
        save_weights(tmp_path / name, arrays, metadata=metadata)
        code, _, err = _train(capsys, "--resume", str(tmp_path / name), "--epochs", "2")
        assert code == 1 and message in err and len(err.splitlines()) == 1, err
    truncated = tmp_path / "truncated.st"
    truncated.write_bytes(good.read_bytes()[:-10])
    code, _, err = _train(capsys, "--resume", str(truncated), "--epochs", "2")
    assert code == 1 and "truncated.st" in err and len(err.splitlines()) == 1
    code, _, err = _train(capsys, "--resume", str(good), "--epochs", "1")
    assert code == 1 and "already run 1 epochs" in err
