"""`harness bench --suite kernels`: the table of single-layer shapes with CMSIS-NN's figures, the
model each shape becomes, the reports of one variant or several, and the suite run on the emulator
through the bench path with the ref and dsp kernels."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.bench import BenchLayer, BenchReport, ModelBench, Provenance
from harness.bench.kernel_suite import (
    CMSIS_NN_SOURCE,
    SAMPLES,
    SHAPES,
    KernelResult,
    KernelSuite,
    get_shape,
    run_kernel_suite,
    shape_model,
)
from harness.build import Firmware
from harness.build.elfinfo import Footprint
from harness.cli import main
from harness.model import Model
from harness.model.graph import Layer
from harness.targets import get_target

#: issue 13's table: id -> CMSIS-NN's count on the netduinoplus2 icount counter.
CMSIS_NN = {"a": 327_819, "a_same": 403_151, "b": 144_427, "c1": 110_693, "c2": 45_293, "d1": 468, "d2": 19_844,
            "e": 41_323, "f1": 33_816, "f2": 2_175, "g": 1_374_659}

#: id -> (op, input shape, output shape, weight shape or None, stride, padding, weight scales).
LAYERS: dict[str, tuple[str, tuple[int, ...], tuple[int, ...], tuple[int, ...] | None, int, str, int]] = {
    "a": ("conv2d", (20, 20, 1), (18, 18, 8), (8, 3, 3, 1), 1, "valid", 8),
    "a_same": ("conv2d", (20, 20, 1), (20, 20, 8), (8, 3, 3, 1), 1, "same", 8),
    "b": ("depthwise_conv2d", (8, 8, 32), (8, 8, 32), (3, 3, 32), 1, "same", 32),
    "c1": ("pointwise_conv2d", (8, 8, 8), (8, 8, 32), (32, 1, 1, 8), 1, "valid", 32),
    "c2": ("pointwise_conv2d", (8, 8, 32), (8, 8, 8), (8, 1, 1, 32), 1, "valid", 8),
    "d1": ("dense", (16,), (4,), (4, 16), 1, "valid", 1),
    "d2": ("dense", (1024,), (10,), (10, 1024), 1, "valid", 1),
    "e": ("add", (8, 8, 8), (8, 8, 8), None, 1, "valid", 0),
    "f1": ("maxpool2d", (18, 18, 8), (9, 9, 8), None, 2, "valid", 0),
    "f2": ("global_avgpool2d", (4, 4, 16), (16,), None, 1, "valid", 0),
    "g": ("conv2d", (16, 16, 16), (16, 16, 16), (16, 3, 3, 16), 1, "same", 16),
}

#: MACs per call: output values times the products summed into each; none for adds and pools.
MACS = {"a": 18 * 18 * 8 * 9, "a_same": 20 * 20 * 8 * 9, "b": 8 * 8 * 32 * 9, "c1": 8 * 8 * 32 * 8,
        "c2": 8 * 8 * 8 * 32, "d1": 16 * 4, "d2": 1024 * 10, "e": 0, "f1": 0, "f2": 0, "g": 16 * 16 * 16 * 9 * 16}


def timed(model: Model, shape_id: str) -> Layer:
    (layer,) = [l for l in model.graph.layers if l.name == shape_id]
    return layer


def test_the_table_holds_exactly_the_eleven_shapes_with_their_cmsis_nn_figures() -> None:
    assert [s.id for s in SHAPES] == list(CMSIS_NN)
    assert {s.id: s.cmsis_nn for s in SHAPES} == CMSIS_NN
    assert "99f736a6" in CMSIS_NN_SOURCE and "icount" in CMSIS_NN_SOURCE and "argument set-up" in CMSIS_NN_SOURCE


@pytest.mark.parametrize("shape_id", list(LAYERS))
def test_each_shape_becomes_the_layer_it_describes(shape_id: str) -> None:
    op, in_shape, out_shape, weights, stride, padding, scales = LAYERS[shape_id]
    model = shape_model(get_shape(shape_id))
    graph = model.graph
    layer = timed(model, shape_id)
    assert layer.op == op
    assert graph.tensors[graph.input].shape == in_shape
    assert graph.tensors[layer.output].shape == out_shape
    assert graph.macs(layer) == MACS[shape_id]
    if weights is not None:
        assert layer.weights is not None and layer.weights.shape == weights and layer.weights.dtype == np.int8
        assert layer.bias is not None and layer.bias.dtype == np.int32
        assert layer.weight_scales is not None and len(layer.weight_scales) == scales
        assert len(set(layer.weight_scales.tolist())) == scales, "per-channel scales that differ"
        assert layer.attrs["per_channel"] == (scales > 1)
        assert layer.inputs == [graph.input]
    if op in ("conv2d", "depthwise_conv2d", "pointwise_conv2d", "maxpool2d"):
        assert layer.attrs["stride"] == stride and layer.attrs["padding"] == padding
    if op == "maxpool2d":
        assert tuple(layer.attrs["pool"]) == (2, 2)
    if op == "add":  # two different tensors on different grids: the input and its requantized copy
        first, second = (graph.tensors[t] for t in layer.inputs)
        assert first.name == graph.input and second.shape == first.shape and second.quant != first.quant
    assert model.test_inputs_q.shape == (SAMPLES, *in_shape)


def test_the_models_are_the_same_every_time() -> None:
    """Seeded by the shape's id: the same model, and so the same cached firmware, on every run."""
    for shape in SHAPES:
        a, b = shape_model(shape), shape_model(shape)
        assert np.array_equal(a.test_inputs_q, b.test_inputs_q)
        for la, lb in zip(a.graph.layers, b.graph.layers):
            assert la.weights is None or np.array_equal(la.weights, lb.weights)


@pytest.mark.parametrize("extra, named", [
    (["xor_mlp"], "MODEL names"),
    (["--all"], "--all"),
    (["--baseline"], "--baseline"),
    (["--update-baseline", "somewhere"], "--update-baseline"),
    (["--csv", "k.csv"], "--csv"),
])
def test_the_suite_refuses_models_and_the_baseline_options(
        extra: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--suite", "kernels", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot be combined with {named}" in err[0]


def test_help_explains_the_suite(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--suite {kernels}" in out and "CMSIS-NN" in out and "{id, kernels, instructions, macs, cmsis_nn}" in out


def fabricated(variant: str, fraction: float) -> KernelSuite:
    """A suite without an emulator: each shape's count `fraction` of CMSIS-NN's."""
    firmware = Firmware(Path("k.elf"), "0", "k", "stm32f405", True, Footprint(4096, 8192, 1024), 64, 128,
                        "arm-none-eabi-gcc", ("-O2",), variant=variant)
    results, models = [], []
    for shape in SHAPES:
        count = round(shape.cmsis_nn * fraction)
        layer = BenchLayer(0, shape.id, shape.op, (4,), MACS[shape.id], count, (count, count - 3))
        models.append(ModelBench(shape.model_name, [layer], firmware, "icount", 256, 2, True))
        results.append(KernelResult(shape, layer, shape.cmsis_nn))
    report = BenchReport(Provenance("stm32f405", "cortex-m4", "qemu", "QEMU 7.2", "arm-none-eabi-gcc", ("-O2",),
                                    variant, "0.1.0", "test"), models)
    return KernelSuite(report, results, variant)


def test_several_variants_share_one_table_a_row_per_shape() -> None:
    from harness.report.kernel_suite import render_markdown, render_text, to_json

    suites = [fabricated("ref", 3.0), fabricated("dsp", 0.75)]
    text = render_text(suites)
    lines = text.splitlines()
    assert lines[0].startswith("Kernel suite: instructions per call of each shape's layer on cortex-m4, kernels "
                               "ref (the portable C kernels), dsp (the DSP-extension kernels")
    assert "kernels ref;" in text and "kernels dsp;" in text and CMSIS_NN_SOURCE in text
    header = next(line for line in lines if line.startswith("id "))
    assert header.split("  ")[0] == "id" and [c.strip() for c in header.split("  ") if c.strip()] == [
        "id", "layer", "MACs", "CMSIS-NN", "ref instructions", "ref MACs/instr", "ref / CMSIS-NN",
        "dsp instructions", "dsp MACs/instr", "dsp / CMSIS-NN"]
    g = next(line for line in lines if line.startswith("g "))
    assert "4,123,977" in g and "3.00x" in g and "1,030,994" in g and "0.75x" in g and "1,374,659" in g
    e = next(line for line in lines if line.startswith("e "))
    assert e.split()[-6:] == ["123,969", "-", "3.00x", "30,992", "-", "0.75x"]
    assert "ref takes 3.00x to 3.00x CMSIS-NN's count (geometric mean 3.00x, over the 11 shapes with a figure)" in text
    assert "dsp takes 0.75x to 0.75x CMSIS-NN's count (geometric mean 0.75x, over the 11 shapes with a figure)" in text
    assert [line for line in lines if line.startswith(("ref: every", "dsp: every"))] == [
        "ref: every layer's count repeated exactly over 2 runs of each model",
        "dsp: every layer's count repeated exactly over 2 runs of each model"]
    data = to_json(suites)
    assert [(row["kernels"], row["id"]) for row in data] == [(k, i) for k in ("ref", "dsp") for i in CMSIS_NN]
    assert all(set(row) == {"id", "kernels", "instructions", "macs", "cmsis_nn"} for row in data)
    assert data[-1] == {"id": "g", "kernels": "dsp", "instructions": 1_030_994, "macs": MACS["g"],
                        "cmsis_nn": 1_374_659}
    markdown = render_markdown(suites)
    assert ("| id | layer | MACs | CMSIS-NN | ref instructions | ref MACs/instr | ref / CMSIS-NN | dsp instructions "
            "| dsp MACs/instr | dsp / CMSIS-NN |") in markdown
    assert all(f"| {i} |" in markdown for i in CMSIS_NN) and "geometric mean 0.75x" in markdown
    # one variant: the same table with one group of columns, and the JSON as before
    assert to_json(suites[0]) == data[:len(SHAPES)] and "dsp" not in render_text(suites[0]).split("\n", 1)[1]


def test_the_plot_has_a_bar_per_variant_per_shape_and_the_lines_at_1_and_the_aim() -> None:
    pytest.importorskip("matplotlib")
    from harness.report.plots import AIM, kernel_suite_figure, styled

    with styled() as plt:
        fig = kernel_suite_figure(plt, [fabricated("ref", 3.0), fabricated("dsp", 0.75)])
        ax = fig.axes[0]
        assert len(ax.patches) == 2 * len(SHAPES)
        assert sorted(line.get_xdata()[0] for line in ax.get_lines()) == [AIM, 1.0] and AIM == 0.8
        assert [t.get_text() for t in ax.texts].count("0.75x") == len(SHAPES)
        assert [t.get_text() for t in fig.legends[0].get_texts()] == [
            "CMSIS-NN (1)", "aim (0.8)", "kernels ref", "kernels dsp"]
        renderer = fig.canvas.get_renderer()
        fig.canvas.draw()
        assert not ax.get_tightbbox(renderer).overlaps(fig.legends[0].get_window_extent(renderer))
        plt.close(fig)


@pytest.mark.emulator
def test_the_suite_runs_every_shape_bit_exact_and_repeatably(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Both shipped variants in one run (issue 13: `--suite kernels --kernels ref,dsp --json` lists all
    11 shapes for both)."""
    files = {k: tmp_path / f"k.{k}" for k in ("json", "md", "png")}
    assert main(["bench", "--suite", "kernels", "--kernels", "ref,dsp", "--json", str(files["json"]),
                 "--md", str(files["md"]), "--plot", str(files["png"])]) == 0
    captured = capsys.readouterr()
    assert "ref: every layer's count repeated exactly over 2 runs" in captured.out and CMSIS_NN_SOURCE in captured.out
    assert "dsp: every layer's count repeated exactly over 2 runs" in captured.out
    assert "kernels ref: [11/11] kernel_g" in captured.err and "kernels dsp: [11/11] kernel_g" in captured.err
    assert "ref takes " in captured.out and "dsp takes " in captured.out
    data = json.loads(files["json"].read_text())
    assert isinstance(data, list) and [(row["kernels"], row["id"]) for row in data] == [
        (k, i) for k in ("ref", "dsp") for i in CMSIS_NN]
    for row in data:
        assert set(row) == {"id", "kernels", "instructions", "macs", "cmsis_nn"}
        assert row["cmsis_nn"] == CMSIS_NN[row["id"]]
        assert isinstance(row["instructions"], int) and row["instructions"] > 0
        assert row["macs"] == MACS[row["id"]], row["id"]
    ref = {row["id"]: row["instructions"] for row in data if row["kernels"] == "ref"}
    dsp = {row["id"]: row["instructions"] for row in data if row["kernels"] == "dsp"}
    assert dsp["g"] < ref["g"] and dsp["d2"] < ref["d2"], "the dsp kernels take fewer instructions"
    assert all(dsp[i] < ref[i] for i in CMSIS_NN), "every shape has a dsp kernel, faster than ref's"
    markdown = files["md"].read_text()
    assert all(f"| {i} |" in markdown for i in CMSIS_NN)
    assert "ref / CMSIS-NN" in markdown and "dsp / CMSIS-NN" in markdown
    assert files["png"].read_bytes()[:4] == b"\x89PNG"
    # again through the API, with the target's own kernels (dsp): every model repeated exactly, and a
    # shape's count is its layer's alone
    suite = run_kernel_suite(get_target("stm32f405"))
    assert suite.variant == "dsp"
    assert all(m.repeatable and m.counter == "icount" for m in suite.bench.models)
    assert [r.count for r in suite.results] == list(dsp.values())
    for r, m in zip(suite.results, suite.bench.models):
        assert r.layer.name == r.shape.id and r.count <= m.total_count
        assert r.count == max(r.layer.counts_per_sample) and min(r.layer.counts_per_sample) > 0


def test_each_core_is_compared_with_cmsis_nns_figures_for_that_core() -> None:
    """The M4's figures on an M4, CMSIS-NN's M7 and M55 figures where stored, and none (shown `-`,
    not a ratio to another core's figure) on a core without any."""
    from dataclasses import replace

    from harness.bench.kernel_suite import CMSIS_NN_BY_CORE, KernelResult, cmsis_nn_figure
    from harness.report.kernel_suite import render_text, to_json

    a, d1 = get_shape("a"), get_shape("d1")
    assert cmsis_nn_figure(a, "cortex-m4") == a.cmsis_nn
    assert cmsis_nn_figure(a, "cortex-m7") == 343_144 and cmsis_nn_figure(d1, "cortex-m7") is None
    assert cmsis_nn_figure(a, "cortex-m55") == 141_198 and set(CMSIS_NN_BY_CORE["cortex-m55"]) >= {"a", "d2", "g"}
    assert cmsis_nn_figure(a, "cortex-m33") is None
    m4 = fabricated("dsp", 0.5)
    m33 = replace(m4, core="cortex-m33", results=[KernelResult(r.shape, r.layer, None) for r in m4.results])
    text = render_text(m33)
    assert "on cortex-m33" in text and "CMSIS-NN figures: none stored for cortex-m33" in text
    assert "dsp: no CMSIS-NN figure to compare with on cortex-m33" in text
    assert all(row["cmsis_nn"] is None for row in to_json(m33))
