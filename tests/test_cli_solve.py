"""``chainrule solve``, end to end as a user types it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from chainrule.commands.solve import cells, latex_number, split_names
from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seed_text() -> str:
    done = run_cli("solve", "examples/seed.toml")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def test_seed_solution_has_the_forward_pass(seed_text):
    assert seed_text.startswith("Hasktorch autograd seed: a 4-3-1 network with all weights 1\n")
    for line in ["x = [-1   2  -3   4]   (1x4)", "a = x W1 = [2  2  2]   (1x3)",
                 "W2 = [1]   (3x1)\n     [1]\n     [1]\n",
                 "h = relu(a) = [2  2  2]   (1x3)", "y_in = h W2 = [6]   (1x1)",
                 "y = sigmoid(y_in) = [0.9975274]   (1x1)", "t = [0]   (1x1)",
                 "L = sum (y - t)^2 = 0.9950609"]:
        assert line in seed_text, line


def test_seed_solution_derives_every_weight_once(seed_text):
    names = re.findall(r"^Derivative ∂L/∂(\w+)$", seed_text, flags=re.M)
    expected = [f"w1{i}{j}" for i in range(1, 5) for j in range(1, 4)] + \
        [f"w2{i}1" for i in range(1, 4)]
    assert names == expected
    assert "Checked 15 derivations" in seed_text


def test_seed_solution_gradients_and_step(seed_text):
    grads = seed_text.split("2. Gradients")[1].split("Derivative")[0]
    # NOTES.md: 9.84164e-3 for W2, 4.92082e-3 * x_i for row i of W1
    for value in ["9.841642e-3", "-4.920821e-3", "-0.01476246", "0.01968328"]:
        assert value in grads, value
    step = seed_text.split("3. One gradient-descent step (learning rate 0.1)")[1]
    # 1 - 0.1 * 9.841643e-3 and 1 - 0.1 * -4.920822e-3
    assert "W2 - 0.1 dL/dW2 =" in step and "0.9990158" in step and "1.000492" in step


def test_wrt_selects_elements_in_the_order_given():
    done = run_cli("solve", "examples/biases.toml", "--wrt", "w211, b11,W1[0, 1]")
    assert done.returncode == 0, done.stderr
    names = re.findall(r"^Derivative ∂L/∂(\w+)$", done.stdout, flags=re.M)
    assert names == ["w211", "b11", "w112"]
    assert "Checked 3 derivations" in done.stdout


def test_unknown_element_is_one_line_listing_valid_names():
    done = run_cli("solve", "examples/seed.toml", "--wrt", "w111,w511")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("chainrule solve: error: examples/seed.toml: no element "
                                  "called 'w511'")
    assert ("valid names: W1: w111..w143; a: a_1..a_3; h: h_1..h_3; W2: w211..w231; "
            "y_in: y_in; y: y\n") in done.stderr


@pytest.mark.parametrize(("fmt", "markers"), [
    ("markdown", ["# Hasktorch autograd seed", "## 1. Forward pass", "$$\n",
                  r"\begin{bmatrix} 2 & 2 & 2 \end{bmatrix}", "### Derivative $", "w_{211}"]),
    ("latex", [r"\documentclass{article}", r"\begin{document}", r"\section*{1. Forward pass}",
               r"\mathbf{y} = \sigma(\mathbf{y}_{\text{in}})", r"\end{document}"]),
    ("html", ["<!DOCTYPE html>", "<h2>1. Forward pass</h2>", "<table class='matrix'>",
              "<math", "</html>"]),
])
def test_formats(fmt, markers, tmp_path):
    out = tmp_path / f"seed.{fmt}"
    done = run_cli("solve", "examples/seed.toml", "--wrt", "w211", "--format", fmt,
                   "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == f"chainrule solve: wrote {out}\n"
    text = out.read_text(encoding="utf-8")
    for marker in markers:
        assert marker in text, marker
    assert "0.9950609" in text
    if fmt == "markdown":
        assert text.count("$$") % 2 == 0
    if fmt == "latex":
        plain = text.replace(r"\{", "").replace(r"\}", "")
        assert plain.count("{") == plain.count("}")
        assert text.count(r"\[") == text.count(r"\]")


def test_out_never_overwrites_without_force(tmp_path):
    out = tmp_path / "solution.txt"
    out.write_text("my notes")
    done = run_cli("solve", "examples/seed.toml", "--out", str(out))
    assert done.returncode == 1
    assert done.stderr == (f"chainrule solve: error: {out} already exists; pass --force to "
                           "overwrite it\n")
    assert out.read_text() == "my notes"
    done = run_cli("solve", "examples/seed.toml", "--wrt", "w111", "--out", str(out), "--force")
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("Hasktorch autograd seed")


def test_bad_files_are_one_line_errors(tmp_path):
    done = run_cli("solve", str(tmp_path / "missing.toml"))
    assert done.returncode == 1
    assert done.stderr == (f"chainrule solve: error: {tmp_path / 'missing.toml'}: No such file "
                           "or directory\n")
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "examples" / "seed.toml").read_text().replace(
        'activations = ["relu", "sigmoid"]', 'activations = ["relu"]'))
    done = run_cli("solve", str(bad))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"chainrule solve: error: {bad}:10: [network] activations has 1 "
                           "entry for 2 layers; give one per non-input layer\n")
    broken = tmp_path / "broken.toml"
    broken.write_text("[network\nsizes = [1, 1]\n")
    done = run_cli("solve", str(broken))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"chainrule solve: error: {broken}:1:9: not valid TOML")


def test_a_large_network_asks_for_wrt(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text("[network]\nsizes = [30, 20, 3]\nactivations = ['relu', 'softmax']\n"
                   "[weights]\nW1 = { random = 'normal', seed = 0 }\nW2 = 'ones'\n"
                   f"[data]\nx = [{[0.5] * 30}]\nt = [1]\n[loss]\nkind = 'cross_entropy'\n")
    done = run_cli("solve", str(big))
    assert done.returncode == 1
    assert done.stderr == (f"chainrule solve: error: {big}: the network has 660 weights and "
                           "biases, too many to derive one by one; choose some with --wrt, "
                           "e.g. --wrt w111\n")
    done = run_cli("solve", str(big), "--wrt", "w1,30,20")
    assert done.returncode == 0, done.stderr
    assert "Derivative ∂L/∂w1,30,20" in done.stdout and "Checked 1 derivation:" in done.stdout


def test_bad_format_is_an_argparse_error():
    done = run_cli("solve", "examples/seed.toml", "--format", "pdf")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "invalid choice: 'pdf'" in done.stderr


@pytest.mark.parametrize("example", ["biases", "softmax", "tanh_mean"])
def test_other_examples_solve(example):
    done = run_cli("solve", f"examples/{example}.toml")
    assert done.returncode == 0, done.stderr
    assert "1. Forward pass" in done.stdout and "3. One gradient-descent step" in done.stdout
    worst = re.search(r"largest relative difference (\S+) from autograd and (\S+) from",
                      done.stdout)
    assert worst and float(worst.group(1)) < 1e-12 and float(worst.group(2)) < 1e-6


def test_cells_and_numbers():
    assert cells(np.float64(2.0)) == [["2"]]
    assert cells(np.array([1.0, 0.5])) == [["1", "0.5"]]
    big = cells(np.arange(100.0).reshape(10, 10))
    assert len(big) == 8 and big[6] == ["⋮"] * 8 and big[0][6] == "…" and big[-1][-1] == "99"
    assert latex_number(9.841643e-3) == r"9.841643 \times 10^{-3}"
    assert latex_number(1.5e-7) == r"1.5 \times 10^{-7}"


def test_split_names():
    assert split_names("w111, w211") == ["w111", "w211"]
    assert split_names("w1,30,20,w111,W1[0, 1], b11") == ["w1,30,20", "w111", "W1[0, 1]", "b11"]
    assert split_names(" w111 ,, ") == ["w111"]
