"""The TFLite interpreter's answer for an imported `.tflite` model: the ground truth its users trust.

The file runs in `ai-edge-litert` with the interpreter's reference kernels (BUILTIN_REF, the plain
integer code, not the optimized kernels) and every intermediate tensor kept, on the model's int8
test inputs. Each layer's output is read from the file's tensor behind it (Model.origin), so the
integer reference and the interpreter can be compared layer by layer, not only at the logits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.errors import EnvironmentProblem, InputError
from harness.model import Model

INSTALL_HINT = "pip install ai-edge-litert (the TFLite interpreter; `make bootstrap` installs it)"


@dataclass(frozen=True)
class InterpreterRun:
    """The interpreter's int8 output of every layer, (samples, values) each, and its logits."""

    name: str  # "tflite-interpreter ai-edge-litert X.Y.Z (reference kernels)"
    logits: list[list[int]]
    layer_outputs: list[np.ndarray]  # per layer of the graph, (samples, values)


def interpreter_name() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"tflite-interpreter ai-edge-litert {version('ai-edge-litert')} (reference kernels)"
    except PackageNotFoundError:
        return "tflite-interpreter ai-edge-litert (reference kernels)"


def run_interpreter(model: Model) -> InterpreterRun:
    """Run the model's file on its test inputs; the model must have been imported from a .tflite."""
    origin = model.origin
    if origin is None or origin.kind != "tflite":
        raise InputError(f"{model.name} was not imported from a .tflite file: there is no interpreter to ask")
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        raise EnvironmentProblem(f"{origin.path.name}: checking it against the TFLite interpreter needs the "
                                 "ai-edge-litert package", INSTALL_HINT) from None
    try:
        interpreter = Interpreter(model_path=str(origin.path),
                                  experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                                  experimental_preserve_all_tensors=True)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as e:
        why = " ".join(str(e).split())[:300]
        raise InputError(f"{origin.path}: the TFLite interpreter refused it: {why}") from None
    feed = interpreter.get_input_details()[0]
    grid = model.graph.tensors[model.graph.input].grid
    samples = model.test_inputs_q
    logits: list[list[int]] = []
    layers: list[list[np.ndarray]] = [[] for _ in origin.layer_tensors]
    for q in samples:
        if origin.float_input:  # the file quantizes its float input itself: give it the values that quantize to q
            value = (np.float32(grid.scale) * (q.astype(np.float32) - np.float32(grid.zero_point))).astype(np.float32)
        else:
            value = q.astype(np.int8)
        interpreter.set_tensor(feed["index"], value.reshape(feed["shape"]))
        interpreter.invoke()
        fed = interpreter.get_tensor(origin.input_tensor).reshape(-1)
        if not np.array_equal(fed, q.reshape(-1)):
            raise InputError(f"{origin.path.name}: the interpreter's int8 input differs from the test input "
                             "(its QUANTIZE rounds them otherwise)")
        for i, tensor in enumerate(origin.layer_tensors):
            layers[i].append(interpreter.get_tensor(tensor).reshape(-1).copy())
        logits.append([int(v) for v in interpreter.get_tensor(origin.output_tensor).reshape(-1)])
    return InterpreterRun(interpreter_name(), logits, [np.stack(per) for per in layers])
