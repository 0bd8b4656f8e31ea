"""Network files: parsing, defaults, weight rules and every validation error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chainrule.errors import FileFormatError
from chainrule.network import load_network, parse_network

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "examples" / "seed.toml").read_text()


def edit(old: str, new: str, text: str = SEED) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def fails(text: str) -> str:
    with pytest.raises(FileFormatError) as info:
        parse_network(text, source="net.toml")
    return str(info.value)


def test_seed_file_parses_to_the_seed():
    spec = load_network(ROOT / "examples" / "seed.toml")
    assert spec.sizes == [4, 3, 1]
    assert spec.activations == ["relu", "sigmoid"]
    assert not spec.bias and spec.biases == {}
    np.testing.assert_array_equal(spec.weights["W1"], np.ones((4, 3)))
    np.testing.assert_array_equal(spec.weights["W2"], np.ones((3, 1)))
    np.testing.assert_array_equal(spec.x, [[-1, 2, -3, 4]])
    np.testing.assert_array_equal(spec.t, [[0]])
    assert (spec.loss_kind, spec.half, spec.reduction) == ("squared_error", False, "sum")
    assert spec.learning_rate == 0.1
    assert spec.title.startswith("Hasktorch autograd seed")
    assert spec.source.endswith("seed.toml")


MINIMAL = """
[network]
sizes = [2, 1]
activations = ["identity"]
[weights]
W1 = "zeros"
[data]
x = [[1, 2]]
t = [[3]]
[loss]
kind = "squared_error"
"""


def test_defaults():
    spec = parse_network(MINIMAL, source="dir/minimal.toml")
    assert spec.title == "minimal"
    assert (spec.bias, spec.half, spec.reduction, spec.learning_rate) == (False, False, "sum", 0.1)


@pytest.mark.parametrize(("rule", "expected"), [
    ('"ones"', np.ones((2, 1))),
    ('"zeros"', np.zeros((2, 1))),
    ("0.25", np.full((2, 1), 0.25)),
    ("{ constant = -2 }", np.full((2, 1), -2.0)),
    ("[[1.5], [-2]]", np.array([[1.5], [-2.0]])),
    ('{ random = "normal", scale = 0.1, seed = 3 }',
     np.random.default_rng(3).normal(0.0, 0.1, (2, 1))),
    ('{ random = "uniform", scale = 2, seed = 4 }',
     np.random.default_rng(4).uniform(-2.0, 2.0, (2, 1))),
])
def test_weight_rules(rule, expected):
    spec = parse_network(edit('W1 = "zeros"', f"W1 = {rule}", MINIMAL))
    np.testing.assert_array_equal(spec.weights["W1"], expected)


def test_random_rules_are_reproducible_and_seeded():
    text = edit('W1 = "zeros"', 'W1 = { random = "normal", seed = 7 }', MINIMAL)
    a, b = parse_network(text).weights["W1"], parse_network(text).weights["W1"]
    np.testing.assert_array_equal(a, b)
    other = parse_network(edit("seed = 7", "seed = 8", text)).weights["W1"]
    assert not np.array_equal(a, other)


def test_biases_default_to_zeros_and_take_rules():
    text = edit("activations", "bias = true\nactivations", MINIMAL)
    spec = parse_network(text)
    np.testing.assert_array_equal(spec.biases["b1"], [0.0])
    spec = parse_network(edit('W1 = "zeros"', 'W1 = "zeros"\nb1 = [0.5]', text))
    np.testing.assert_array_equal(spec.biases["b1"], [0.5])


def test_cross_entropy_targets_as_indices_or_rows():
    text = SEED.replace('"sigmoid"]', '"softmax"]').replace("[4, 3, 1]", "[4, 3, 2]")
    text = text.replace('kind = "squared_error"', 'kind = "cross_entropy"')
    text = text.replace("half = false", "")
    spec = parse_network(text.replace("t = [[0]]", "t = [1]"))
    assert spec.t.dtype == np.int64 and spec.t.tolist() == [1]
    spec = parse_network(text.replace("t = [[0]]", "t = [[0, 1]]"))
    assert spec.t.dtype == np.float64 and spec.t.tolist() == [[0.0, 1.0]]
    assert "row 1 is not a probability distribution" in fails(
        text.replace("t = [[0]]", "t = [[0.5, 1]]"))
    assert "class indices must be 1 whole numbers in 0..1" in fails(
        text.replace("t = [[0]]", "t = [2]"))


# (edit of seed.toml, expected message fragment, expected line)
ERRORS = [
    (('activations = ["relu", "sigmoid"]', 'activations = ["relu"]'),
     "[network] activations has 1 entry for 2 layers; give one per non-input layer", 10),
    (('activations = ["relu", "sigmoid"]', 'activations = ["relu", "swish"]'),
     "[network] activations is 'swish'; choose one of \"identity\", \"relu\"", 10),
    (("sizes = [4, 3, 1]", "sizes = [4, 3, 0]"),
     "[network] sizes must list at least two positive whole numbers", 9),
    (("sizes = [4, 3, 1]", "sizes = [4]"),
     "[network] sizes must list at least two positive whole numbers", 9),
    (("bias = false", "bias = 0"), "[network] bias must be true or false, got 0", 11),
    (("bias = false", "bias = false\nactivation = 1"),
     "[network] activation is not a known key; valid here: sizes, activations, bias", 12),
    (('[4, 3, 1]                    # input, hidden, output\nactivations = ["relu", "sigmoid"]',
      '[4, 3, 1]\nactivations = ["relu", "softmax"]'),
     "ends with softmax over a single output unit", 10),
    (('W2 = "ones"', 'W2 = [[1, 1, 1]]'),
     "[weights] W2 has shape (1, 3) but must be (3, 1): layer 2 maps 3 input(s) to 1 unit(s)",
     15),
    (('W2 = "ones"', 'W2 = [[1], [1, 2], [1]]'), "[weights] W2 is ragged", 15),
    (('W2 = "ones"', 'W2 = [["a"], [1], [1]]'),
     "[weights] W2 holds 'a' (str); only numbers and lists of numbers", 15),
    (('W2 = "ones"', "W2 = [[1], [inf], [1]]"), "[weights] W2 holds inf or nan", 15),
    (('W2 = "ones"', 'W2 = "one"'), "[weights] W2 is 'one'; give one of: \"ones\"", 15),
    (('W2 = "ones"', 'W2 = { random = "gauss" }'),
     "[weights] W2 random is 'gauss'; choose \"normal\" or \"uniform\"", 15),
    (('W2 = "ones"', 'W2 = { random = "normal", scale = -1 }'),
     "[weights] W2 scale must be a positive number", 15),
    (('W2 = "ones"', 'W2 = { random = "normal", seed = 1.5 }'),
     "[weights] W2 seed must be a non-negative integer", 15),
    (('W2 = "ones"', 'W2 = { random = "normal", sed = 1 }'),
     "[weights] W2 has unknown keys ['sed']", 15),
    (('W2 = "ones"', "W2 = { constant = true }"),
     "[weights] W2 must be { constant = C } with a number C alone", 15),
    (('W2 = "ones"', ""), '[weights] has no W2; give a rule, e.g. W2 = "ones"', 13),
    (('W2 = "ones"', 'W2 = "ones"\nW3 = "ones"'),
     "[weights] W3 is not a weight of this network; valid names: W1, b1, W2, b2", 16),
    (('W2 = "ones"', 'W2 = "ones"\nb2 = 1'),
     "[weights] b2 is a bias but [network] bias is false; set bias = true", 16),
    (("x = [[-1, 2, -3, 4]]", "x = [[-1, 2, -3]]"),
     "[data] x has shape (1, 3) but must be (N, 4)", 18),
    (("x = [[-1, 2, -3, 4]]", "x = [-1, 2, -3, 4]"),
     "[data] x has shape (4,) but must be (N, 4)", 18),
    (("t = [[0]]", "t = [[0, 1]]"), "[data] t has shape (1, 2) but must be (1, 1)", 19),
    (("t = [[0]]", ""), "[data] needs t: one row per example", 17),
    (('kind = "squared_error"', 'kind = "squared"'),
     "[loss] kind is 'squared'; choose one of \"squared_error\", \"cross_entropy\"", 22),
    (('kind = "squared_error"', 'kind = "cross_entropy"'),
     "[network] activations ends with \"sigmoid\" but cross_entropy needs a softmax output", 10),
    (('kind = "squared_error"', ""), '[loss] needs kind = "squared_error"', 21),
    (('reduction = "sum"', 'reduction = "avg"'),
     "[loss] reduction is 'avg'; choose one of \"sum\", \"mean\"", 24),
    (("half = false", "half = 1"), "[loss] half must be true or false, got 1", 23),
    (("learning_rate = 0.1", "learning_rate = -1"),
     "[train] learning_rate must be a positive number, got -1", 27),
    (("[train]", "[training]"),
     "training is not a known table or key; valid here: title, network", 26),
    (("title = ", "title = 3 #"), "title must be a string, got 3", 6),
]


@pytest.mark.parametrize(("change", "message", "line"), ERRORS,
                         ids=[e[1][:40] for e in ERRORS])
def test_validation_errors_name_file_line_key_and_fix(change, message, line):
    error = fails(edit(*change))
    assert error.startswith(f"net.toml:{line}: "), error
    assert message in error


def test_toml_syntax_error_gives_line_and_column():
    error = fails(edit("[network]", "[network\n"))
    assert error.startswith("net.toml:8:9: not valid TOML: Expected ']'"), error
    assert "fix the syntax there" in error


def test_missing_tables_are_named():
    assert fails(MINIMAL.replace("[loss]", "[lost]")).startswith(
        "net.toml:10: lost is not a known table or key")
    without_data = MINIMAL.split("[data]")[0] + "[loss]\nkind = 'squared_error'\n"
    assert fails(without_data) == ("net.toml: the [data] table is missing; add it (see "
                                   "examples/seed.toml)")
    not_a_table = "network = 3\n[weights]" + MINIMAL.split("[weights]")[1]
    assert fails(not_a_table) == "net.toml:1: network must be a table [network], got 3"


def test_load_network_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_network(tmp_path / "missing.toml")
    binary = tmp_path / "weights.toml"
    binary.write_bytes(b"\x80\x81 not text")
    with pytest.raises(FileFormatError, match=r"weights.toml: is not UTF-8 text"):
        load_network(binary)
    bad = tmp_path / "bad.toml"
    bad.write_text(edit("bias = false", "bias = 2"))
    with pytest.raises(FileFormatError, match=rf"^{bad}:11: \[network\] bias must be"):
        load_network(bad)
