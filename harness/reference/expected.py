"""What a run of a model is compared with, computed once: one pass of the integer reference and one
of the float reference over the model's samples. Verification only compares against it."""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from harness.model import Model
from harness.reference.interpreter import InterpreterRun, run_interpreter
from harness.reference.run import run_float, run_int8


def crc32_of(values: np.ndarray) -> int:
    """CRC32 of int8 values as the firmware's checksum reads their bytes."""
    return zlib.crc32(np.ascontiguousarray(values, dtype=np.int8).tobytes()) & 0xFFFFFFFF


@dataclass(frozen=True)
class Reference:
    """Every expected output of a model's test run.

    `layer_outputs` holds the int8 reference's output of every tensor on the test samples, whole;
    `layer_crcs` their CRC32 per (sample, layer index), as the firmware reports them. The float
    reference gives its outputs on the test samples and the range of its outputs over the
    calibration samples, which float parity is measured against.
    """

    logits: list[list[int]]
    layer_outputs: dict[str, np.ndarray]
    layer_crcs: dict[tuple[int, int], int]
    float_outputs: np.ndarray  # (test samples, outputs)
    float_range: float
    interpreter: InterpreterRun | None = None  # the TFLite interpreter's, for a model imported from a .tflite

    @property
    def names(self) -> list[str]:
        """What the run is compared with, for reports."""
        return ([self.interpreter.name] if self.interpreter else []) + ["integer reference"]


def compute_reference(model: Model) -> Reference:
    graph = model.graph
    samples = len(model.test_inputs_q)
    ints = run_int8(graph, model.test_inputs_q)
    out = ints[graph.output]
    crcs = {(s, i): crc32_of(ints[layer.output][s]) for i, layer in enumerate(graph.layers) for s in range(samples)}
    floats = run_float(graph, model.test_inputs)[graph.output].reshape(samples, -1)
    if model.calibration_inputs is None:  # the test samples are the calibration samples
        spread = floats
    else:
        spread = run_float(graph, model.calibration_inputs)[graph.output]
    interpreter = run_interpreter(model) if model.origin is not None and model.origin.kind == "tflite" else None
    return Reference(out.reshape(samples, -1).astype(int).tolist(), ints, crcs, floats.astype(np.float64),
                     float(spread.max() - spread.min()), interpreter)
