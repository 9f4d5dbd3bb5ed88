"""Test inputs from a file (`--inputs`): the samples a model's firmware runs instead of its own.

`.npy` holds int8 values (taken as they are) or float32 values (quantized with the model's input
grid); `.bin` holds raw little-endian values of the dtype given (float32 unless told int8). Either
way the values must fill whole samples of the model's input shape.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from harness.errors import InputError
from harness.model import Model
from harness.quant import dequantize, quantize

#: The most samples a firmware image carries (they are compiled into flash).
MAX_SAMPLES = 256
DTYPES = ("float32", "int8")


def read_inputs(path: Path, model: Model, dtype: str = "float32") -> tuple[np.ndarray, str]:
    """The int8 samples in `path` for `model`, and a note saying where they came from."""
    tensor = model.graph.tensors[model.graph.input]
    size = tensor.size
    if path.suffix == ".npy":
        try:
            values = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: not a readable .npy file: {e}") from None
        kind = values.dtype
    elif path.suffix == ".bin":
        if dtype not in DTYPES:
            raise InputError(f"--inputs-dtype {dtype}: choose one of {', '.join(DTYPES)}")
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise InputError(f"{path}: cannot read it: {e.strerror or e}") from None
        width = np.dtype(dtype).itemsize
        if len(raw) % width:
            raise InputError(f"{path}: {len(raw)} bytes is not a whole number of {dtype} values")
        values = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
        kind = values.dtype
    else:
        raise InputError(f"{path}: inputs are read from .npy or .bin files", "save them with numpy.save")
    if values.size == 0 or values.size % size:
        raise InputError(f"{path}: {values.size} values do not fill whole samples of the model's input "
                         f"{tensor.shape} ({size} values each)")
    samples = values.size // size
    if samples > MAX_SAMPLES:
        raise InputError(f"{path}: {samples} samples; at most {MAX_SAMPLES} go into one firmware image")
    shaped = values.reshape((samples, *tensor.shape))
    if kind == np.int8:
        return shaped.astype(np.int8), f"{samples} int8 samples from {path.name}"
    if np.issubdtype(kind, np.floating):
        if not np.all(np.isfinite(shaped)):
            raise InputError(f"{path}: holds values that are not finite")
        q = quantize(shaped.astype(np.float32), tensor.grid)
        return q, (f"{samples} float32 samples from {path.name}, quantized with the input's scale "
                   f"{tensor.grid.scale:.6g} and zero point {tensor.grid.zero_point}")
    raise InputError(f"{path}: holds {kind} values; give int8 or float32")


def with_inputs(model: Model, path: Path, dtype: str = "float32") -> Model:
    """The model running the samples in `path` instead of its own."""
    q, note = read_inputs(path, model, dtype)
    grid = model.graph.tensors[model.graph.input].grid
    return replace(model, test_inputs=dequantize(q, grid), quantized_inputs=q, labels=None, calibration_inputs=None,
                   inputs_note=note)
