"""The model type: an int8 graph with the samples it is tested and calibrated on, and how far its
int8 outputs may stray from its float ones. Catalogues (the zoo, a user's own files) make Models;
everything downstream takes one."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.model.graph import Graph
from harness.quant import quantize


@dataclass(frozen=True)
class Origin:
    """Where an imported model came from: its file, and the file's tensor behind each layer's output,
    so that another runtime's results on the same file can be compared layer by layer."""

    path: Path
    kind: str  # "tflite"
    sha256: str
    input_tensor: int  # the int8 input (after the file's QUANTIZE, if it has a float input)
    output_tensor: int  # the int8 output (before the file's DEQUANTIZE, if it has a float output)
    layer_tensors: tuple[int, ...]  # one per layer, in graph order
    layer_ops: tuple[str, ...]  # the file's op name for each layer
    float_input: bool = False
    float_output: bool = False


@dataclass
class Model:
    """A zoo model ready to compile: its int8 graph and the test samples the firmware will run.

    parity_threshold bounds the worst |dequantized int8 output - float output| over the test samples
    as a fraction of the float outputs' range over the calibration samples; parity_note says why.
    """

    graph: Graph
    test_inputs: np.ndarray  # float32, (N, *input_shape)
    labels: list[int] | None = None  # expected class per test sample, where the task has one
    calibration_inputs: np.ndarray | None = None  # float32; the test inputs when absent
    parity_threshold: float = 0.5
    parity_note: str = "the seed pipelines' convention: within 50% of the range"
    origin: Origin | None = None  # an imported model's file
    quantized_inputs: np.ndarray | None = None  # int8 test inputs as given; else test_inputs quantized
    inputs_note: str = ""  # where the test inputs came from, where that is worth saying
    test_inputs_q: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        grid = self.graph.tensors[self.graph.input].grid
        if self.quantized_inputs is not None:
            self.test_inputs_q = np.asarray(self.quantized_inputs, dtype=np.int8)
        else:
            self.test_inputs_q = quantize(self.test_inputs, grid)

    @property
    def name(self) -> str:
        return self.graph.name

    @property
    def reference_inputs(self) -> np.ndarray:
        """The float inputs statistics are taken over: calibration samples, else test samples."""
        return self.calibration_inputs if self.calibration_inputs is not None else self.test_inputs
