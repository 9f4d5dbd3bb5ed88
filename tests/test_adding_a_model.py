"""A model kept in a file of the user's own: docs/adding-a-model.md followed word for word, the
`harness.zoo.load` API behind it, and each way a model file can be wrong, answered in one line."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import harness.zoo
from harness.cli import main
from harness.files import PACKAGE_DIR, PROJECT_ROOT
from harness.model import Model
from harness.zoo import ModelFileError, UnknownModel, load

DOC = PROJECT_ROOT / "docs" / "adding-a-model.md"
FENCE = "```"


# ------------------------------------------------------------------------------- the doc's steps


@dataclass(frozen=True)
class Step:
    """One block of the walkthrough: a file to write (`python title="NAME"`) or shell commands
    (`sh title="..."`), one per line, run in order."""

    kind: str  # "file" or "commands"
    title: str
    text: str


def doc_steps(text: str) -> list[Step]:
    """The titled blocks of the doc, in order. Fences are found line by line (a fence is a line that
    starts with ```), so indented or untitled blocks are read past and never run."""
    steps: list[Step] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        info = lines[i].strip()
        i += 1
        if not info.startswith(FENCE):
            continue
        body: list[str] = []
        while i < len(lines) and not lines[i].strip().startswith(FENCE):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        lang, _, attrs = info[len(FENCE):].partition(" ")
        if not attrs.strip().startswith('title="'):
            continue
        title = attrs.strip()[len('title="'):].split('"', 1)[0]
        if lang == "python":
            steps.append(Step("file", title, "\n".join(body) + "\n"))
        elif lang == "sh":
            commands = [line for line in body if line.strip() and not line.lstrip().startswith("#")]
            steps.append(Step("commands", title, "\n".join(commands)))
    return steps


def test_the_doc_marks_a_model_file_and_the_commands_that_verify_it() -> None:
    """Without its marked blocks the walkthrough test below would have nothing to follow and pass
    vacuously: the doc must give a .py file, then golden, then run on that file."""
    steps = doc_steps(DOC.read_text())
    files = [s.title for s in steps if s.kind == "file"]
    commands = [line for s in steps if s.kind == "commands" for line in s.text.splitlines()]
    assert files and all(name.endswith(".py") for name in files), files
    golden = [n for n, c in enumerate(commands) if "harness golden ./" in c and "HARNESS_GOLDEN_DIR=" in c]
    run = [n for n, c in enumerate(commands) if "harness run ./" in c]
    assert golden and run and golden[0] < run[0], commands
    assert any(f"./{files[0]}" in c for c in commands), (files, commands)


def test_doc_steps_reads_titled_blocks_only() -> None:
    text = "\n".join([
        "intro ` ```sh title=\"x\" ` inline", '```python title="m.py"', "X = 1", "```", "```sh", "not run",
        "```", "   ```python", "   nested = 1", "   ```", '```sh title="go"', "# a comment", "", "a 1",
        "b 2", "```",
    ])
    assert doc_steps(text) == [Step("file", "m.py", "X = 1\n"), Step("commands", "go", "a 1\nb 2")]


def _tools_or_skip() -> None:
    missing = [t for t in ("arm-none-eabi-gcc", "qemu-system-arm", "cmake") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not found on PATH: make bootstrap installs them")


@pytest.mark.emulator
def test_the_doc_is_followed_word_for_word(tmp_path: Path) -> None:
    """Write the doc's file into an empty folder outside the repository and run its commands there,
    as a user would in a fresh shell: every one must exit 0, and `harness run` must say VERIFIED.
    The package's golden folder must not be touched: a user's golden files live in their project."""
    _tools_or_skip()
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "harness").exists(), f"no harness next to {sys.executable}: pip install -e '.[test]'"
    assert PROJECT_ROOT not in tmp_path.resolve().parents
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_GOLDEN_DIR"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    package_golden = sorted(p.name for p in (PACKAGE_DIR / "golden").iterdir())
    ran: list[str] = []
    for step in doc_steps(DOC.read_text()):
        if step.kind == "file":
            (tmp_path / step.title).write_text(step.text)
            continue
        for command in step.text.splitlines():
            done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=900, check=False)
            said = (
                f"`{command}` exited {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
            )
            assert done.returncode == 0, said
            assert "Traceback" not in done.stderr, said
            if "harness run " in command:
                assert done.stdout.rstrip().rsplit("\n", 1)[-1].startswith("VERIFIED"), said
            ran.append(command)
    assert any("harness run " in c for c in ran), ran
    assert sorted(p.name for p in (PACKAGE_DIR / "golden").iterdir()) == package_golden


# ------------------------------------------------------------------------------------ the API

MODEL_SOURCE = """\
from harness.calibration import calibrate
from harness.model import Model
from harness.model.graph import GraphBuilder
from harness.zoo.common import pattern_samples, sinus


def build() -> Model:
    b = GraphBuilder({name!r}, (4,))
    x = b.add("dense", "input", name="fc", float_weights=sinus((3, 4), 0.3, 5.0, 0.1))
    calib = pattern_samples(8, (4,))
    return Model(calibrate(b.build(x), calib), calib[:2], calibration_inputs=calib)
"""


def write_model(path: Path, name: str) -> Path:
    path.write_text(MODEL_SOURCE.format(name=name))
    return path


def test_load_builds_a_file_model_named_after_its_graph(tmp_path: Path) -> None:
    """The name is the graph's, not the file's; the module goes into neither harness.zoo nor
    sys.modules, where a file called like a real module would shadow it."""
    path = write_model(tmp_path / "api_model_file.py", "api_model")
    model = load(str(path))
    assert isinstance(model, Model) and model.name == "api_model"
    assert load(path) is model and load("api_model") is model  # a PathLike, and its name once loaded
    assert not hasattr(harness.zoo, "api_model_file") and "api_model_file" not in sys.modules
    assert str(tmp_path) not in sys.path


def test_a_changed_model_file_is_built_again(tmp_path: Path) -> None:
    """Cached by path and modification time: built once, and again after an edit."""
    path = write_model(tmp_path / "cache_model.py", "cache_model")
    first = load(str(path))
    assert load(str(path)) is first
    before = path.stat()
    path.write_text(path.read_text().replace("0.3, 5.0", "0.4, 5.0"))  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 2_000_000_000))  # however coarse the clock
    second = load(str(path))
    assert second is not first and second.name == "cache_model"
    assert load("cache_model") is second


def test_a_model_file_may_import_its_neighbours(tmp_path: Path) -> None:
    """As under `python my_model.py`, the file's own folder is first on sys.path while it loads."""
    (tmp_path / "neighbour_helpers.py").write_text("NAME = 'neighbour_model'\n")
    path = tmp_path / "neighbour.py"
    path.write_text("from neighbour_helpers import NAME\n" + MODEL_SOURCE.replace("{name!r}", "NAME"))
    assert load(str(path)).name == "neighbour_model"


def test_unknown_names_and_bad_files_raise_input_errors(tmp_path: Path) -> None:
    with pytest.raises(UnknownModel, match="unknown model 'nope'; available: xor_mlp"):
        load("nope")
    with pytest.raises(ModelFileError, match="no such model file"):
        load(str(tmp_path / "absent.py"))


# ------------------------------------------------------------------------- bad model files


Setup = Callable[[Path], list[str]]


def _text(body: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        (tmp / "model.py").write_text(body)
        return [str(tmp / "model.py")]

    return setup


def _missing(tmp: Path) -> list[str]:
    return [str(tmp / "missing.py")]


def _not_python(tmp: Path) -> list[str]:
    (tmp / "model.txt").write_text(MODEL_SOURCE.format(name="txt_model"))
    return [str(tmp / "model.txt")]


def _folder(tmp: Path) -> list[str]:
    (tmp / "models.py").mkdir()
    return [str(tmp / "models.py")]


def _named(name: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        return [str(write_model(tmp / "model.py", name))]

    return setup


def _twins(tmp: Path) -> list[str]:
    """Two files whose models share a name: they would share a golden file and a baseline."""
    return [str(write_model(tmp / "a.py", "twin_model")), str(write_model(tmp / "b.py", "twin_model"))]


@dataclass(frozen=True)
class Bad:
    id: str
    command: str
    setup: Setup  # makes the files; returns the MODEL argument(s)
    fragment: str  # in the one error line; "{model}" stands for the first MODEL argument


BAD = [
    Bad("missing", "run", _missing, "{model}: no such model file"),
    Bad("not-python", "run", _not_python, "{model}: not a model file: a model file is Python source ending in .py"),
    Bad("a-folder", "golden", _folder, "{model}: not a model file: it is a directory"),
    Bad("syntax-error", "run", _text("def build(:\n    pass\n"), "{model}: syntax error, line 1: invalid syntax"),
    Bad(
        "import-raises",
        "sqnr",
        _text("import no_such_module_for_harness\n"),
        "{model}: importing it raised ModuleNotFoundError: No module named 'no_such_module_for_harness' (line 1)",
    ),
    Bad("no-build", "run", _text("X = 1\n"), "{model}: defines no build() function"),
    Bad(
        "build-raises",
        "bench",
        _text("def build():\n    raise RuntimeError('no\\nweights')\n"),
        "{model}: build() raised RuntimeError: no weights (line 2)",
    ),
    Bad(
        "build-refused-by-the-harness",
        "run",
        _text(MODEL_SOURCE.format(name="refused_model").replace('name="fc",', 'name="fc", bogus=1,')),
        "{model}: build() failed: layer 'fc' (dense): unknown attribute 'bogus'",
    ),
    Bad(
        "returns-none",
        "run",
        _text("def build():\n    return None\n"),
        "{model}: build() returned None, not a harness.model.Model",
    ),
    Bad(
        "returns-a-graph",
        "golden",
        _text(
            MODEL_SOURCE.format(name="graph_model").replace(
                "return Model(calibrate(b.build(x), calib), calib[:2], calibration_inputs=calib)", "return b.build(x)"
            )
        ),
        "{model}: build() returned a harness.model.graph.Graph, not a harness.model.Model",
    ),
    Bad("name-with-a-space", "run", _named("My Model"), "{model}: its model is named 'My Model'; a model name is"),
    Bad("name-of-a-zoo-model", "run", _named("xor_mlp"), "{model}: its model is named 'xor_mlp', as is a zoo model"),
    Bad("two-files-one-name", "bench", _twins, "b.py: its model is named 'twin_model', as is the model of"),
    Bad("unknown-name", "run", lambda tmp: ["no_such_model"], "unknown model 'no_such_model'; available: xor_mlp"),
    Bad("bench-unknown-name", "bench", lambda tmp: ["no_such_model"], "unknown model(s) no_such_model"),
]


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_a_bad_model_file_is_one_input_error_line(
    case: Bad, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 and one line naming the file and the cause, before anything is built: a user's file is
    input, and its mistakes are theirs to fix, not a harness crash."""
    models = case.setup(tmp_path)
    code = main([case.command, *models])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("harness: input error: "), err
    assert case.fragment.format(model=models[0]) in err, err
    assert "Traceback" not in err and out == ""


def test_harness_list_is_the_zoo(capsys: pytest.CaptureFixture[str]) -> None:
    """Model files are given by path; `harness list` names the zoo and only the zoo."""
    assert main(["list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.split("targets:")[0].splitlines()[1:]]
    assert listed == list(harness.zoo.ZOO)
