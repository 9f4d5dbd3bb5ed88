"""`harness bench`: reports, repeatability, and the baseline gate on per-layer counts (CI's guard
on speed). Counts are named by their unit: instructions under QEMU, never "cycles"."""
from __future__ import annotations

import csv
import io
import json
import math
import shutil
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from harness.bench import BenchLayer, BenchReport, ModelBench, Provenance, run_bench
from harness.bench.baseline import BaselineError, baseline_path, compare, write_baseline
from harness.build import FIRMWARE_DIR, Firmware
from harness.build.elfinfo import Footprint
from harness.cli import main
from harness.protocol.counters import COUNT_KEYS
from harness.report.bench import CSV_COLUMNS, render_markdown, render_text, to_csv, to_json
from harness.targets import get_target
from harness.verify.sqnr import LayerSqnr
from harness.zoo import ZOO

TARGET = get_target("stm32f405")


def synthetic(counter: str, *models: tuple[str, list[int]]) -> BenchReport:
    """A report without an emulator: each model named with its layers' counts."""
    firmware = Firmware(Path("m.elf"), "0", "m", TARGET.name, True, Footprint(4096, 8192, 1024), 64, 128,
                        "arm-none-eabi-gcc", ("-O2",))
    benches = [ModelBench(name, [BenchLayer(i, f"layer{i}", "dense", (4,), 8 * i, c, (c, c - 1), weight_bytes=32 * i,
                                            activation_bytes=16) for i, c in enumerate(counts)],
                          firmware, counter, 256, 2, True) for name, counts in models]
    return BenchReport(Provenance(TARGET.name, TARGET.core, "renode", "Renode 1.15", "arm-none-eabi-gcc", ("-O2",),
                                  "portable", "0.1.0", "test"), benches)


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
def test_no_layer_is_slower_than_its_baseline() -> None:
    """The gate CI runs: every model against harness/golden/cycles/stm32f405.json, exactly."""
    report = run_bench(list(ZOO), TARGET)
    assert all(m.repeatable for m in report.models)
    comparison = compare(report, baseline_path(None, TARGET.name))
    assert comparison.tolerance_pct == 0.0
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
    assert prov["kernel_variant"] == "ref" and "gcc" in prov["compiler"]
    assert "kws_cnn" in files["md"].read_text() and "<table>" in files["html"].read_text()
    assert files["png"].read_bytes()[:4] == b"\x89PNG"


@pytest.mark.emulator
def test_a_kernel_that_adds_instructions_fails_the_gate_naming_the_layer(tmp_path: Path) -> None:
    baseline = tmp_path / "cycles"
    write_baseline(run_bench(["xor_mlp"], TARGET), baseline_path(baseline, TARGET.name))
    mutant = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, mutant)
    relu = mutant / "kernels" / "src" / "hk_relu_s8.c"
    line = "        output[i] = hk_clamp_s8(input[i], activation->min, activation->max);"
    assert line in relu.read_text()
    relu.write_text(relu.read_text().replace(line, '        __asm volatile("nop");\n' + line))
    comparison = compare(run_bench(["xor_mlp"], TARGET, firmware_dir=mutant), baseline_path(baseline, TARGET.name))
    assert not comparison.ok
    assert [(c.layer, c.new - c.old) for c in comparison.regressions] == [("relu1", 4)]  # one nop per element
    assert any("REGRESSION: xor_mlp layer 1 'relu1' (relu)" in line for line in comparison.lines())
    # the unmodified kernels pass again
    back = compare(run_bench(["xor_mlp"], TARGET), baseline_path(baseline, TARGET.name))
    assert back.ok


@pytest.mark.emulator
def test_baselines_merge_and_refuse_what_they_cannot_compare(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = baseline_path(tmp_path, TARGET.name)
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
