"""The model zoo: one module per model, one row per model in ZOO.

`load` is the one way to get a Model by what a user typed: a zoo name, or the path of a Python file
of the user's own that defines `build()`, so that a model need not live in this package.
"""
from __future__ import annotations

import importlib.util
import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

from harness.errors import HarnessError, InputError
from harness.importers import import_tflite
from harness.model import Model
from harness.quant import dequantize
from harness.zoo import (
    ad_autoencoder,
    ic_resnet8,
    kws_cnn,
    kws_dscnn,
    mobilenetv1,
    mobilenetv2_block,
    resnet18_block,
    vww_mobilenetv1,
    xor_mlp,
)
from harness.zoo.common import ZooEntry

#: Test samples drawn for an imported model given no inputs of its own.
DRAWN_SAMPLES = 4
#: A model's name names its golden folder and its build folder and is sent in UART records, where
#: a value may not hold a space: so it is kept to what is safe in all three.
MODEL_NAME = re.compile(r"[a-z0-9_]+")


class UnknownModel(InputError, KeyError):
    """A MODEL that is neither a zoo name nor a model file; the message lists the zoo."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown model '{name}'; available: {', '.join(ZOO)}",
                         "name a zoo model or give the path of a model file (*.py) that defines build()")
        self.name = name


class ModelFileError(InputError):
    """A user's model file that gives no usable Model; the message names the file and the cause."""


ZOO: dict[str, ZooEntry] = {
    e.name: e
    for e in (
        ZooEntry("xor_mlp", xor_mlp.DESCRIPTION, xor_mlp.build),
        ZooEntry("kws_cnn", kws_cnn.DESCRIPTION, kws_cnn.build),
        ZooEntry("resnet18_block", resnet18_block.DESCRIPTION, resnet18_block.build),
        ZooEntry("mobilenetv2_block", mobilenetv2_block.DESCRIPTION, mobilenetv2_block.build),
        ZooEntry("mobilenetv1_published", mobilenetv1.DESCRIPTION_PUBLISHED, mobilenetv1.build_published),
        ZooEntry("mobilenetv1_friendly", mobilenetv1.DESCRIPTION_FRIENDLY, mobilenetv1.build_friendly),
        ZooEntry("kws_dscnn", kws_dscnn.DESCRIPTION, kws_dscnn.build),
        ZooEntry("vww_mobilenetv1", vww_mobilenetv1.DESCRIPTION, vww_mobilenetv1.build),
        ZooEntry("ic_resnet8", ic_resnet8.DESCRIPTION, ic_resnet8.build),
        ZooEntry("ad_autoencoder", ad_autoencoder.DESCRIPTION, ad_autoencoder.build),
    )
}

#: Model files built in this process: resolved path -> ((mtime_ns, size) when built, the Model).
#: A file edited since is built again; one entry per file, so the cache cannot grow stale copies.
_FILE_MODELS: dict[Path, tuple[tuple[int, int], Model]] = {}
#: The name of each model file's model -> its file. The harness passes models around by name
#: (golden path, build folder, reports), so a file's model stays reachable by its name once loaded.
_FILE_NAMES: dict[str, Path] = {}


def load(name_or_path: str | os.PathLike[str]) -> Model:
    """The model MODEL names: a zoo model (built once per process), a model file (built again only
    when the file changed), or the name of a model file loaded earlier in this process. Anything
    else is one InputError, never a traceback."""
    text = os.fspath(name_or_path)
    if not isinstance(name_or_path, os.PathLike):
        if text in ZOO:
            return _zoo_model(text)
        if text in _FILE_NAMES:
            return _load_file(str(_FILE_NAMES[text]))
        if not is_model_path(text):
            raise UnknownModel(text)
    return _load_file(text)


def is_model_path(text: str) -> bool:
    """Whether a MODEL that is not a zoo name is meant as a file: it ends in .py, has a folder in
    it, or exists; anything else is taken for a misspelt zoo name and answered with the zoo."""
    return text.endswith((".py", ".tflite")) or "/" in text or os.sep in text or os.path.exists(text)


@cache
def _zoo_model(name: str) -> Model:
    """Zoo models never change under a running process: build each once."""
    return ZOO[name].build()


def _load_file(shown: str) -> Model:
    """Build the model of the file `shown` (as the user wrote it, so messages name it so)."""
    path = Path(shown).expanduser()
    if path.suffix not in (".py", ".tflite"):
        raise ModelFileError(f"{shown}: not a model file: a model file is Python source ending in .py or a "
                             "TFLite flatbuffer ending in .tflite",
                             "give the path of a .py file that defines build(), or of a .tflite file")
    try:
        resolved = path.resolve(strict=True)
        stat = resolved.stat()
    except FileNotFoundError:
        raise ModelFileError(f"{shown}: no such model file", "check the path (it is taken from the "
                             "working directory)") from None
    except OSError as e:
        raise ModelFileError(f"{shown}: cannot read the model file: {e.strerror or e}") from None
    if not resolved.is_file():
        raise ModelFileError(f"{shown}: not a model file: it is a directory",
                             "give the path of a .py file that defines build()")
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _FILE_MODELS.get(resolved)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    model = _import_tflite(resolved, shown) if resolved.suffix == ".tflite" else _build_file(resolved, shown)
    _check_name(model, resolved, shown)
    _FILE_MODELS[resolved] = (stamp, model)
    for stale in [n for n, p in _FILE_NAMES.items() if p == resolved]:  # the file renamed its model
        del _FILE_NAMES[stale]
    _FILE_NAMES[model.name] = resolved
    return model


def _import_tflite(path: Path, shown: str) -> Model:
    """An int8 .tflite file as a Model, run on int8 samples drawn with a seed taken from the file's
    hash (the same file always gets the same samples)."""
    graph, origin = import_tflite(path, shown)
    grid = graph.tensors[graph.input].grid
    rng = np.random.default_rng(int(origin.sha256[:16], 16))
    shape = (DRAWN_SAMPLES, *graph.tensors[graph.input].shape)
    q = rng.integers(-128, 128, size=shape, dtype=np.int64).astype(np.int8)
    return Model(graph, dequantize(q, grid), quantized_inputs=q, origin=origin, parity_threshold=1.0,
                 parity_note="an imported int8 model has no float model here: parity is measured against a "
                             "float run of its dequantized weights, for information only",
                 inputs_note=f"{DRAWN_SAMPLES} int8 samples drawn uniformly, seeded by the file's SHA-256 "
                             "(give your own with --inputs)")


def _build_file(path: Path, shown: str) -> Model:
    """Import the file as a module of its own (named after the file, outside harness.zoo and
    sys.modules, so that it shadows nothing) and call its build()."""
    debug = f"see the traceback with: python -c \"import runpy; runpy.run_path({shown!r})['build']()\""
    module_name = re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(module_name if module_name.isidentifier() else f"_{module_name}",
                                                  path)
    if spec is None or spec.loader is None:
        raise ModelFileError(f"{shown}: cannot be imported as a Python module")
    module: ModuleType = importlib.util.module_from_spec(spec)
    with _beside(path):
        try:
            spec.loader.exec_module(module)
        except SyntaxError as e:
            where = "" if e.filename == str(path) else f" in {e.filename}"
            raise ModelFileError(f"{shown}: syntax error{where}, line {e.lineno}: {_one_line(str(e.msg))}",
                                 f"python -m py_compile {e.filename} shows it") from None
        except Exception as e:
            raise ModelFileError(f"{shown}: importing it raised {_cause(e, path)}", debug) from None
        build = getattr(module, "build", None)
        if not callable(build):
            raise ModelFileError(f"{shown}: defines no build() function",
                                 "define build() returning a harness.model.Model (see docs/adding-a-model.md)")
        try:
            model = build()
        except HarnessError as e:  # the harness's own words (a refused layer, bad samples) are the cause
            raise ModelFileError(f"{shown}: build() failed: {_one_line(e.message)}{_line_in(e, path)}",
                                 e.next_step) from None
        except Exception as e:
            raise ModelFileError(f"{shown}: build() raised {_cause(e, path)}", debug) from None
    if not isinstance(model, Model):
        got = "None" if model is None else f"a {type(model).__module__}.{type(model).__qualname__}"
        raise ModelFileError(f"{shown}: build() returned {got}, not a harness.model.Model",
                             "return Model(graph, test_inputs, ...) from build()")
    return model


def _check_name(model: Model, path: Path, shown: str) -> None:
    """Refuse a name that cannot name files and records, or that another model already has: two
    models of one name would share a golden file and a baseline."""
    name = model.name
    if not MODEL_NAME.fullmatch(name):
        raise ModelFileError(f"{shown}: its model is named {name!r}; a model name is lowercase letters, digits "
                             "and underscores", "rename the graph (GraphBuilder's first argument)")
    if name in ZOO:
        raise ModelFileError(f"{shown}: its model is named '{name}', as is a zoo model",
                             "give the graph another name (GraphBuilder's first argument)")
    other = _FILE_NAMES.get(name)
    if other is not None and other != path:
        raise ModelFileError(f"{shown}: its model is named '{name}', as is the model of {other}",
                             "give the graph another name (GraphBuilder's first argument)")


@contextmanager
def _beside(path: Path) -> Iterator[None]:
    """Import and build with the file's folder first on sys.path, as `python my_model.py` would,
    so a model file can import its neighbours; sys.path is restored afterwards."""
    saved = list(sys.path)
    sys.path.insert(0, str(path.parent))
    try:
        yield
    finally:
        sys.path[:] = saved


def _one_line(text: str) -> str:
    """Error messages are one line; an exception's text may not be."""
    return " ".join(text.split())


def _line_in(e: BaseException, path: Path) -> str:
    """' (line N)': the deepest line of the model file the exception passed through, if any."""
    lines = [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == str(path)]
    return f" (line {lines[-1]})" if lines else ""


def _cause(e: BaseException, path: Path) -> str:
    """'ValueError: its text (line N)' for an exception raised by or under the model file."""
    text = _one_line(str(e))
    return f"{type(e).__name__}{': ' + text if text else ''}{_line_in(e, path)}"


__all__ = ["ZOO", "Model", "ZooEntry", "UnknownModel", "ModelFileError", "MODEL_NAME", "is_model_path", "load"]
