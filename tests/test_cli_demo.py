"""``chainrule demo`` end to end, as a user types it."""

from __future__ import annotations

import shutil
import subprocess


def test_demo_prints_the_seeds_five_results(cli) -> None:
    result = cli("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for heading in ("Input features", "first layer", "Output of the model",
                    "between input and hidden layer", "between hidden and output layer"):
        assert heading in out
    assert "9.84164e-03" in out and "-4.92082e-03" in out
    assert "-1.47625e-02" in out and "1.96833e-02" in out and "0.9975274" in out
    assert "Traceback" not in result.stderr


def test_console_script_is_installed() -> None:
    exe = shutil.which("chainrule")
    assert exe, "the chainrule console script is not on PATH"
    result = subprocess.run([exe, "demo"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "9.84164e-03" in result.stdout


def test_unknown_command_is_one_line(cli) -> None:
    result = cli("nonsense")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "invalid choice" in result.stderr


def test_help_lists_demo(cli) -> None:
    result = cli("--help")
    assert result.returncode == 0 and "demo" in result.stdout
