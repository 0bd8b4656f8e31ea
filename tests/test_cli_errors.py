"""The CLI never shows a traceback for a user's mistake: one line on stderr, non-zero exit.

Every case runs ``python -m chainrule ...`` in a subprocess, as a user would. The commands come
from the CLI's own parser, so a new command gets the generic cases (an unknown flag, and for
commands that read a network file: a missing file, a folder, TOML syntax, an unknown key, a
wrong weight shape, non-UTF-8 bytes, an empty file, a loss that overflows; for commands with
``--out``: a missing folder, an existing file, a folder as the output). Command-specific cases
follow. The cases run concurrently (they are independent processes) to keep the file quick.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from chainrule import cli

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "examples" / "seed.toml").read_text(encoding="utf-8")


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


COMMANDS = _commands()


def _reads_network_file(parser: argparse.ArgumentParser) -> bool:
    return any(not a.option_strings and a.dest in ("file", "network") for a in parser._actions)


def _has_out(parser: argparse.ArgumentParser) -> bool:
    return any("--out" in a.option_strings for a in parser._actions)


def _required_extra(command: str) -> list[str]:
    """Arguments a command needs besides its file (explain needs --wrt)."""
    return ["--wrt", "w111"] if command == "explain" else []


class _Canary:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (exec, (f"open({str(self.path)!r}, 'w').write('pickle ran')",))


def _files(tmp: Path) -> dict[str, Path]:
    files = {
        "ok": SEED,
        "syntax": 'title = "x"\n[network\nsizes = [1]\n',
        "unknown_key": SEED.replace("\nsizes = ", "\nsize = "),
        "bad_shape": SEED.replace('W1 = "ones"', "W1 = [[1.0, 2.0]]"),
        "empty": "",
        "overflow": SEED.replace('W1 = "ones"', "W1 = { constant = 1e200 }").replace(
            'activations = ["relu", "sigmoid"]', 'activations = ["identity", "identity"]'),
        "history": "{not json",
        "weights_garbage": "this is not a weight file at all, just some text",
        "exists": "already here",
        "nan_csv": "a,b,y\n1,2,0\nnan,3,1\n2,1,0\n",
        "text_csv": "a,b,y\n1,x,0\n2,3,1\n",
    }
    paths = {}
    for name, text in files.items():
        suffix = ".csv" if name.endswith("_csv") else ".toml"
        paths[name] = tmp / (name + suffix if name not in ("history", "exists") else name)
        paths[name].write_text(text, encoding="utf-8")
    paths["binary"] = tmp / "binary.toml"
    paths["binary"].write_bytes(b"\xff\xfe\x00 not utf-8")
    paths["folder"] = tmp / "folder"
    paths["folder"].mkdir()
    paths["canary"] = tmp / "CANARY"
    paths["pickle"] = tmp / "model.pt"
    paths["pickle"].write_bytes(pickle.dumps({"w": _Canary(paths["canary"])}))
    return paths


def _cases(f: dict[str, Path]) -> list[tuple[str, list[str], str]]:
    """(id, argv, a phrase the one-line error must contain)."""
    missing = str(f["folder"] / "missing.toml")
    cases = [("no-command", [], "required"),
             ("unknown-command", ["frobnicate"], "invalid choice")]
    for command, parser in sorted(COMMANDS.items()):
        cases.append((f"{command}-unknown-flag", [command, "--no-such-flag"], "--help"))
        extra = _required_extra(command)
        if _reads_network_file(parser):
            for case, path, phrase in [
                    ("missing-file", missing, "No such file"),
                    ("folder", str(f["folder"]), "directory"),
                    ("toml-syntax", str(f["syntax"]), "syntax.toml:2:"),
                    ("unknown-key", str(f["unknown_key"]), "size is not a known key"),
                    ("weight-shape", str(f["bad_shape"]), "W1 has shape (1, 2)"),
                    ("not-utf8", str(f["binary"]), "UTF-8"),
                    ("empty-file", str(f["empty"]), "[network] table is missing"),
                    ("non-finite-loss", str(f["overflow"]), "not finite")]:
                cases.append((f"{command}-{case}", [command, path, *extra], phrase))
        if _has_out(parser) and _reads_network_file(parser):
            ok = [command, str(f["ok"]), *extra]
            suffix = {"graph": ".svg", "report": ".html"}.get(command, ".txt")
            exists = f["exists"].with_suffix(suffix)
            exists.write_text("already here", encoding="utf-8")
            cases += [
                (f"{command}-out-missing-folder",
                 [*ok, "--out", str(f["folder"] / "no" / f"x{suffix}")], "does not exist"),
                (f"{command}-out-exists", [*ok, "--out", str(exists)], "--force"),
                (f"{command}-out-is-folder", [*ok, "--out", str(f["folder"]), "--force"],
                 "folder"),
            ]
    specific = {
        "explain": [
            ("explain-unknown-element", ["explain", str(f["ok"]), "--wrt", "nosuch"],
             "no element called 'nosuch'"),
            ("explain-bad-expect", ["explain", str(f["ok"]), "--wrt", "w111", "--expect", "abc"],
             "invalid float value")],
        "solve": [("solve-unknown-element", ["solve", str(f["ok"]), "--wrt", "w999"], "w999")],
        "graph": [("graph-png-to-terminal", ["graph", str(f["ok"]), "--format", "png"], "PNG")],
        "report": [("report-bad-history",
                    ["report", str(f["ok"]), "--history", str(f["history"])], "not valid JSON")],
        "predict": [
            ("predict-missing-weights", ["predict", "--weights", missing, "--data", missing],
             "No such file"),
            ("predict-garbage-weights",
             ["predict", "--weights", str(f["weights_garbage"]), "--data", missing],
             "not a valid safetensors weight file"),
            ("predict-pickle-weights",
             ["predict", "--weights", str(f["pickle"]), "--data", missing], "pickle")],
        "train": [
            ("train-unknown-dataset", ["train", "--dataset", "nosuch"], "unknown dataset"),
            ("train-bad-hidden", ["train", "--hidden", "a,b"], "--hidden"),
            ("train-bad-epochs", ["train", "--epochs", "-1"], "--epochs"),
            ("train-missing-csv", ["train", "--data", missing, "--target", "y"], "missing.toml"),
            ("train-diverges", ["train", str(f["overflow"]), "--quiet"], "not finite"),
            ("train-csv-nan", ["train", "--data", str(f["nan_csv"]), "--target", "y"],
             "nan_csv.csv, line 3, column 'a'"),
            ("train-csv-text", ["train", "--data", str(f["text_csv"]), "--target", "y"],
             "line 2, column 'b'"),
            ("train-csv-no-column", ["train", "--data", str(f["nan_csv"]), "--target", "zz"],
             "no column named 'zz'"),
            ("train-save-missing-folder",
             ["train", "--dataset", "xor", "--epochs", "1", "--quiet", "--save",
              str(f["folder"] / "no" / "ckpt.safetensors")], "does not exist")],
    }
    for command, extra_cases in specific.items():
        if command in COMMANDS:
            cases += extra_cases
    return cases


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("CHAINRULE_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "chainrule", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_errors")
    files = _files(tmp)
    cases = _cases(files)
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(lambda case: _run(case[1], tmp), cases))
    return files, {case[0]: (case, result) for case, result in zip(cases, done)}


def test_covers_every_command(results):
    _, by_id = results
    for command in COMMANDS:
        assert any(i.startswith(f"{command}-") for i in by_id), command
    assert len(by_id) >= 40
    print(f"\n[measured] CLI error cases: {len(by_id)} over {len(COMMANDS)} commands")


def pytest_generate_tests(metafunc):
    # One test per case, named by its id; the ids come from the same case list.
    if "case_id" in metafunc.fixturenames:
        with tempfile.TemporaryDirectory() as tmp:
            ids = [case[0] for case in _cases(_files(Path(tmp)))]
        metafunc.parametrize("case_id", ids)


def test_one_line_and_non_zero_exit(results, case_id):
    _, by_id = results
    (_, argv, phrase), result = by_id[case_id]
    err = result.stderr.strip()
    assert result.returncode != 0, f"{argv}: exit 0\n{result.stdout[-500:]}"
    assert "Traceback" not in result.stderr, result.stderr
    assert err and "\n" not in err, f"{argv}: stderr is not one line:\n{result.stderr}"
    assert err.startswith("chainrule"), err
    assert phrase in err, f"{argv}: {err!r} does not mention {phrase!r}"


def test_no_pickle_ran(results):
    files, _ = results
    assert not files["canary"].exists()
