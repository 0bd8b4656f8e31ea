"""``chainrule explain FILE --wrt NAME [--expect VALUE]``, as a user types it."""

from __future__ import annotations

from conftest import run_cli


def test_expect_diagnoses_the_seeds_missing_square():
    """The seed printed 9.8657e-3 for dL/dw211: the sigmoid's derivative without its square."""
    done = run_cli("explain", "examples/seed.toml", "--wrt", "w211", "--expect", "9.8657e-3")
    assert done.returncode == 0 and done.stderr == ""
    derivation, verdict = done.stdout.split("Your answer: dL/dw211 = 9.8657e-3\n")
    assert "∂L/∂w211 = ∂L/∂y · ∂y/∂y_in · ∂y_in/∂w211" in derivation
    assert "= 9.84164e−3" in derivation
    assert verdict.split("\n")[1].startswith("9.8657e-3 is not right: ∂L/∂w211 = 9.84164e-3.")
    assert "missing square in the derivative of sigmoid" in verdict


def test_expect_w111_and_a_right_answer():
    done = run_cli("explain", "examples/seed.toml", "--wrt", "w111", "--expect", "-4.9328e-3")
    assert done.returncode == 0
    assert "-4.9328e-3 is not right: ∂L/∂w111 = -4.92082e-3" in done.stdout
    assert "missing square" in done.stdout
    done = run_cli("explain", "examples/seed.toml", "--wrt", "w111", "--expect", "-4.92082e-3",
                   "--view", "backprop")
    assert done.returncode == 0
    assert "Backpropagation, from the loss back" in done.stdout
    assert "-4.92082e-3 is right" in done.stdout


def test_without_expect_it_is_the_derivation_alone():
    done = run_cli("explain", "examples/softmax.toml", "--wrt", "w211")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Derivative ∂L/∂w211\n")
    assert "Your answer" not in done.stdout
    assert "(derivation, autograd and central difference agree)" in done.stdout


def test_an_intermediate_value():
    """dL/dh_1 = dL/dy * y (1 - y) * w211 = 4.92082e-3 in the seed (NOTES.md's dL/dw111 / x_1)."""
    done = run_cli("explain", "examples/seed.toml", "--wrt", "h_1")
    assert done.returncode == 0, done.stderr
    assert "Result: ∂L/∂h_1 = 4.92082e-3" in done.stdout


def test_html_page_with_verdict_and_no_overwrite(tmp_path):
    out = tmp_path / "w211.html"
    args = ["explain", "examples/seed.toml", "--wrt", "w211", "--expect", "9.8657e-3",
            "--format", "html", "--out", str(out)]
    done = run_cli(*args)
    assert done.returncode == 0 and done.stderr == f"chainrule explain: wrote {out}\n"
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<math" in page
    assert "<title>dL/dw211 in examples/seed.toml</title>" in page
    assert "missing square in the derivative of sigmoid" in page
    done = run_cli(*args)
    assert done.returncode == 1 and "already exists; pass --force" in done.stderr
    assert out.read_text(encoding="utf-8") == page


def test_user_mistakes_are_one_line():
    done = run_cli("explain", "examples/seed.toml", "--wrt", "w111,w211")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == ("chainrule explain: error: examples/seed.toml: --wrt takes one "
                           "element, got 'w111,w211'; use chainrule solve --wrt for several\n")
    done = run_cli("explain", "examples/seed.toml", "--wrt", "w311")
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert done.stderr == ("chainrule explain: error: examples/seed.toml: no element called "
                           "'w311'; valid names: W1: w111..w143; a: a_1..a_3; h: h_1..h_3; "
                           "W2: w211..w231; y_in: y_in; y: y\n")
    done = run_cli("explain", "examples/seed.toml", "--wrt", "w111", "--expect", "abc")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "invalid float value: 'abc'" in done.stderr
    done = run_cli("explain", "examples/seed.toml")
    assert done.returncode == 2 and "--wrt" in done.stderr
