"""Kernel variants (`--kernels ref|DIR`): a folder of C files replaces the ref kernels function by
function, the report says which layers ran on which, a wrong or broken variant is caught, and ref is
what it was before variants existed (same code, same counts)."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from harness.bench.baseline import baseline_path, read_baseline
from harness.build import FIRMWARE_DIR, REF_KERNELS, build_firmware, kernel_variant
from harness.build.variants import describe, kernel_api
from harness.cli import main
from harness.errors import InputError
from harness.targets import get_target
from harness.zoo import load

TARGET = get_target("stm32f405")
KERNELS_SRC = FIRMWARE_DIR / "kernels" / "src"
RETURN_OK = "    return HK_OK;\n}\n"

needs_toolchain = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("cmake") is None,
    reason="arm-none-eabi-gcc or cmake not on PATH: run `make bootstrap`",
)


def ref_copy(name: str) -> str:
    """A ref kernel's source as a variant would copy it: the weak attribute taken off."""
    text = (KERNELS_SRC / name).read_text()
    assert "HK_WEAK\n" in text
    return text.replace("HK_WEAK\n", "")


def variant(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for file, text in files.items():
        (folder / file).write_text(text)
    return folder


def off_by_one_dense() -> str:
    """hk_fully_connected_s8 that adds 1 to every output after computing it right."""
    text = ref_copy("hk_fully_connected_s8.c")
    assert text.count(RETURN_OK) == 1
    wrong = ("    for (int32_t o = 0; o < output_size; o++) {\n"
             "        output[o] = (int8_t)(output[o] + 1);\n"
             "    }\n")
    return text.replace(RETURN_OK, wrong + RETURN_OK)


def run_json(tmp_path: Path, *args: str) -> tuple[int, dict[str, object]]:
    out = tmp_path / "run.json"
    code = main(["run", *args, "--json", str(out)])
    return code, json.loads(out.read_text())


# ------------------------------------------------------------------ host only: the option


@pytest.mark.parametrize("command", [["run", "xor_mlp"], ["golden", "xor_mlp"], ["bench", "xor_mlp"], ["fuzz"],
                                     ["cross", "xor_mlp"]])
@pytest.mark.parametrize("case", ["missing", "empty", "file"])
def test_a_folder_that_is_missing_or_has_no_c_file_is_one_line_exit_2(
        command: list[str], case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "kernels"
    if case == "empty":
        folder.mkdir()
        (folder / "README.txt").write_text("no C here\n")
    elif case == "file":
        folder.write_text("int x;\n")
    assert main([*command, "--kernels", str(folder)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    words = {"missing": "no such folder", "empty": "the folder holds no .c file", "file": "not a folder"}[case]
    assert err.startswith(f"harness: input error: kernel variant '{folder}': {words}") and "Traceback" not in err


def test_ref_names_the_project_kernels_and_a_folder_names_itself(tmp_path: Path) -> None:
    assert kernel_variant("ref") is REF_KERNELS and kernel_variant(None) is REF_KERNELS and REF_KERNELS.is_ref
    folder = variant(tmp_path, "fast", {"hk_relu_s8.c": ref_copy("hk_relu_s8.c"), "notes.h": "/* */\n"})
    v = kernel_variant(str(folder))
    assert (v.name, v.directory, v.is_ref) == ("fast", folder.resolve(), False)
    assert v.sources() == [folder.resolve() / "hk_relu_s8.c"]
    assert [p.name for p in v.files()] == ["hk_relu_s8.c", "notes.h"]  # every file is in the cache key
    named_ref = variant(tmp_path, "ref", {"a.c": "int a;\n"})
    assert kernel_variant(str(named_ref)).name == str(named_ref)  # never taken for the built-in ref
    with pytest.raises(InputError):
        kernel_variant(str(tmp_path / "nope"))


def test_the_api_a_variant_may_define_is_every_function_of_the_headers() -> None:
    api = kernel_api(FIRMWARE_DIR)
    assert {"hk_conv2d_s8", "hk_conv2d_s8_get_buffer_size", "hk_fully_connected_s8", "hk_relu_s8", "hk_add_s8",
            "hk_softmax_s8", "hk_lut_s8", "hk_mat_vec_s8"} <= set(api)
    assert not any(name.startswith("hk_check") for name in api)


def test_every_public_ref_function_is_weak_and_nothing_else() -> None:
    """Each function of the API is defined once in the ref sources, weak; the checks and the static
    helpers are not (hk_weak.h)."""
    sources = "".join(p.read_text() for p in sorted(KERNELS_SRC.glob("*.c")))
    for name in kernel_api(FIRMWARE_DIR):
        definitions = re.findall(rf"^(HK_WEAK\n)?(?:hk_status|int32_t|void) {name}\(", sources, re.M)
        assert definitions == ["HK_WEAK\n"], name
    weak = re.findall(r"^HK_WEAK\n(?:\w+ )+(\w+)\(", sources, re.M)
    assert sorted(weak) == sorted(kernel_api(FIRMWARE_DIR))
    assert "HK_WEAK" not in (KERNELS_SRC / "hk_check.c").read_text()


def test_the_header_says_which_functions_came_from_the_variant(tmp_path: Path) -> None:
    folder = variant(tmp_path, "fast", {"a.c": "int a;\n"})
    v = kernel_variant(str(folder))
    assert describe(REF_KERNELS, {"hk_relu_s8": "ref"}) == "ref"
    assert describe(v, {"hk_add_s8": "ref", "hk_relu_s8": "fast"}, "fast") == "fast (hk_relu_s8; the rest ref)"
    assert describe(v, {"hk_relu_s8": "fast"}, "fast") == "fast (hk_relu_s8: every kernel of this image)"
    assert describe(v, {"hk_add_s8": "ref"}, "fast") == "fast (none of its functions is in this image: all ref)"


# ------------------------------------------------------------------ builds and runs


@needs_toolchain
def test_editing_a_variant_file_rebuilds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_BUILD_DIR", str(tmp_path / "build"))  # a cache of this test's own
    source = ref_copy("hk_relu_s8.c")
    folder = variant(tmp_path, "fast", {"hk_relu_s8.c": source})
    model = load("xor_mlp")
    first = build_firmware(model, TARGET, kernels=kernel_variant(str(folder)))
    assert not first.cached
    again = build_firmware(model, TARGET, kernels=kernel_variant(str(folder)))
    assert again.build_id == first.build_id and again.cached
    (folder / "hk_relu_s8.c").write_text(source + "/* edited */\n")
    edited = build_firmware(model, TARGET, kernels=kernel_variant(str(folder)))
    assert edited.build_id != first.build_id and not edited.cached
    (folder / "helper.h").write_text("/* any file of the folder counts */\n")
    assert build_firmware(model, TARGET, kernels=kernel_variant(str(folder))).build_id != edited.build_id
    assert build_firmware(model, TARGET).build_id != first.build_id  # ref is another image


@pytest.mark.emulator
def test_a_correct_variant_runs_its_layers_and_ref_runs_the_rest(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = variant(tmp_path, "myrelu", {"hk_relu_s8.c": ref_copy("hk_relu_s8.c")})
    code, data = run_json(tmp_path, "xor_mlp", "--kernels", str(folder))
    out = capsys.readouterr().out
    assert code == 0 and data["match"] is True
    layers = data["layers"]
    assert isinstance(layers, list)
    assert [(l["op"], l["kernel"], l["kernels"]) for l in layers] == [
        ("dense", "hk_fully_connected_s8", "ref"), ("relu", "hk_relu_s8", "myrelu"),
        ("dense", "hk_fully_connected_s8", "ref"), ("sigmoid", "hk_lut_s8", "ref")]
    build = data["build"]
    assert isinstance(build, dict) and build["kernel_variant"] == "myrelu"
    assert build["kernel_dir"] == str(folder.resolve())
    assert build["kernel_sources"]["hk_relu_s8"] == "myrelu"
    assert {f for f, source in build["kernel_sources"].items() if source != "ref"} == {"hk_relu_s8"}
    assert f"kernels: {folder.resolve()} (hk_relu_s8; the rest ref)" in out
    relu_row = next(line for line in out.splitlines() if " relu1 " in line)
    assert relu_row.split()[3] == "myrelu"
    # the copy is the ref code compiled with the same flags: the same count, instruction for instruction
    baseline = read_baseline(baseline_path(None, TARGET.name))
    assert baseline is not None
    assert [l["count"] for l in layers] == [l["count"] for l in baseline["models"]["xor_mlp"]["layers"]]


@pytest.mark.emulator
def test_a_wrong_variant_kernel_fails_naming_its_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = variant(tmp_path, "offbyone", {"dense.c": off_by_one_dense()})
    code, data = run_json(tmp_path, "xor_mlp", "--kernels", str(folder))
    err = capsys.readouterr().err
    assert code == 1 and data["outcome"] == "differs"
    divergence = data["first_divergence"]
    assert isinstance(divergence, dict) and (divergence["layer"], divergence["name"]) == (0, "fc1")
    assert data["layers"][0]["kernels"] == "offbyone"  # type: ignore[index]
    assert "FAILED, the firmware (differs)" in err and "first differing layer: 0 'fc1' (dense)" in err
    assert f"harness fuzz --op dense --kernels {folder.resolve()}" in err


@needs_toolchain
def test_a_variant_file_that_does_not_compile_is_a_build_failure_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = '#include "hk_nn.h"\n\nhk_status hk_relu_s8(int32_t size)\n{\n    return HK_OK\n}\n'
    folder = variant(tmp_path, "broken", {"hk_relu_s8.c": broken, "fine.c": ref_copy("hk_lut_s8.c")})
    assert main(["run", "xor_mlp", "--kernels", str(folder)]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress lines, the verdict
    assert last.startswith("harness: FAILED, the firmware (build): kernel variant broken: hk_relu_s8.c of ")
    assert f"{folder.resolve() / 'hk_relu_s8.c'}:" in last and "fine.c of" not in last


@needs_toolchain
def test_a_variant_that_redefines_a_ref_helper_fails_the_link_saying_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    helper = '#include "hk_check.h"\n\nhk_check_id hk_check_activation(const hk_activation *a)\n{\n' \
             '    (void)a;\n    return HK_CHECK_OK;\n}\n'
    folder = variant(tmp_path, "clash", {"check.c": helper})
    assert main(["run", "xor_mlp", "--kernels", str(folder)]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "(build): kernel variant clash: check.c of" in last
    assert "multiple definition of `hk_check_activation'" in last


@pytest.mark.emulator
def test_ref_is_the_image_and_the_counts_of_before(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--kernels ref` builds every kernel symbol weak (ref), with the counts of the ref baseline and
    the golden logits (which `run` checks); the default build is the target's own variant, dsp."""
    baseline = read_baseline(baseline_path(None, TARGET.name))
    assert baseline is not None
    for model in ("xor_mlp", "kws_cnn"):
        code, data = run_json(tmp_path, model, "--kernels", "ref")
        assert code == 0 and data["golden_match"] is True
        layers = data["layers"]
        assert isinstance(layers, list)
        assert [l["count"] for l in layers] == [l["count"] for l in baseline["models"][model]["layers"]]
        assert {l["kernels"] for l in layers} <= {"ref", None}
        build = data["build"]
        assert isinstance(build, dict) and build["kernel_variant"] == "ref" and build["kernel_dir"] is None
        assert build["kernel_sources"] and set(build["kernel_sources"].values()) == {"ref"}
        assert build["id"] == build_firmware(load(model), TARGET, kernels=kernel_variant("ref")).build_id
        assert build_firmware(load(model), TARGET).variant == TARGET.kernels == "dsp"
    assert "kernels: ref\n" in capsys.readouterr().out


@pytest.mark.emulator
def test_fuzz_and_bench_take_the_variant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = variant(tmp_path, "myrelu", {"hk_relu_s8.c": ref_copy("hk_relu_s8.c")})
    assert main(["fuzz", "--op", "relu", "--cases", "10", "--seed", "3", "--kernels", str(good)]) == 0
    assert f"kernels {good.resolve()}" in capsys.readouterr().out
    bad = variant(tmp_path, "offbyone", {"dense.c": off_by_one_dense()})
    report = tmp_path / "fuzz.json"
    assert main(["fuzz", "--op", "dense", "--cases", "2", "--seed", "3", "--kernels", str(bad),
                 "--json", str(report)]) == 1
    failures = json.loads(report.read_text())["failures"]
    assert failures and all(f"--kernels {bad.resolve()} --replay" in f["command"] for f in failures)
    bench = tmp_path / "bench.json"
    assert main(["bench", "xor_mlp", "--kernels", str(good), "--json", str(bench)]) == 0
    assert json.loads(bench.read_text())["provenance"]["kernel_variant"] == "myrelu"
    capsys.readouterr()
    assert main(["bench", "xor_mlp", "--kernels", str(good), "--update-baseline", str(tmp_path / "b")]) == 0
    recorded = read_baseline(baseline_path(tmp_path / "b", TARGET.name, "myrelu"))  # the variant's own file
    assert recorded is not None and recorded["kernels"] == "myrelu" and set(recorded["models"]) == {"xor_mlp"}
    assert str(tmp_path / "b" / "stm32f405.myrelu.json") in capsys.readouterr().out


pytest_plugins = ["pytester"]


@pytest.mark.emulator
def test_the_pytest_option_builds_with_the_variant(tmp_path: Path, pytester: pytest.Pytester) -> None:
    folder = variant(tmp_path, "myrelu", {"hk_relu_s8.c": ref_copy("hk_relu_s8.c")})
    pytester.makepyfile(test_variant="""
        import pytest

        @pytest.mark.parametrize("device", ["xor_mlp"], indirect=True)
        def test_relu_on_the_variant(device):
            assert device.firmware.variant == "myrelu"
            assert device.firmware.kernel_sources["hk_relu_s8"] == "myrelu"
            assert device.firmware.kernel_sources["hk_fully_connected_s8"] == "ref"
            assert device.verify().match
    """)
    pytester.runpytest("-p", "no:cacheprovider", "--harness-kernels", str(folder)).assert_outcomes(passed=1)
    result = pytester.runpytest("-p", "no:cacheprovider", "--harness-kernels", str(tmp_path / "nope"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--harness-kernels: kernel variant * no such folder*"])


@pytest.mark.emulator
def test_the_robot_keyword_builds_with_the_variant(tmp_path: Path) -> None:
    from harness.robot.HarnessLibrary import HarnessLibrary

    folder = variant(tmp_path, "myrelu", {"hk_relu_s8.c": ref_copy("hk_relu_s8.c")})
    lib = HarnessLibrary()
    lib.build_firmware("xor_mlp", "stm32f405", str(folder))
    assert lib._firmware is not None and lib._firmware.kernel_sources["hk_relu_s8"] == "myrelu"
    lib.start_emulator()
    try:
        assert lib.run_to_completion() == "ok"
        lib.logits_should_match_reference()
    finally:
        lib.stop_emulator()
    report = lib.run_model_and_verify("xor_mlp", kernels=str(folder))
    assert report["build"]["kernel_variant"] == "myrelu"
