"""`harness bench`: reports, repeatability, and the baseline gate on per-layer counts (CI's guard
on speed), one baseline per kernel variant; several variants in one run and their comparison. Counts
are named by their unit: instructions under QEMU, never "cycles"."""
from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from harness.bench import BenchLayer, BenchReport, ModelBench, Provenance, run_bench
from harness.bench.baseline import BaselineError, baseline_path, compare, read_baseline, write_baseline
from harness.bench.kernels_compared import compare_variants
from harness.bench.published import MICROTVM, PUBLISHED, X_CUBE_AI, published_for
from harness.build import FIRMWARE_DIR, REF_KERNELS, Firmware, kernel_variant, kernel_variants
from harness.build.elfinfo import Footprint
from harness.build.variants import SHIPPED
from harness.cli import main
from harness.errors import InputError
from harness.protocol.counters import COUNT_KEYS
from harness.report.bench import (
    CSV_COLUMNS,
    comparison_json,
    render_comparison,
    render_markdown,
    render_text,
    render_variants_markdown,
    to_csv,
    to_csv_variants,
    to_json,
    variants_json,
)
from harness.targets import get_target
from harness.verify.sqnr import LayerSqnr
from harness.zoo import ZOO

TARGET = get_target("stm32f405")
ROOT = Path(__file__).resolve().parent.parent
#: ../shared/models/mlperf_tiny beside the checkout, or where HARNESS_MLPERF_DIR says (as tests/test_tflite.py).
MLPERF = Path(os.environ.get("HARNESS_MLPERF_DIR") or ROOT.parent / "shared" / "models" / "mlperf_tiny")
#: The variants gated on the STM32F405 by their own baselines in `make test`: ref and the DSP kernels
#: (mve, for the Cortex-M55, is gated on mps3-an547 by tests/test_matrix.py).
SHIPPED_VARIANTS = ["ref", "dsp"]


def synthetic(counter: str, *models: tuple[str, list[int]], kernels: str = "ref", flash: int = 4096,
              ram: int = 8192, macs: dict[str, int] | None = None) -> BenchReport:
    """A report without an emulator: each model named with its layers' counts (`macs`: a model's
    total MACs, all in its first layer)."""
    firmware = Firmware(Path("m.elf"), "0", "m", TARGET.name, True, Footprint(flash, ram, 1024), 64, 128,
                        "arm-none-eabi-gcc", ("-O2",), variant=kernels)
    given = macs or {}

    def layer_macs(name: str, i: int) -> int:
        return given[name] if i == 0 and name in given else 8 * i

    benches = [ModelBench(name, [BenchLayer(i, f"layer{i}", "dense", (4,), layer_macs(name, i), c, (c, c - 1),
                                            weight_bytes=32 * i, activation_bytes=16) for i, c in enumerate(counts)],
                          firmware, counter, 256, 2, True) for name, counts in models]
    return BenchReport(Provenance(TARGET.name, TARGET.core, "renode", "Renode 1.15", "arm-none-eabi-gcc", ("-O2",),
                                  kernels, "0.1.0", "test"), benches)


@pytest.mark.parametrize("counter, key, head, ratio", [
    ("icount", "instructions", "instructions", "MACs/instr"),
    ("dwt", "cycles", "cycles", "MACs/cycle"),
    ("timer", "timer_ticks", "timer ticks", "MACs/tick"),
    ("none", None, "nothing (no counter advanced)", "MACs/count"),
])
def test_every_count_is_named_by_its_unit(counter: str, key: str | None, head: str, ratio: str) -> None:
    report = synthetic(counter, ("m", [100, 300]))
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert tuple(rows[0]) == CSV_COLUMNS and [r["count"] for r in rows] == ["100", "300"]
    assert {r["unit"] for r in rows} == {head} and {r["counter"] for r in rows} == {counter}
    model = to_json(report)["models"][0]
    assert model["total_count"] == 400 and model["unit"] == head and model["counter"] == counter
    assert [l["count"] for l in model["layers"]] == [100, 300]
    others = set(COUNT_KEYS.values()) - {key}
    assert not others & (set(model) | set(model["layers"][0])), "a count under another unit's name"
    if key is not None:
        assert model[f"total_{key}"] == 400 and [l[key] for l in model["layers"]] == [100, 300]
    headers = render_text(report).splitlines()[4]
    assert head in headers and ratio in headers
    assert render_markdown(report).startswith(f"# Benchmark: {head} per layer ({counter})")


def test_a_format_1_baseline_is_read_as_counts_and_rewritten_as_format_2(tmp_path: Path) -> None:
    """Format 1 called instruction counts `cycles`; it still gates, and the next update renames them."""
    path = baseline_path(tmp_path, TARGET.name)
    path.write_text(json.dumps({"format": 1, "target": TARGET.name, "counter": "icount", "unit": "instructions",
                                "models": {"m": {"total": 400, "layers": [
                                    {"index": 0, "name": "layer0", "op": "dense", "cycles": 100},
                                    {"index": 1, "name": "layer1", "op": "dense", "cycles": 300}]}}}))
    assert compare(synthetic("icount", ("m", [100, 300])), path).ok
    slower = compare(synthetic("icount", ("m", [100, 301])), path)
    assert [line for line in slower.lines() if line.startswith("REGRESSION")] == [
        "REGRESSION: m layer 1 'layer1' (dense): 300 -> 301 instructions (+1, +0.33%)"]
    write_baseline(synthetic("icount", ("n", [7])), path)
    data = json.loads(path.read_text())
    assert (data["format"], data["counter"], data["unit"]) == (2, "icount", "instructions")
    assert data["models"]["m"]["layers"][1] == {"index": 1, "name": "layer1", "op": "dense", "count": 300}
    assert data["models"]["n"]["layers"] == [{"index": 0, "name": "layer0", "op": "dense", "count": 7}]
    assert "cycles" not in path.read_text()


def _laid_out(fig: Any) -> list[Any]:
    """Draw `fig`; the bounding boxes of its panels (with their titles and tick labels), legends and
    figure-level texts such as a suptitle."""
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    return ([ax.get_tightbbox(renderer) for ax in fig.axes] + [l.get_window_extent(renderer) for l in fig.legends]
            + [t.get_window_extent(renderer) for t in fig.texts if t.get_text()])


def _assert_readable(fig: Any) -> None:
    """Nothing overlaps, nothing is cut off at the figure's edge, no text below 9 pt at 100 dpi."""
    from matplotlib.text import Text

    boxes = _laid_out(fig)
    assert not [(a, b) for a, b in combinations(boxes, 2) if a.overlaps(b)]
    assert all(fig.bbox.x0 <= b.x0 and b.x1 <= fig.bbox.x1 and fig.bbox.y0 <= b.y0 and b.y1 <= fig.bbox.y1
               for b in boxes)
    assert min(t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text()) >= 9


def test_bench_plots_name_the_unit_and_read_at_their_size() -> None:
    pytest.importorskip("matplotlib")
    from harness.report.plots import bench_figure, styled

    more = [(f"m{i}", [100 + j for j in range(4 + 2 * i)]) for i in range(8)]  # 10 rows, as `--all` draws
    report = synthetic("icount", ("small", [459, 88]), ("large", [1_073_185 - 1000 * i for i in range(31)]), *more)
    with styled() as plt:
        fig = bench_figure(plt, report)
        _assert_readable(fig)
        left, right = fig.axes[0], fig.axes[1]
        assert left.xaxis.label.get_text() == "instructions per layer (icount, largest over the samples)"
        assert right.xaxis.label.get_text() == "bytes per layer"
        assert left.get_title(loc="left") == "small: 547 instructions per inference"
        assert [t.get_text() for t in left.get_yticklabels()] == ["layer0", "layer1"]
        assert "instructions per layer (icount)" in fig.legends[0].get_title().get_text()
        plt.close(fig)


def test_the_sqnr_plot_reads_at_its_size() -> None:
    pytest.importorskip("matplotlib")
    from harness.report.plots import sqnr_figure, styled

    rows = [LayerSqnr(0, "conv", "conv2d", 38.2), LayerSqnr(1, "flatten", "flatten", math.inf),
            LayerSqnr(2, "zeros", "relu", None), LayerSqnr(3, "fc", "dense", 21.0)]
    with styled() as plt:
        fig = sqnr_figure(plt, "m", rows, 4)
        _assert_readable(fig)
        ax = fig.axes[0]
        assert ax.xaxis.label.get_text().startswith("SQNR in dB")
        assert [t.get_text() for t in ax.texts] == ["38.2 dB", "exact", "no signal", "21.0 dB"]
        plt.close(fig)


@pytest.mark.emulator
@pytest.mark.parametrize("kernels", SHIPPED_VARIANTS)
def test_no_layer_is_slower_than_its_baseline(kernels: str) -> None:
    """The gate CI runs, for every variant the project ships: every model against its own baseline,
    harness/golden/cycles/stm32f405.json for ref and stm32f405.dsp.json for dsp, exactly."""
    variant = kernel_variant(kernels)
    report = run_bench(list(ZOO), TARGET, kernels=variant)
    assert all(m.repeatable for m in report.models)
    comparison = compare(report, baseline_path(None, TARGET.name, variant))
    assert comparison.tolerance_pct == 0.0 and comparison.kernels == kernels
    assert comparison.ok, "\n".join(comparison.lines())


@pytest.mark.emulator
def test_bench_writes_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {k: tmp_path / f"b.{k}" for k in ("csv", "json", "md", "html", "png")}
    args = ["bench", "kws_cnn", "resnet18_block"] + [a for k, p in files.items()
                                                     for a in (f"--{'plot' if k == 'png' else k}", str(p))]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "repeated exactly over 2 runs" in out and "icount" in out and "arm-none-eabi-gcc" in out
    rows = list(csv.DictReader(files["csv"].open()))
    assert tuple(rows[0]) == CSV_COLUMNS and {r["unit"] for r in rows} == {"instructions"}
    data = json.loads(files["json"].read_text())
    for m in data["models"]:
        layers = [r for r in rows if r["model"] == m["model"]]
        assert len(layers) == len(m["layers"]) and m["unit"] == "instructions"
        assert m["total_count"] == m["total_instructions"] == sum(int(r["count"]) for r in layers)
        assert all(l["instructions"] == l["count"] for l in m["layers"]) and "total_cycles" not in m
        assert m["repeatable"] and m["flash_bytes"] > 0 and m["arena_bytes"] > 0
    prov = data["provenance"]
    assert prov["emulator"] == "qemu" and "QEMU" in prov["emulator_version"] and "-O2" in prov["flags"]
    assert prov["kernel_variant"] == TARGET.kernels and "gcc" in prov["compiler"]  # the target's own
    assert "kws_cnn" in files["md"].read_text() and "<table>" in files["html"].read_text()
    assert files["png"].read_bytes()[:4] == b"\x89PNG"


@pytest.mark.emulator
def test_a_kernel_that_adds_instructions_fails_the_gate_naming_the_layer(tmp_path: Path) -> None:
    baseline = tmp_path / "cycles"
    write_baseline(run_bench(["xor_mlp"], TARGET, kernels=REF_KERNELS), baseline_path(baseline, TARGET.name))
    mutant = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, mutant)
    relu = mutant / "kernels" / "src" / "hk_relu_s8.c"
    line = "        output[i] = hk_clamp_s8(input[i], activation->min, activation->max);"
    assert line in relu.read_text()
    relu.write_text(relu.read_text().replace(line, '        __asm volatile("nop");\n' + line))
    comparison = compare(run_bench(["xor_mlp"], TARGET, firmware_dir=mutant, kernels=REF_KERNELS),
                         baseline_path(baseline, TARGET.name))
    assert not comparison.ok
    assert [(c.layer, c.new - c.old) for c in comparison.regressions] == [("relu1", 4)]  # one nop per element
    assert any("REGRESSION: xor_mlp layer 1 'relu1' (relu)" in line for line in comparison.lines())
    # the unmodified kernels pass again
    back = compare(run_bench(["xor_mlp"], TARGET, kernels=REF_KERNELS), baseline_path(baseline, TARGET.name))
    assert back.ok


@pytest.mark.emulator
def test_baselines_merge_and_refuse_what_they_cannot_compare(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = baseline_path(tmp_path, TARGET.name, TARGET.kernels)  # no --kernels: the target's own
    with pytest.raises(BaselineError, match="no baseline of counts"):
        compare(run_bench(["xor_mlp"], TARGET), path)
    assert main(["bench", "xor_mlp", "--update-baseline", str(tmp_path)]) == 0
    assert main(["bench", "kws_cnn", "--update-baseline", str(tmp_path)]) == 0
    data = json.loads(path.read_text())
    assert set(data["models"]) == {"xor_mlp", "kws_cnn"} and (data["counter"], data["unit"]) == (
        "icount",
        "instructions",
    )
    assert all("count" in l and "cycles" not in l for m in data["models"].values() for l in m["layers"])
    assert main(["bench", "mobilenetv1_friendly", "--baseline", str(tmp_path)]) == 1
    assert "MISSING: mobilenetv1_friendly has no baseline" in capsys.readouterr().out
    data["counter"] = "dwt"
    path.write_text(json.dumps(data))
    assert main(["bench", "xor_mlp", "--baseline", str(tmp_path)]) == 2
    assert "cannot be compared" in capsys.readouterr().err


def test_bench_needs_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench"]) == 2
    assert "name the models" in capsys.readouterr().err
    assert main(["bench", "nope"]) == 2
    assert "unknown model(s) nope" in capsys.readouterr().err


# ------------------------------------------------------------------------ several kernel variants


@pytest.mark.parametrize("spec, names", [
    ("ref", ["ref"]), ("dsp", ["dsp"]), ("ref,dsp", ["ref", "dsp"]), ("dsp, ref", ["dsp", "ref"]),
])
def test_a_list_of_kernels_names_each_variant_once_in_order(spec: str, names: list[str]) -> None:
    assert [v.name for v in kernel_variants(spec)] == names


def test_a_folder_whose_path_holds_a_comma_is_one_variant(tmp_path: Path) -> None:
    folder = tmp_path / "fast,small"
    folder.mkdir()
    (folder / "hk_relu_s8.c").write_text("/* empty */\n")
    (variant,) = kernel_variants(str(folder))
    assert variant.name == "fast,small" and variant.directory == folder.resolve()
    assert baseline_path(tmp_path, TARGET.name, variant).name == "stm32f405.fast_small.json"


@pytest.mark.parametrize("spec, said", [
    ("ref,nope", "kernel variant 'nope': no such folder"),
    ("ref,dsp,ref", "--kernels 'ref,dsp,ref': ref named more than once"),
    (f"dsp,{SHIPPED['dsp']}", "dsp named more than once"),
    ("ref,", "an empty item"),
    ("", "an empty item"),
])
def test_a_bad_kernels_list_is_one_line_and_exit_2(spec: str, said: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match=said.replace("(", r"\(")):
        kernel_variants(spec)
    for argv in (["bench", "xor_mlp", "--kernels", spec], ["bench", "--suite", "kernels", "--kernels", spec]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and said in err[0] and err[0].startswith("harness: input error:"), err


def test_only_bench_takes_a_list_of_kernels(capsys: pytest.CaptureFixture[str]) -> None:
    """run, golden, fuzz and cross keep one variant: `ref,dsp` is a folder that does not exist there."""
    assert main(["run", "xor_mlp", "--kernels", "ref,dsp"]) == 2
    assert "kernel variant 'ref,dsp': no such folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--kernels ref|dsp|mve|DIR[,...]" in out and "ref,dsp" in out and "its own baseline" in out


def test_html_takes_one_variant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "xor_mlp", "--kernels", "ref,dsp", "--html", str(tmp_path / "b.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--html shows one kernel variant" in err[0]
    assert not (tmp_path / "b.html").exists()


def test_each_variant_has_its_own_baseline_file(tmp_path: Path) -> None:
    assert baseline_path(tmp_path, TARGET.name) == tmp_path / "stm32f405.json"
    assert baseline_path(tmp_path, TARGET.name, REF_KERNELS) == tmp_path / "stm32f405.json"
    assert baseline_path(tmp_path, TARGET.name, "dsp") == tmp_path / "stm32f405.dsp.json"
    assert baseline_path(tmp_path, TARGET.name, kernel_variant("dsp")) == tmp_path / "stm32f405.dsp.json"
    assert baseline_path(tmp_path, TARGET.name, "my_kernels") == tmp_path / "stm32f405.my_kernels.json"
    assert baseline_path(tmp_path, TARGET.name, "../other/dsp") == tmp_path / "stm32f405.other_dsp.json"
    assert baseline_path(None, TARGET.name, "dsp").parent == baseline_path(None, TARGET.name).parent


def test_a_baseline_records_its_kernels_and_gates_only_them(tmp_path: Path) -> None:
    ref, dsp = synthetic("icount", ("m", [100, 300])), synthetic("icount", ("m", [40, 90]), kernels="dsp")
    ref_path, dsp_path = baseline_path(tmp_path, TARGET.name), baseline_path(tmp_path, TARGET.name, "dsp")
    write_baseline(ref, ref_path)
    write_baseline(dsp, dsp_path)
    assert [json.loads(p.read_text())["kernels"] for p in (ref_path, dsp_path)] == ["ref", "dsp"]
    assert compare(ref, ref_path).ok and compare(dsp, dsp_path).ok
    assert compare(dsp, dsp_path).lines()[0] == f"baseline {dsp_path}, kernels dsp (tolerance 0%)"
    # another variant's file is refused, by the gate and by an update, naming the file to use
    with pytest.raises(BaselineError, match="holds the counts of kernels ref, not of kernels dsp") as e:
        compare(dsp, ref_path)
    assert str(dsp_path) in e.value.next_step
    with pytest.raises(BaselineError, match="holds the counts of kernels dsp"):
        compare(ref, dsp_path)
    with pytest.raises(BaselineError, match="holds the counts of kernels ref"):
        write_baseline(dsp, ref_path)
    assert json.loads(ref_path.read_text())["models"]["m"]["total"] == 400  # untouched
    # a file from before variants had baselines holds ref's counts
    data = json.loads(ref_path.read_text())
    del data["kernels"]
    ref_path.write_text(json.dumps(data))
    assert compare(ref, ref_path).ok
    with pytest.raises(BaselineError, match="holds the counts of kernels ref"):
        compare(dsp, ref_path)
    # a dsp count that grows fails dsp's gate alone
    slower = synthetic("icount", ("m", [40, 91]), kernels="dsp")
    assert not compare(slower, dsp_path).ok and compare(ref, ref_path).ok
    with pytest.raises(BaselineError, match="--kernels dsp --update-baseline"):
        compare(dsp, baseline_path(tmp_path / "none", TARGET.name, "dsp"))


#: MACs of the MLPerf Tiny reference models, as the harness counts them.
MLPERF_MACS = {"kws_ref_model": 2_656_768, "vww_96_int8": 7_489_664, "pretrainedresnet_quant": 12_501_632,
               "ad01_int8": 264_192}


def two_variants() -> list[BenchReport]:
    """ref and dsp reports of an MLPerf model, a zoo model, and a model named as an MLPerf one but not it."""
    macs = {"kws_ref_model": MLPERF_MACS["kws_ref_model"], "ad01_int8": 1000}
    return [synthetic("icount", ("kws_ref_model", [35_000_000]), ("xor_mlp", [400, 261]), ("ad01_int8", [900]),
                      macs=macs),
            synthetic("icount", ("kws_ref_model", [7_000_000]), ("xor_mlp", [300, 261]), ("ad01_int8", [450]),
                      kernels="dsp", flash=4096 + 5740, ram=8192 + 72, macs=macs)]


def test_the_published_figures_are_the_mlperf_tiny_v1_1_latencies_at_120_mhz() -> None:
    x_cube = {p.model: (p.latency_ms, round(p.cycles / 1e4) / 100) for p in PUBLISHED if p.system == X_CUBE_AI}
    assert x_cube == {"kws_ref_model": (62.9, 7.55), "vww_96_int8": (118.7, 14.24),
                      "pretrainedresnet_quant": (214.0, 25.68), "ad01_int8": (6.86, 0.82)}
    tvm = {p.model: round(p.cycles / 1e4) / 100 for p in PUBLISHED if p.system == MICROTVM}
    assert tvm == {"kws_ref_model": 11.98, "vww_96_int8": 36.1, "pretrainedresnet_quant": 46.75, "ad01_int8": 1.03}
    for p in PUBLISHED:
        assert p.macs == MLPERF_MACS[p.model] and p.file.lower().removesuffix(".tflite") == p.model
        assert "MLPerf Tiny v1.1" in p.source and "NUCLEO-L4R5ZI" in p.source and "120 MHz" in p.source
        assert p.system in p.source and f"{p.latency_ms:g} ms" in p.source
    assert published_for("kws_ref_model", 1) == () and published_for("kws_cnn", 2_656_768) == ()


def test_the_comparison_of_variants_gives_totals_ratios_footprints_and_the_published_figure() -> None:
    reports = two_variants()
    rows = compare_variants(reports)
    assert [r.model for r in rows] == ["kws_ref_model", "xor_mlp", "ad01_int8"]
    kws, xor, ad = rows
    assert [t.count for t in kws.totals] == [35_000_000, 7_000_000] and kws.ratio(1) == 0.2
    assert (kws.flash_change(1), kws.ram_change(1)) == (5740, 72)
    assert [p.system for p in kws.published] == [X_CUBE_AI, MICROTVM] and not xor.published
    assert not ad.published, "a model named as an MLPerf one, with other MACs, gets no published figure"
    text = render_comparison(rows)
    lines = text.splitlines()
    assert lines[0].startswith("kernels compared: ref, dsp; instructions (icount) per inference")
    header = lines[1]
    for column in ("ref instructions", "dsp instructions", "dsp/ref", "ref flash", "dsp flash", "dsp flash vs ref",
                   "ref RAM", "dsp RAM", "dsp RAM vs ref", "published, cycles on silicon"):
        assert column in header
    kws_line = next(line for line in lines if line.startswith("kws_ref_model "))
    assert "35,000,000" in kws_line and "7,000,000" in kws_line and "0.20x" in kws_line
    assert "+5,740 B" in kws_line and "+72 B" in kws_line and "7.55 M (ST X-CUBE-AI 8.1)" in kws_line
    xor_line = next(line for line in lines if line.startswith("xor_mlp "))
    assert "0.85x" in xor_line and xor_line.rstrip().endswith("-")
    assert "cycles on a board, not instructions under an emulator, so not comparable 1:1" in text
    assert "kws_ref_model: MLPerf Tiny v1.1, closed division, latency, ST NUCLEO-L4R5ZI" in text
    assert "microTVM + CMSIS-NN: keyword spotting, DS-CNN (kws_ref_model.tflite) 99.8 ms = 12 M cycles" in text
    # no published column when no model has a figure
    assert "published" not in render_comparison(rows[1:])


def test_the_json_of_several_variants_holds_each_report_and_the_comparison(tmp_path: Path) -> None:
    reports = two_variants()
    rows = compare_variants(reports)
    data = variants_json(reports, [None, None], rows)
    assert set(data) == {"variants", "comparison"}
    assert data["variants"] == [to_json(r) for r in reports]  # each as a report of one variant
    assert [v["provenance"]["kernel_variant"] for v in data["variants"]] == ["ref", "dsp"]
    kws = data["comparison"][0]
    assert (kws["model"], kws["unit"], kws["counter"]) == ("kws_ref_model", "instructions", "icount")
    assert [v["kernels"] for v in kws["variants"]] == ["ref", "dsp"]
    ref, dsp = kws["variants"]
    assert ref["total_instructions"] == ref["total_count"] == 35_000_000 and ref["ratio_to_first"] == 1.0
    assert dsp["total_count"] == 7_000_000 and dsp["ratio_to_first"] == 0.2
    assert (dsp["flash_change_bytes"], dsp["ram_change_bytes"]) == (5740, 72)
    x_cube, tvm = kws["published"]
    assert (x_cube["system"], x_cube["cycles"], x_cube["unit"], x_cube["on"]) == (X_CUBE_AI, 7_548_000, "cycles",
                                                                                 "silicon")
    assert tvm["system"] == MICROTVM and tvm["latency_ms"] == 99.8
    assert comparison_json(rows)[1]["published"] == []
    # with baselines, each variant's gate travels with its report
    path = baseline_path(tmp_path, TARGET.name, "dsp")
    write_baseline(reports[1], path)
    gated = variants_json(reports, [None, compare(reports[1], path)], rows)
    assert "baseline" not in gated["variants"][0] and gated["variants"][1]["baseline"]["kernels"] == "dsp"
    assert gated["variants"][1]["baseline"]["ok"]


def test_csv_and_markdown_of_several_variants() -> None:
    reports = two_variants()
    rows = list(csv.DictReader(io.StringIO(to_csv_variants(reports))))
    assert tuple(rows[0]) == ("kernels", *CSV_COLUMNS)
    assert [(r["kernels"], r["model"]) for r in rows][:2] == [("ref", "kws_ref_model"), ("ref", "xor_mlp")]
    assert {r["kernels"] for r in rows} == {"ref", "dsp"} and len(rows) == 2 * 4
    markdown = render_variants_markdown(reports, [None, None], compare_variants(reports))
    assert markdown.startswith("# Benchmark: kernels ref, dsp\n\n## Kernels compared")
    assert "| model | ref instructions | dsp instructions | dsp/ref |" in markdown
    assert "| kws_ref_model | 35,000,000 | 7,000,000 | 0.20x |" in markdown
    assert "- kws_ref_model: MLPerf Tiny v1.1" in markdown and "not comparable 1:1" in markdown
    assert "## Kernels ref: instructions per layer (icount)" in markdown
    assert "## Kernels dsp: instructions per layer (icount)" in markdown and "### xor_mlp" in markdown


def test_the_plot_of_several_variants_reads_at_its_size() -> None:
    pytest.importorskip("matplotlib")
    from harness.report.plots import styled, variants_figure

    reports = two_variants()
    with styled() as plt:
        fig = variants_figure(plt, compare_variants(reports), TARGET.name, "qemu")
        _assert_readable(fig)
        ax = fig.axes[0]
        assert ax.get_xscale() == "log"
        assert [t.get_text() for t in ax.get_yticklabels()] == ["kws_ref_model", "xor_mlp", "ad01_int8"]
        labels = fig.legends[0].get_texts()
        assert [t.get_text() for t in labels][:2] == ["kernels ref", "kernels dsp"]
        assert any("published ST X-CUBE-AI 8.1, cycles on silicon" in t.get_text() for t in labels)
        bar_labels = [t.get_text() for t in ax.texts]  # the first variant's bars, then the second's
        assert bar_labels == ["35M", "661", "900", "7M (0.20x)", "561 (0.85x)", "450 (0.50x)"]
        plt.close(fig)


@pytest.mark.emulator
def test_several_variants_are_each_recorded_and_gated_by_their_own_baseline(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = str(tmp_path)
    ref_path, dsp_path = baseline_path(tmp_path, TARGET.name), baseline_path(tmp_path, TARGET.name, "dsp")
    assert main(["bench", "xor_mlp", "--kernels", "ref,dsp", "--update-baseline", base]) == 0
    out = capsys.readouterr().out
    assert f"baseline {ref_path}: recorded xor_mlp" in out and f"baseline {dsp_path}: recorded xor_mlp" in out
    assert "== kernels ref ==" in out and "== kernels dsp ==" in out and "kernels compared: ref, dsp" in out
    ref_data, dsp_data = read_baseline(ref_path), read_baseline(dsp_path)
    assert ref_data is not None and dsp_data is not None
    assert (ref_data["kernels"], dsp_data["kernels"]) == ("ref", "dsp")
    assert ref_data["models"]["xor_mlp"]["total"] != dsp_data["models"]["xor_mlp"]["total"]
    assert main(["bench", "xor_mlp", "--kernels", "ref,dsp", "--baseline", base]) == 0
    assert capsys.readouterr().out.count("baseline gate passed") == 2
    # one dsp layer recorded one instruction lower: dsp's gate fails, ref's passes, the exit status is 1
    dsp_data["models"]["xor_mlp"]["layers"][0]["count"] -= 1
    dsp_path.write_text(json.dumps(dsp_data))
    assert main(["bench", "xor_mlp", "--kernels", "ref,dsp", "--baseline", base]) == 1
    out = capsys.readouterr().out
    assert out.count("baseline gate passed") == 1 and "REGRESSION: xor_mlp layer 0 'fc1' (dense)" in out
    assert out.rstrip().endswith("baseline gate FAILED for kernels dsp")
    assert main(["bench", "xor_mlp", "--kernels", "ref", "--baseline", base]) == 0
    capsys.readouterr()
    # another variant's file in dsp's place, or none, is refused before the bench
    shutil.copy(ref_path, dsp_path)
    assert main(["bench", "xor_mlp", "--kernels", "ref,dsp", "--baseline", base]) == 2
    captured = capsys.readouterr()
    assert "holds the counts of kernels ref, not of kernels dsp" in captured.err
    assert "building" not in captured.err
    dsp_path.unlink()
    assert main(["bench", "xor_mlp", "--kernels", "dsp", "--baseline", base]) == 2
    err = capsys.readouterr().err
    assert f"no baseline of counts at {dsp_path}" in err and "--kernels dsp --update-baseline" in err


@pytest.mark.emulator
def test_bench_with_two_variants_writes_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {k: tmp_path / f"b.{k}" for k in ("csv", "json", "md", "png")}
    args = ["bench", "xor_mlp", "kws_cnn", "--kernels", "ref,dsp"] + [
        a for k, p in files.items() for a in (f"--{'plot' if k == 'png' else k}", str(p))]
    assert main(args) == 0
    out = capsys.readouterr().out
    data = json.loads(files["json"].read_text())
    assert [v["provenance"]["kernel_variant"] for v in data["variants"]] == ["ref", "dsp"]
    assert [[m["model"] for m in v["models"]] for v in data["variants"]] == [["xor_mlp", "kws_cnn"]] * 2
    for row, ref_model, dsp_model in zip(data["comparison"], *(v["models"] for v in data["variants"])):
        ref, dsp = row["variants"]
        assert ref["total_instructions"] == ref_model["total_count"] and dsp["total_count"] == dsp_model["total_count"]
        assert dsp["flash_bytes"] == dsp_model["flash_bytes"] and dsp["ram_bytes"] == dsp_model["ram_bytes"]
        assert dsp["flash_change_bytes"] == dsp_model["flash_bytes"] - ref_model["flash_bytes"]
        assert dsp["ratio_to_first"] == round(dsp_model["total_count"] / ref_model["total_count"], 4)
        assert row["published"] == []
    kws = data["comparison"][1]
    assert kws["variants"][1]["ratio_to_first"] < 0.5, "the dsp kernels take fewer instructions on kws_cnn"
    rows = list(csv.DictReader(files["csv"].open()))
    assert {r["kernels"] for r in rows} == {"ref", "dsp"}
    assert "kernels compared: ref, dsp" in out and "## Kernels compared" in files["md"].read_text()
    assert files["png"].read_bytes()[:4] == b"\x89PNG"


@pytest.mark.emulator
def test_the_mlperf_models_are_compared_with_their_published_figures(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The two smallest MLPerf Tiny files (the others take minutes): the published column and rows."""
    paths = [MLPERF / name for name in ("kws_ref_model.tflite", "ad01_int8.tflite")]
    for path in paths:
        if not path.is_file():
            pytest.skip(f"{path} is absent (the MLPerf Tiny reference models, from the mlcommons/tiny repository; "
                        "set HARNESS_MLPERF_DIR to their folder)")
    out_json = tmp_path / "m.json"
    assert main(["bench", *map(str, paths), "--kernels", "ref,dsp", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "published, cycles on silicon" in out and "7.55 M (ST X-CUBE-AI 8.1)" in out
    assert "0.823 M (ST X-CUBE-AI 8.1)" in out
    rows = json.loads(out_json.read_text())["comparison"]
    assert [r["model"] for r in rows] == ["kws_ref_model", "ad01_int8"]
    assert [[p["cycles"] for p in r["published"]] for r in rows] == [[7_548_000, 11_976_000], [823_200, 1_032_000]]


@pytest.mark.emulator
def test_the_robot_keyword_gates_each_variant_by_its_own_baseline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("robot")
    from harness.robot.HarnessLibrary import HarnessLibrary

    assert main(["bench", "xor_mlp", "--kernels", "ref,dsp", "--update-baseline", str(tmp_path / "cycles")]) == 0
    monkeypatch.setenv("HARNESS_GOLDEN_DIR", str(tmp_path))  # where baseline_path(None, ...) looks
    library = HarnessLibrary()
    library.counts_should_not_regress("xor_mlp", kernels="ref,dsp")
    dsp_path = baseline_path(None, TARGET.name, "dsp")
    assert dsp_path == tmp_path / "cycles" / "stm32f405.dsp.json"
    data = json.loads(dsp_path.read_text())
    data["models"]["xor_mlp"]["layers"][0]["count"] -= 1
    dsp_path.write_text(json.dumps(data))
    library.counts_should_not_regress("xor_mlp", kernels="ref")
    for kernels in ("dsp", None):  # None: the target's own, dsp
        with pytest.raises(AssertionError, match="REGRESSION: xor_mlp layer 0 'fc1'") as e:
            library.counts_should_not_regress("xor_mlp", kernels=kernels)
        assert f"baseline {dsp_path}, kernels dsp" in str(e.value)
