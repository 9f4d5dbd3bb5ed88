"""Imported .tflite files: the importer, the TFLite interpreter as a reference, and the four-way
verdict (interpreter = integer reference = firmware = golden) on the MLPerf Tiny reference models.

The MLPerf Tiny files are read from ../shared/models/mlperf_tiny/ and the tests that need them skip,
naming that path, where it is absent. The interpreter is ai-edge-litert (a test dependency)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.importers import ImportRefused, import_tflite

ROOT = Path(__file__).resolve().parent.parent
#: ../shared/models/mlperf_tiny beside the checkout, or where HARNESS_MLPERF_DIR says.
MLPERF = Path(os.environ.get("HARNESS_MLPERF_DIR") or ROOT.parent / "shared" / "models" / "mlperf_tiny")
MLPERF_FILES = {
    "kws_ref_model.tflite": ((49, 10, 1), (12,), 13),
    "vww_96_int8.tflite": ((96, 96, 3), (2,), 31),
    "pretrainedResnet_quant.tflite": ((32, 32, 3), (10,), 16),
    "ad01_int8.tflite": ((640,), (640,), 10),
}


def mlperf(name: str) -> Path:
    path = MLPERF / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (the MLPerf Tiny reference models, from the mlcommons/tiny repository; "
                    "set HARNESS_MLPERF_DIR to their folder)")
    return path


def interpreter_available() -> None:
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert is not installed: pip install ai-edge-litert")


def harness(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=900)


@pytest.mark.parametrize("name", list(MLPERF_FILES))
def test_the_importer_reads_each_mlperf_model_as_stored(name: str) -> None:
    path = mlperf(name)
    graph, origin = import_tflite(path)
    in_shape, out_shape, layers = MLPERF_FILES[name]
    assert graph.tensors[graph.input].shape == in_shape and graph.tensors[graph.output].shape == out_shape
    assert len(graph.layers) == layers == len(origin.layer_tensors) == len(origin.layer_ops)
    assert not origin.float_input and not origin.float_output
    weighted = [layer for layer in graph.layers if layer.weights is not None]
    assert weighted and all(layer.weights.dtype == np.int8 and layer.bias.dtype == np.int32 for layer in weighted)


@pytest.mark.parametrize("name", list(MLPERF_FILES))
def test_the_integer_reference_equals_the_interpreter_at_every_layer(name: str) -> None:
    interpreter_available()
    from harness.reference import compute_reference
    from harness.verify.judge import interpreter_divergence
    from harness.zoo import load

    model = load(str(mlperf(name)))
    reference = compute_reference(model)
    assert reference.interpreter is not None
    assert interpreter_divergence(model, reference) is None
    assert reference.logits == reference.interpreter.logits


@pytest.mark.emulator
@pytest.mark.parametrize("name", list(MLPERF_FILES))
def test_harness_run_verifies_each_mlperf_model_four_ways(name: str, tmp_path: Path) -> None:
    interpreter_available()
    path = mlperf(name)
    report_path = tmp_path / "r.json"
    done = harness("run", str(path), "--json", str(report_path))
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    report = json.loads(report_path.read_text())
    assert report["match"] and report["references"][0].startswith("tflite-interpreter ai-edge-litert")
    assert report["references"][1] == "integer reference"
    checks = {c["name"]: c["ok"] for c in report["checks"]}
    assert checks["integer reference = TFLite interpreter"] and checks["logits = TFLite interpreter"]
    assert "TFLite interpreter = Python reference = golden" in done.stdout


@pytest.mark.emulator
def test_a_layer_where_the_interpreter_parts_fails_the_run_naming_it(tmp_path: Path) -> None:
    """The interpreter's output of one intermediate layer is perturbed on the comparison's side: the run
    fails, naming that layer, the element and both values, though the firmware matches the integer reference."""
    interpreter_available()
    from harness.reference import compute_reference
    from harness.session import build, emulate, judge
    from harness.verify.golden import golden_path

    path = mlperf("kws_ref_model.tflite")
    model, target, firmware = build(str(path))
    reference = compute_reference(model)
    assert reference.interpreter is not None
    layer = 4
    theirs = reference.interpreter.layer_outputs[layer]
    before = int(theirs[1, 37])
    theirs[1, 37] = before + 1 if before < 127 else before - 1
    verdict = judge(model, firmware, emulate(firmware, target), reference, golden_path(model.name, target.name))
    assert not verdict.match
    messages = [p.message for p in verdict.problems]
    parted = [m for m in messages if "parts from the TFLite interpreter" in m]
    assert parted, messages
    name = model.graph.layers[layer].name
    assert f"layer {layer} '{name}'" in parted[0] and "sample 1 element 37" in parted[0]
    assert f"interpreter {int(theirs[1, 37])}" in parted[0] and f"integer reference {before}" in parted[0]
    assert verdict.problems[0].kind == "differs"


@pytest.mark.parametrize("content, words", [
    (b"this is not a model\n" * 10, "not a TFLite model"),
    (b"", "not a TFLite model"),
])
def test_a_file_that_is_not_tflite_is_one_line_exit_2(content: bytes, words: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.tflite"
    path.write_bytes(content)
    with pytest.raises(ImportRefused, match=words):
        import_tflite(path)
    done = harness("run", str(path), cwd=tmp_path)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and words in lines[0] and "Traceback" not in done.stderr


def test_a_truncated_tflite_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    source = mlperf("ad01_int8.tflite").read_bytes()
    path = tmp_path / "cut.tflite"
    path.write_bytes(source[: len(source) // 3])
    done = harness("run", str(path), cwd=tmp_path)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "damaged or truncated" in lines[0] or "cannot" in lines[0] or "empty" in lines[0], lines[0]


# ------------------------------------------------------------------ the project's own fixtures

FIXTURES = ROOT / "examples" / "tflite"
#: Fixtures the harness runs, and the op each is there to exercise (examples/tflite/README.md).
RUNNABLE = ["tiny_classifier", "conv_same_stride2", "conv_valid_dilation2", "depthwise_mult2", "dense_per_tensor",
            "dense_per_channel", "pools", "add_residual", "pad_reshape", "softmax_classifier", "logistic_tanh",
            "mean_hw", "float_edges", "relu_relu6_standalone"]
#: Fixtures refused, and the words of the reason.
REFUSED = {
    "unsupported_op": "op 2 (MUL) is not supported",
    "float_model": "a float model",
    "int16_activations": "int16 activations",
    "not_a_model": "not a TFLite model",
    "truncated": "damaged or truncated",
}


@pytest.mark.parametrize("name", RUNNABLE)
def test_each_fixture_imports_and_equals_the_interpreter_at_every_layer(name: str) -> None:
    interpreter_available()
    from harness.reference import compute_reference
    from harness.verify.judge import interpreter_divergence
    from harness.zoo import load

    model = load(str(FIXTURES / f"{name}.tflite"))
    reference = compute_reference(model)
    assert reference.interpreter is not None
    assert interpreter_divergence(model, reference) is None
    assert reference.logits == reference.interpreter.logits


def test_fixture_options_come_through_as_stored() -> None:
    """Stride, dilation, padding, depth multiplier, fused activation and per-channel scales as the file says."""
    def layers(name: str) -> list:  # type: ignore[type-arg]
        return import_tflite(FIXTURES / f"{name}.tflite")[0].layers

    conv = layers("conv_same_stride2")[0]
    assert (conv.op, conv.attrs["stride"], conv.attrs["padding"], conv.attrs["activation"]) == \
        ("conv2d", (2, 2), "same", "relu")
    assert conv.attrs["per_channel"] and len(conv.weight_scales) == conv.weights.shape[0]
    dil = layers("conv_valid_dilation2")[0]
    assert (dil.attrs["dilation"], dil.attrs["padding"], dil.attrs["activation"]) == ((2, 2), "valid", "relu6")
    dw = layers("depthwise_mult2")[0]
    assert dw.op == "depthwise_conv2d" and dw.weights.shape[2] == 4  # 2 channels x multiplier 2
    per_tensor, per_channel = layers("dense_per_tensor")[0], layers("dense_per_channel")[0]
    assert len(per_tensor.weight_scales) == 1 and len(per_channel.weight_scales) == per_channel.weights.shape[0]
    assert per_tensor.attrs["rounding"] == "single" == per_channel.attrs["rounding"]
    assert [layer.op for layer in layers("pools")] == ["maxpool2d", "avgpool2d", "avgpool2d", "maxpool2d"]
    assert [layer.op for layer in layers("pad_reshape")] == ["pad2d", "conv2d", "reshape", "dense"]
    assert [layer.op for layer in layers("mean_hw")] == ["mean_hw"]
    # a standalone RELU whose output grid differs from its input's rescales as it clamps
    relus = layers("relu_relu6_standalone")[:2]
    assert [(r.op, r.attrs["activation"]) for r in relus] == [("requantize", "relu"), ("requantize", "relu6")]
    edges = import_tflite(FIXTURES / "float_edges.tflite")[1]
    assert edges.float_input and edges.float_output


@pytest.mark.parametrize("name", list(REFUSED))
def test_each_refused_fixture_is_one_line_exit_2(name: str, tmp_path: Path) -> None:
    done = harness("run", str(FIXTURES / f"{name}.tflite"), cwd=tmp_path)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and REFUSED[name] in lines[0] and "Traceback" not in done.stderr, done.stderr


def test_an_unsupported_op_is_named_with_its_index_and_the_supported_ops() -> None:
    with pytest.raises(ImportRefused) as refused:
        import_tflite(FIXTURES / "unsupported_op.tflite")
    message = refused.value.message
    assert "op 2 (MUL)" in message and "CONV_2D" in message and "FULLY_CONNECTED" in message


@pytest.mark.emulator
def test_the_readme_example_runs_four_ways_from_a_fresh_clone(tmp_path: Path) -> None:
    interpreter_available()
    report_path = tmp_path / "r.json"
    done = harness("run", "examples/tflite/tiny_classifier.tflite", "--json", str(report_path))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["match"] and len(report["references"]) == 2
    assert "inputs" in report and "seeded" in report["inputs"]


@pytest.mark.emulator
def test_a_float_edged_model_runs_its_int8_core_and_says_so(tmp_path: Path) -> None:
    interpreter_available()
    golden = tmp_path / "golden"
    model = "examples/tflite/float_edges.tflite"
    assert harness("golden", model, "--golden-dir", str(golden)).returncode == 0
    report_path = tmp_path / "r.json"
    done = harness("run", model, "--golden-dir", str(golden), "--json", str(report_path))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert "float32 input and output edges" in report["source"] and "int8 core" in report["source"]


@pytest.mark.emulator
def test_the_ad_model_on_its_real_input_forty_windows(tmp_path: Path) -> None:
    interpreter_available()
    model = mlperf("ad01_int8.tflite")
    real = MLPERF / "ad01_sample_normal_id_01_00000000.bin"
    golden = tmp_path / "golden"
    made = harness("golden", str(model), "--inputs", str(real), "--golden-dir", str(golden))
    assert made.returncode == 0, made.stderr[-3000:]
    report_path = tmp_path / "r.json"
    done = harness("run", str(model), "--inputs", str(real), "--golden-dir", str(golden), "--json", str(report_path))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert len(report["logits"]) == 40 and report["match"]
    assert "40 float32 samples" in report["inputs"]


@pytest.mark.parametrize("content, dtype, words", [
    (np.zeros(7, np.float32).tobytes(), "float32", "do not fill whole samples"),
    (b"\x00" * 5, "float32", "not a whole number of float32 values"),
])
def test_inputs_that_do_not_fit_are_one_line(content: bytes, dtype: str, words: str, tmp_path: Path) -> None:
    path = tmp_path / "in.bin"
    path.write_bytes(content)
    done = harness("run", "examples/tflite/tiny_classifier.tflite", "--inputs", str(path), "--inputs-dtype", dtype)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and words in lines[0], done.stderr


def test_npy_inputs_int8_are_taken_as_they_are_and_float32_are_quantized(tmp_path: Path) -> None:
    from harness.zoo import load
    from harness.zoo.inputs import read_inputs

    model = load(str(FIXTURES / "tiny_classifier.tflite"))
    shape = model.graph.tensors[model.graph.input].shape
    q = np.arange(2 * int(np.prod(shape))).astype(np.int8).reshape(2, *shape)
    np.save(tmp_path / "q.npy", q)
    got, note = read_inputs(tmp_path / "q.npy", model)
    assert np.array_equal(got, q) and "2 int8 samples" in note
    grid = model.graph.tensors[model.graph.input].grid
    np.save(tmp_path / "f.npy", (grid.scale * (q.astype(np.float32) - grid.zero_point)).astype(np.float32))
    got, note = read_inputs(tmp_path / "f.npy", model)
    assert np.array_equal(got, q) and "quantized" in note


@pytest.mark.emulator
@pytest.mark.parametrize("kernels", ["ref", "dsp"])
def test_bench_over_the_mlperf_files_passes_the_count_baseline_gate(kernels: str) -> None:
    """`harness bench` takes .tflite files like zoo names; their counts are gated exactly, as the zoo's,
    with each shipped kernel variant against its own baseline."""
    interpreter_available()
    from harness.bench import run_bench
    from harness.bench.baseline import baseline_path, compare
    from harness.build import kernel_variant
    from harness.targets import get_target

    paths = [str(mlperf(name)) for name in MLPERF_FILES]
    target = get_target("stm32f405")
    variant = kernel_variant(kernels)
    report = run_bench(paths, target, kernels=variant)
    assert all(m.repeatable for m in report.models)
    assert [m.model for m in report.models] == ["kws_ref_model", "vww_96_int8", "pretrainedresnet_quant", "ad01_int8"]
    comparison = compare(report, baseline_path(None, target.name, variant))
    assert comparison.tolerance_pct == 0.0 and not comparison.missing, comparison.lines()
    assert comparison.ok, "\n".join(comparison.lines())


@pytest.mark.emulator
@pytest.mark.parametrize("device", [str(FIXTURES / "tiny_classifier.tflite")], indirect=True)
def test_the_device_fixture_takes_a_tflite_path(device) -> None:  # type: ignore[no-untyped-def]
    interpreter_available()
    verdict = device.verdict()
    assert verdict.match, verdict.problems
    assert any(c.name == "logits = TFLite interpreter" and c.ok for c in verdict.checks)


def test_without_the_interpreter_a_tflite_run_says_how_to_install_it_and_zoo_models_still_run(tmp_path: Path) -> None:
    """ai-edge-litert made unimportable in the child process: a .tflite is refused as an environment
    problem naming the package; a zoo model is unaffected."""
    shim = tmp_path / "no_litert.py"
    shim.write_text("import sys\nsys.modules['ai_edge_litert'] = None\nfrom harness.cli import main\n"
                    "sys.exit(main(sys.argv[1:]))\n")

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(shim), *argv], cwd=ROOT, capture_output=True, text=True,
                              timeout=600)

    host_only = run("sqnr", "examples/tflite/tiny_classifier.tflite")  # the import itself needs no interpreter
    assert host_only.returncode == 0 and "SQNR" in host_only.stdout, host_only.stderr
    done = run("golden", "examples/tflite/tiny_classifier.tflite", "--golden-dir", str(tmp_path / "g"))
    lines = [line for line in done.stderr.splitlines() if line.startswith("harness: environment error")]
    assert done.returncode == 3 and len(lines) == 1 and "pip install ai-edge-litert" in lines[0], done.stderr
    assert run("sqnr", "kws_cnn").returncode == 0


@pytest.mark.parametrize("name", ["logistic_table", "tanh_table"])
def test_every_entry_of_the_sigmoid_and_tanh_tables_equals_the_interpreter(name: str, tmp_path: Path) -> None:
    """One sample holding all 256 int8 values goes straight into LOGISTIC or TANH: the whole table."""
    interpreter_available()
    from harness.reference import compute_reference
    from harness.verify.judge import interpreter_divergence
    from harness.zoo import load
    from harness.zoo.inputs import with_inputs

    every = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    np.save(tmp_path / "every.npy", every)
    model = with_inputs(load(str(FIXTURES / f"{name}.tflite")), tmp_path / "every.npy")
    assert model.graph.layers[0].op == ("sigmoid" if name == "logistic_table" else "tanh")
    reference = compute_reference(model)
    assert reference.interpreter is not None
    assert interpreter_divergence(model, reference) is None
