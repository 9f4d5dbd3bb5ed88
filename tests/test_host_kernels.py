"""Host differential testing: the firmware's C kernels, compiled for the host, against the Python
integer reference on thousands of random configurations; parameter checks; struct layouts."""
from __future__ import annotations

import ctypes
import dataclasses
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.build import FIRMWARE_DIR
from harness.build.host import STRUCTS, ContextStruct, Dims, HostKernels, build_host_library
from harness.codegen.calls import Context, CStruct, KernelCall, kernel_call
from harness.codegen.scratch import ARG_KINDS, REF_SIZES
from harness.fuzz.cases import (
    GENERATORS,
    KernelCase,
    RngDraw,
    build_case,
    case_from_json,
    draw_case,
)
from harness.model.constants import LayerConstants, layer_constants
from harness.model.graph import Graph, GraphBuilder, Layer, ModelError, Tensor
from harness.model.ops import MEAN_HW_MAX_COUNT
from harness.protocol import CHECKS
from harness.quant import QuantParams, requantize
from harness.quant.arithmetic import requantize_single
from harness.reference import run_int8

T = TypeVar("T")

if shutil.which("gcc") is None:
    pytest.skip("the host C compiler gcc is not installed (apt-get install gcc)", allow_module_level=True)

EXAMPLES_PER_OP = 250


@pytest.fixture(scope="module")
def host() -> HostKernels:
    return HostKernels()


class HypothesisDraw:
    def __init__(self, data: st.DataObject):
        self.data = data

    def int(self, lo: int, hi: int) -> int:
        return self.data.draw(st.integers(lo, hi))

    def pick(self, options: Sequence[T]) -> T:
        return self.data.draw(st.sampled_from(list(options)))


def check(host: HostKernels, case: KernelCase) -> None:
    want = case.reference()
    got = host.run(case.layer, case.constants, case.inputs, case.out_shape)
    assert got.status == 0, f"status {got.status} for {case.config_json()}"
    assert got.guards_intact, f"wrote outside its output: {case.config_json()}"
    if not np.array_equal(got.output, want):
        where = np.argwhere(got.output != want)[:5].tolist()
        pytest.fail(f"C differs from the reference at {where} for {case.config_json()}")


@pytest.mark.parametrize("op", sorted(GENERATORS))
def test_c_kernel_matches_reference(op: str, host: HostKernels) -> None:
    @settings(max_examples=EXAMPLES_PER_OP, database=None)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        check(host, draw_case(op, HypothesisDraw(data)))

    run()


def test_every_shift_and_edge_multiplier_on_dense(host: HostKernels) -> None:
    """Each shift from -31 to +30 with multipliers near 2^31, at 2^30 and tiny, and the int32 bias edges."""
    base = GENERATORS["dense"](RngDraw(np.random.default_rng(5)))
    case = build_case("dense", {**base, "n_in": 37, "n_out": 9, "requant": "auto", "bias": "extreme", "seed": 11})
    for shift in range(-31, 31):
        for mult in (2**31 - 1, 2**31 - 2, 2**30, 2**30 + 1, 1, 7, 0):
            k = dataclasses.replace(case.constants, multipliers=np.full(9, mult), shifts=np.full(9, shift))
            check(host, dataclasses.replace(case, constants=k))


# ------------------------------------------------------- rounding of the requantizer: "single"

WEIGHTED_OPS = ("conv2d", "depthwise_conv2d", "pointwise_conv2d", "dense")


def _single(case: KernelCase) -> KernelCase:
    """The same case with the single-rounding requantizer (hk_quant.rounding = HK_ROUND_SINGLE)."""
    return dataclasses.replace(case, constants=dataclasses.replace(case.constants, rounding="single"))


@pytest.mark.parametrize("op", WEIGHTED_OPS)
def test_c_kernel_matches_reference_with_single_rounding(op: str, host: HostKernels) -> None:
    @settings(max_examples=EXAMPLES_PER_OP, database=None)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        check(host, _single(draw_case(op, HypothesisDraw(data))))

    run()


def test_every_shift_and_edge_multiplier_on_dense_with_single_rounding(host: HostKernels) -> None:
    """As the double-rounding sweep: each shift, multipliers at the edges, the int32 bias edges."""
    base = GENERATORS["dense"](RngDraw(np.random.default_rng(5)))
    case = build_case("dense", {**base, "n_in": 37, "n_out": 9, "requant": "auto", "bias": "extreme", "seed": 11})
    for shift in range(-31, 31):
        for mult in (2**31 - 1, 2**31 - 2, 2**30, 2**30 + 1, 1, 7, 0):
            k = dataclasses.replace(case.constants, multipliers=np.full(9, mult), shifts=np.full(9, shift),
                                    rounding="single")
            check(host, dataclasses.replace(case, constants=k))


def _dense_acc_case(acc: int, multiplier: int, shift: int, output_zp: int, rounding: str) -> KernelCase:
    """A 1x1 dense layer whose accumulator is `acc` (zero weight, bias acc), no clamp in the way."""
    layer = Layer("fc", "dense", ["input"], "fc", weights=np.zeros((1, 1), np.int8), bias=np.array([acc], np.int32))
    graph = Graph("known", "input", "fc", {"input": Tensor("input", (1,)), "fc": Tensor("fc", (1,))}, [layer])
    k = LayerConstants(0, output_zp, multipliers=np.array([multiplier]), shifts=np.array([shift]), rounding=rounding)
    return KernelCase("dense", {}, graph, k, [np.zeros(1, np.int8)])


@pytest.mark.parametrize("acc, multiplier, shift, single, double", [
    (309, 1442659867, -5, 6, 7),  # 6.487: srdhm gives 208 (207.59), then 6.5 rounds away to 7
    (-309, 1442659867, -5, -6, -7),
    (12345, 1099511680, -9, 12, 12),  # docs/arithmetic.md's worked example: both agree
    (3, 2**30, 0, 2, 2),  # 1.5: a tie of the product rounds up in both
    (-3, 2**30, 0, -1, -1),  # -1.5 rounds up (toward +inf) in both
    (-5, 2**30, -1, -1, -1),  # -1.25
    (-3, 2**30, -1, -1, -1),  # -0.75
    (-1, 2**30, -1, 0, 0),  # -0.25
    (-6, 2**30, -1, -1, -2),  # -1.5: single rounds the tie up, double rounds -3/2 away from zero
    (2**30, 2**30, 1, 2**30, -(2**30)),  # single multiplies in 64 bits; double wraps acc << 1 to INT32_MIN
])
def test_single_and_double_rounding_known_answers(
    acc: int, multiplier: int, shift: int, single: int, double: int, host: HostKernels
) -> None:
    total = 31 - shift
    assert single == (acc * multiplier + (1 << (total - 1))) >> total  # the brief's formula, in Python ints
    assert requantize_single(acc, multiplier, shift) == single
    assert requantize(acc, multiplier, shift) == double
    for rounding, value in (("single", single), ("double", double)):
        case = _dense_acc_case(acc, multiplier, shift, -128 if -128 <= value - 128 <= 127 else 0, rounding)
        want = int(np.clip(value + case.constants.output_zp, -128, 127))
        assert case.reference().tolist() == [want], rounding
        got = host.run(case.layer, case.constants, case.inputs, case.out_shape)
        assert (got.status, got.guards_intact, got.output.tolist()) == (0, True, [want]), rounding


def test_single_rounding_wraps_a_result_beyond_int32_as_the_c_cast_does() -> None:
    # (2^31 - 1)^2 / 2 rounded, modulo 2^32: 2^31 + 1, which is -(2^31 - 1) as an int32
    assert requantize_single(2**31 - 1, 2**31 - 1, 30) == -(2**31 - 1)
    assert requantize_single(-(2**31), 2**31 - 1, -31) == -1
    arr = requantize_single(np.array([309, -309]), np.array([1442659867, 1442659867]), np.array([-5, -5]))
    assert isinstance(arr, np.ndarray) and arr.tolist() == [6, -6]


#: Every op whose kernel takes an hk_quant, and so honours its rounding field.
QUANT_OPS = WEIGHTED_OPS + ("mean_hw", "requantize")


@pytest.mark.parametrize("op", QUANT_OPS)
def test_the_rounding_modes_differ_and_each_kernel_follows_its_own(op: str, host: HostKernels) -> None:
    """Without this the single-rounding tests could pass on a kernel that ignores the field: find
    cases where the two references differ and check that the C output takes the requested side."""
    rng = np.random.default_rng(3)
    differing = 0
    for _ in range(200):
        double_case = draw_case(op, RngDraw(rng))
        single_case = _single(double_case)
        want_double, want_single = double_case.reference(), single_case.reference()
        if np.array_equal(want_double, want_single):
            continue
        differing += 1
        for case, want in ((double_case, want_double), (single_case, want_single)):
            got = host.run(case.layer, case.constants, case.inputs, case.out_shape)
            where = f"{case.constants.rounding}: {case.config_json()}"
            assert got.status == 0 and np.array_equal(got.output, want), where
        if differing == 5:
            return
    pytest.fail(f"{op}: only {differing} of 200 cases tell the two roundings apart")


def test_the_rounding_attribute_reaches_the_reference_and_the_kernel(host: HostKernels) -> None:
    """A graph's `rounding` attribute: refused unless "double" or "single", else carried to
    LayerConstants and hk_quant.rounding, and the C kernel agrees with the reference on it."""
    def graph(**attrs: Any) -> Graph:
        # multiplier (1/64) * (1/16) / (1/256) = 1/4 = 2^30 * 2^(-1 - 31): a negative accumulator
        # 4n + 2 is a tie, which single rounding sends up and double rounding away from zero
        b = GraphBuilder("rounding", (4,), QuantParams(1 / 64, 0))
        x = b.add("dense", "input", name="fc", quant=QuantParams(1 / 256, 3),
                  weights=[[1, 2, -1, 3], [2, -1, 1, 1], [0, 1, 1, -2]], bias=[0, -2, 1], weight_scales=[1 / 16],
                  **attrs)
        return b.build(x)

    with pytest.raises(ModelError, match="layer 'fc' .*rounding must be one of 'double', 'single', got 'nearest'"):
        graph(rounding="nearest")
    x = np.array([[i, -i, 2 * i, 3 - i] for i in range(-40, 40)], dtype=np.int8)
    outputs = {}
    for rounding in ("double", "single"):
        g = graph() if rounding == "double" else graph(rounding="single")
        layer = g.layers[0]
        k = layer_constants(g, layer)
        assert k.rounding == rounding and [a.tolist() for a in k.requantizers()] == [[2**30], [-1]]
        call = kernel_call(layer, k, [(4,)], (3,))
        assert call is not None and call.args[2].fields[3] == {"double": 0, "single": 1}[rounding]
        want = run_int8(g, x)["fc"]
        for sample, expected in zip(x, want):
            got = host.run(layer, k, [sample], (3,))
            assert got.status == 0 and got.output.tolist() == expected.tolist(), rounding
        outputs[rounding] = want
    assert not np.array_equal(outputs["double"], outputs["single"]), "the inputs no longer tell the roundings apart"


def test_softmax_matches_tflite_generated_vectors(host: HostKernels) -> None:
    # int8 vectors generated by TFLite's reference softmax (as used by CMSIS-NN's unit tests)
    vectors = [
        (1077952640, 19, -3968, [[101, 49, 6, -34, -75], [-79, -38, 120, -55, 115]],
         [[-57, -70, -79, -86, -92], [-94, -88, -54, -91, -56]]),
        (1077952576, 23, -248, [[-80, -48, 16, 0, -96]], [[-128, -125, 56, -60, -128]]),
    ]
    case = case_from_json('{"op":"softmax","rows":1,"depth":5,"in_scale_exp":-4,"beta":1.0,"in_zp":0,"out_zp":0,'
                          '"focus":"none","data":"uniform","act":"none","requant":"auto","bias":"small","seed":1}')
    for mult, shift, diff_min, x, want in vectors:
        k = dataclasses.replace(
            case.constants, multipliers=np.array([mult]), shifts=np.array([shift]), diff_min=diff_min
        )
        x = np.array(x, dtype=np.int8)
        call = kernel_call(case.layer, k, [x.shape], x.shape)
        assert call is not None
        status, out, guards = host.call(call, [x], x.size)
        assert status == 0 and guards and out.reshape(x.shape).tolist() == want


def _replace_field(call: KernelCall, struct: str, path: tuple[int, ...], value: Any) -> KernelCall:
    def put(fields: tuple, path: tuple[int, ...]) -> tuple:
        head, *rest = path
        new = put(fields[head], tuple(rest)) if rest else value
        return fields[:head] + (new,) + fields[head + 1 :]

    args = tuple(
        dataclasses.replace(a, fields=put(a.fields, path)) if isinstance(a, CStruct) and a.name == struct else a
        for a in call.args
    )
    return dataclasses.replace(call, args=args)


def _replace_arg(call: KernelCall, index: int, value: Any) -> KernelCall:
    return dataclasses.replace(call, args=call.args[:index] + (value,) + call.args[index + 1 :])


def _a_case(op: str) -> KernelCase:
    rng = np.random.default_rng(1)
    while True:
        case = draw_case(op, RngDraw(rng))
        if op not in ("conv2d", "depthwise_conv2d") or min(case.inputs[0].shape[:2]) >= 3:
            return case


BAD_CALLS = [
    # (op, description, mutation, expected status)
    ("conv2d", "zero point out of range", lambda c: _replace_field(c, "params", (0,), 300), 3),
    ("conv2d", "output shape that does not follow", lambda c: _replace_field(c, "out_dims", (0,), 99), 2),
    ("conv2d", "negative padding", lambda c: _replace_field(c, "params", (4, 0), -1), 2),
    ("conv2d", "zero stride", lambda c: _replace_field(c, "params", (2, 0), 0), 2),
    ("conv2d", "activation min above max", lambda c: _replace_field(c, "params", (5,), (10, -10)), 3),
    ("conv2d", "filter channels unlike the input's", lambda c: _replace_field(c, "filter_dims", (2,), 99), 2),
    ("conv2d", "NULL input", lambda c: _replace_arg(c, 4, None), 1),
    (
        "conv2d",
        "kernel larger than the padded input",
        lambda c: _replace_field(_replace_field(c, "filter_dims", (0,), 99), "params", (4,), (0, 0, 0, 0)),
        2,
    ),
    (
        "depthwise_conv2d",
        "filter channels unlike the input's",
        lambda c: _replace_field(c, "filter_dims", (2,), 1000),
        2,
    ),
    (
        "dense",
        "shift above 30",
        lambda c: _replace_field(
            c,
            "quant",
            (1,),
            dataclasses.replace(c.args[2].fields[1], values=np.full_like(c.args[2].fields[1].values, 31)),
        ),
        3,
    ),
    (
        "dense",
        "negative multiplier",
        lambda c: _replace_field(
            c,
            "quant",
            (0,),
            dataclasses.replace(c.args[2].fields[0], values=np.full_like(c.args[2].fields[0].values, -5)),
        ),
        3,
    ),
    ("dense", "requantizer count unlike the channels", lambda c: _replace_field(c, "quant", (2,), 1000), 3),
    ("dense", "requantizer rounding 2", lambda c: _replace_field(c, "quant", (3,), 2), 3),
    ("dense", "requantizer rounding -1", lambda c: _replace_field(c, "quant", (3,), -1), 3),
    ("conv2d", "requantizer rounding 2", lambda c: _replace_field(c, "quant", (3,), 2), 3),
    ("depthwise_conv2d", "requantizer rounding 2", lambda c: _replace_field(c, "quant", (3,), 2), 3),
    ("pointwise_conv2d", "requantizer rounding 2", lambda c: _replace_field(c, "quant", (3,), 2), 3),
    ("dense", "NULL weights", lambda c: _replace_arg(c, 6, None), 1),
    ("maxpool2d", "padding as large as the window", lambda c: _replace_field(c, "params", (1,), (9, 9, 9, 9)), 2),
    ("avgpool2d", "output channels unlike the input's", lambda c: _replace_field(c, "out_dims", (2,), 99), 2),
    ("add", "left shift above 23", lambda c: _replace_field(c, "params", (9,), 24), 3),
    ("add", "empty tensor", lambda c: _replace_arg(c, 1, 0), 2),
    ("softmax", "depth of 4096", lambda c: _replace_arg(c, 2, 4096), 2),
    ("softmax", "positive diff_min", lambda c: _replace_field(c, "params", (2,), 5), 3),
    ("pad2d", "fill outside int8", lambda c: _replace_arg(c, 3, 200), 3),
    ("relu", "NULL activation", lambda c: _replace_arg(c, 2, None), 1),
    ("mean_hw", "NULL input", lambda c: _replace_arg(c, 4, None), 1),
    ("mean_hw", "NULL params", lambda c: _replace_arg(c, 1, None), 1),
    ("mean_hw", "NULL quant", lambda c: _replace_arg(c, 2, None), 1),
    ("mean_hw", "no channels", lambda c: _replace_field(c, "in_dims", (2,), 0), 2),
    ("mean_hw", "H * W above 2^23", lambda c: _replace_field(_replace_field(c, "in_dims", (0,), 4097), "in_dims",
                                                             (1,), 2048), 2),
    ("mean_hw", "H * W beyond int32", lambda c: _replace_field(_replace_field(c, "in_dims", (0,), 65536), "in_dims",
                                                               (1,), 65536), 2),
    ("mean_hw", "input zero point out of range", lambda c: _replace_field(c, "params", (0,), 129), 3),
    ("mean_hw", "activation min above max", lambda c: _replace_field(c, "params", (2,), (10, -10)), 3),
    ("mean_hw", "requantizer count unlike the channels", lambda c: _replace_field(c, "quant", (2,), 1000), 3),
    ("mean_hw", "requantizer rounding 2", lambda c: _replace_field(c, "quant", (3,), 2), 3),
    (
        "mean_hw",
        "shift above 30",
        lambda c: _replace_field(
            c,
            "quant",
            (1,),
            dataclasses.replace(c.args[2].fields[1], values=np.full_like(c.args[2].fields[1].values, 31)),
        ),
        3,
    ),
    ("requantize", "NULL output", lambda c: _replace_arg(c, 5, None), 1),
    ("requantize", "NULL params", lambda c: _replace_arg(c, 1, None), 1),
    ("requantize", "empty tensor", lambda c: _replace_arg(c, 3, 0), 2),
    ("requantize", "output zero point out of range", lambda c: _replace_field(c, "params", (1,), 128), 3),
    ("requantize", "activation above int8", lambda c: _replace_field(c, "params", (2,), (0, 128)), 3),
    ("requantize", "more than one requantizer", lambda c: _replace_field(c, "quant", (2,), 2), 3),
    ("requantize", "requantizer rounding -1", lambda c: _replace_field(c, "quant", (3,), -1), 3),
    (
        "requantize",
        "negative multiplier",
        lambda c: _replace_field(
            c,
            "quant",
            (0,),
            dataclasses.replace(c.args[2].fields[0], values=np.full_like(c.args[2].fields[0].values, -5)),
        ),
        3,
    ),
    (
        "requantize",
        "shift below -31",
        lambda c: _replace_field(
            c,
            "quant",
            (1,),
            dataclasses.replace(c.args[2].fields[1], values=np.full_like(c.args[2].fields[1].values, -32)),
        ),
        3,
    ),
    ("sigmoid", "NULL table", lambda c: _replace_arg(c, 2, None), 1),
]


@pytest.mark.parametrize("op, what, mutate, status", BAD_CALLS, ids=[f"{b[0]}: {b[1]}" for b in BAD_CALLS])
def test_kernel_checks_reject_bad_parameters_without_writing(
    op: str, what: str, mutate: Any, status: int, host: HostKernels
) -> None:
    case = _a_case(op)
    call = kernel_call(case.layer, case.constants, [x.shape for x in case.inputs], case.out_shape)
    assert call is not None
    size = int(np.prod(case.out_shape))
    assert host.call(call, case.inputs, size, check=True)[0] == 0, "the unmutated call must pass its check"
    check, out, guards = host.call(mutate(call), case.inputs, size, check=True)
    assert check != 0 and host.status_of(check) == status, f"{what}: check {check}, expected status {status}"
    assert guards and np.all(out == 0x5A), f"{what}: the check wrote"


#: The check id (CHECKS, hk_check_id) each of these BAD_CALLS fails with: what @error names.
CHECK_OF = {
    "conv2d: zero point out of range": "offset", "conv2d: output shape that does not follow": "output_shape",
    "conv2d: negative padding": "window", "conv2d: zero stride": "window",
    "conv2d: activation min above max": "activation", "conv2d: filter channels unlike the input's": "channels",
    "conv2d: NULL input": "pointer", "conv2d: kernel larger than the padded input": "window",
    "dense: shift above 30": "requantizer", "dense: requantizer count unlike the channels": "quant_count",
    "dense: requantizer rounding 2": "rounding", "add: left shift above 23": "parameter", "add: empty tensor": "dims",
    "softmax: depth of 4096": "limit", "softmax: positive diff_min": "parameter",
    "pad2d: fill outside int8": "parameter",
    "mean_hw: H * W above 2^23": "limit", "avgpool2d: output channels unlike the input's": "channels",
}


@pytest.mark.parametrize("key", sorted(CHECK_OF))
def test_a_check_names_what_it_refused(key: str, host: HostKernels) -> None:
    op, what, mutate, _ = next(b for b in BAD_CALLS if f"{b[0]}: {b[1]}" == key)
    case = _a_case(op)
    call = kernel_call(case.layer, case.constants, [x.shape for x in case.inputs], case.out_shape)
    assert call is not None
    check = host.call(mutate(call), case.inputs, int(np.prod(case.out_shape)), check=True)[0]
    assert CHECKS[check][0] == CHECK_OF[key], f"{key}: check {CHECKS[check][0]}"


def test_the_check_ids_are_the_c_enum() -> None:
    header = (FIRMWARE_DIR / "kernels" / "include" / "hk_nn_types.h").read_text()
    ids = {int(n): name.lower() for name, n in re.findall(r"HK_CHECK_(\w+) = (\d+)", header)}
    assert ids == {0: "ok", **{n: name for n, (name, _) in CHECKS.items()}}


def test_ctypes_structs_match_the_c_layout(tmp_path: Path) -> None:
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "hk_nn_types.h"', "int main(void) {"]
    for name, cls in STRUCTS.items():
        lines.append(f'printf("{name} %zu\\n", sizeof({name}));')
        for field, _ in cls._fields_:
            lines.append(f'printf("{name}.{field} %zu\\n", offsetof({name}, {field}));')
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run(["gcc", "-I", str(FIRMWARE_DIR / "kernels" / "include"), str(src), "-o", str(exe)], check=True)
    c_layout = dict(
        line.split() for line in subprocess.run([str(exe)], capture_output=True, text=True).stdout.splitlines()
    )
    for name, cls in STRUCTS.items():
        assert int(c_layout[name]) == __import__("ctypes").sizeof(cls), name
        for field, _ in cls._fields_:
            assert int(c_layout[f"{name}.{field}"]) == getattr(cls, field).offset, f"{name}.{field}"


def test_a_rounding_change_in_a_kernel_is_caught(tmp_path: Path) -> None:
    """RDBPOT's tie threshold moved by one in a copy of the kernels: the differential check fails."""
    mutant = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, mutant)
    header = mutant / "kernels" / "include" / "hk_requant.h"
    original = "return (x >> n) + (rem > threshold ? 1 : 0);"
    assert original in header.read_text()
    header.write_text(header.read_text().replace(original, "return (x >> n) + (rem >= threshold ? 1 : 0);"))
    host = HostKernels(build_host_library(mutant))
    rng = np.random.default_rng(0)
    caught = []
    for op in ("conv2d", "dense", "add", "softmax", "avgpool2d"):
        for _ in range(60):
            case = draw_case(op, RngDraw(rng))
            got = host.run(case.layer, case.constants, case.inputs, case.out_shape)
            if not np.array_equal(got.output, case.reference()):
                caught.append(op)
                break
    # every op that requantizes sees it (softmax's rounding divides rarely land on an exact tie)
    assert set(caught) >= {"conv2d", "dense", "add"}


def test_every_context_is_sized_by_a_mirrored_get_buffer_size() -> None:
    """Every kernel call that passes a context names its own kernel's get_buffer_size, mirrored."""
    with_context = set()
    for op in sorted(GENERATORS):
        case = _a_case(op)
        call = kernel_call(case.layer, case.constants, [x.shape for x in case.inputs], case.out_shape)
        contexts = [a for a in call.args if isinstance(a, Context)] if call is not None else []
        if call is not None and contexts:
            with_context.add(call.function)
            assert [c.kernel for c in contexts] == [call.function] and len(contexts[0].args) == len(
                ARG_KINDS[call.function]), call.function
    assert with_context == set(ARG_KINDS) == set(REF_SIZES)


#: A copy of the kernels whose get_buffer_size all say 16 bytes, as an optimized kernel's would.
SCRATCH_NEEDED = 16
SCRATCH_OPS = {"conv2d": "hk_conv2d_s8", "depthwise_conv2d": "hk_depthwise_conv2d_s8",
               "pointwise_conv2d": "hk_pointwise_conv2d_s8", "dense": "hk_fully_connected_s8",
               "mean_hw": "hk_mean_hw_s8", "requantize": "hk_requantize_s8"}
_SHORT_SCRATCH = ctypes.create_string_buffer(SCRATCH_NEEDED)


@pytest.fixture(scope="module")
def needs_scratch(tmp_path_factory: pytest.TempPathFactory) -> HostKernels:
    mutant = tmp_path_factory.mktemp("scratch") / "firmware"
    shutil.copytree(FIRMWARE_DIR, mutant)
    for function in SCRATCH_OPS.values():
        source = mutant / "kernels" / "src" / f"{function}.c"
        text = source.read_text()
        # the public get_buffer_size, which the kernel's check asks
        head, sep, body = text.partition(f"int32_t {function}_get_buffer_size(")
        assert sep and "    return 0;\n}" in body, function
        source.write_text(head + sep + body.replace("    return 0;\n}", f"    return {SCRATCH_NEEDED};\n}}", 1))
    return HostKernels(build_host_library(mutant))


SCRATCH_CALLS = [
    # (description, the context argument, expected status)
    ("NULL context", None, 4),
    ("context with a NULL buffer", lambda: ContextStruct(None, SCRATCH_NEEDED), 4),
    ("context one byte short",
     lambda: ContextStruct(ctypes.cast(_SHORT_SCRATCH, ctypes.c_void_p), SCRATCH_NEEDED - 1), 4),
    ("zero-sized context", lambda: ContextStruct(ctypes.cast(_SHORT_SCRATCH, ctypes.c_void_p), 0), 4),
    ("NULL context (what the ref mirror passes)", None, 4),
]


@pytest.mark.parametrize("op", sorted(SCRATCH_OPS))
@pytest.mark.parametrize("what, context, status", SCRATCH_CALLS, ids=[s[0] for s in SCRATCH_CALLS])
def test_kernel_checks_reject_missing_scratch_without_writing(
    op: str, what: str, context: Any, status: int, needs_scratch: HostKernels
) -> None:
    case = _a_case(op)
    call = kernel_call(case.layer, case.constants, [x.shape for x in case.inputs], case.out_shape)
    assert call is not None and isinstance(call.args[0], Context)
    size = int(np.prod(case.out_shape))
    arg = context() if callable(context) else context
    check, out, guards = needs_scratch.call(_replace_arg(call, 0, arg), case.inputs, size, check=True)
    assert CHECKS[check][0] == "scratch" and needs_scratch.status_of(check) == status, f"{op}, {what}: {check}"
    assert guards and np.all(out == 0x5A), f"{op}, {what}: the check wrote"


@pytest.mark.parametrize("op", sorted(SCRATCH_OPS))
def test_kernels_run_with_the_scratch_they_ask_for(op: str, needs_scratch: HostKernels) -> None:
    case = _a_case(op)
    call = kernel_call(case.layer, case.constants, [x.shape for x in case.inputs], case.out_shape)
    assert call is not None and call.function == SCRATCH_OPS[op]
    c_size = getattr(needs_scratch.lib, f"{call.function}_get_buffer_size")
    c_size.restype = ctypes.c_int32
    one = {"dims": lambda: ctypes.byref(Dims(1, 1, 1)), "int": lambda: ctypes.c_int32(1)}
    assert c_size(*[one[kind]() for kind in ARG_KINDS[call.function]]) == SCRATCH_NEEDED
    size = int(np.prod(case.out_shape))
    scratch = ctypes.create_string_buffer(SCRATCH_NEEDED)
    enough = _replace_arg(call, 0, ContextStruct(ctypes.cast(scratch, ctypes.c_void_p), SCRATCH_NEEDED))
    assert needs_scratch.call(enough, case.inputs, size, check=True)[0] == 0
    got, out, guards = needs_scratch.call(enough, case.inputs, size)
    assert got == 0 and guards
    assert np.array_equal(out.reshape(case.out_shape), case.reference())


# ------------------------------------------------------- mean_hw and requantize: what would be caught


def test_mean_hw_sums_2_to_the_23_values_without_overflow(host: HostKernels) -> None:
    """The largest mean_hw, H * W = 2^23 (HK_MEAN_HW_MAX_COUNT): every value 255 from the zero point
    sums to +-255 * 2^23, inside int32, and the requantizer 1 / (4 * 2^23) = (2^30, -24) gives
    +-63.75, rounded to +-64. The kernel refuses one row more (BAD_CALLS)."""
    n = MEAN_HW_MAX_COUNT
    for zp, value, want in ((127, -128, -64), (-128, 127, 64)):
        b = GraphBuilder("big", (n, 1, 1), QuantParams(1.0, zp))
        g = b.build(b.add("mean_hw", "input", name="mean", quant=QuantParams(4.0, 0)))
        layer = g.layers[0]
        k = layer_constants(g, layer)
        assert [a.tolist() for a in k.requantizers()] == [[2**30], [-24]]
        x = np.full((n, 1, 1), value, np.int8)
        assert run_int8(g, x[None])["mean"][0].tolist() == [want]
        got = host.run(layer, k, [x], (1,))
        assert (got.status, got.guards_intact, got.output.tolist()) == (0, True, [want])


#: Plausible wrong kernels, each a one-line change of the C source: (file, line, replacement, what
#: it gets wrong). The host differential check must tell each from the reference.
RESCALE_MUTANTS = [
    ("hk_mean_hw_s8.c",
     "hk_requantize_rounding(acc, quant->multiplier[q]",
     "hk_requantize_rounding((acc >= 0 ? acc + count / 2 : acc - count / 2) / count * count, quant->multiplier[q]",
     "the mean rounded on the input grid (divided by H * W) before it is requantized"),
    ("hk_mean_hw_s8.c",
     "acc += (int32_t)input[i * c + ch] + input_offset;",
     "acc += (int32_t)input[i * c + ch] + 0 * input_offset;",
     "the input zero point left in the sum"),
    ("hk_requantize_s8.c",
     "hk_requantize_rounding((int32_t)input[i] + input_offset, multiplier, shift, rounding);",
     "hk_requantize_rounding((int32_t)input[i], multiplier, shift, rounding) +"
     " hk_requantize_rounding(input_offset, multiplier, shift, rounding);",
     "the value and the zero point rescaled (and rounded) separately"),
    ("hk_requantize_s8.c",
     "output[i] = hk_clamp_s8(v + output_offset, lo, hi);",
     "output[i] = ((void)lo, hk_clamp_s8(v + output_offset, HK_INT8_MIN, hi));",
     "the activation's lower bound (relu's zero point) left out"),
]


@pytest.mark.parametrize("source, line, mutated, what", RESCALE_MUTANTS, ids=[m[3] for m in RESCALE_MUTANTS])
def test_a_wrong_rescaling_kernel_is_caught(source: str, line: str, mutated: str, what: str, tmp_path: Path) -> None:
    mutant = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, mutant)
    path = mutant / "kernels" / "src" / source
    assert path.read_text().count(line) == 1, f"{source} changed: update RESCALE_MUTANTS"
    path.write_text(path.read_text().replace(line, mutated))
    host = HostKernels(build_host_library(mutant))
    op = source.removeprefix("hk_").removesuffix("_s8.c")
    rng = np.random.default_rng(7)
    for _ in range(300):
        case = draw_case(op, RngDraw(rng))
        got = host.run(case.layer, case.constants, case.inputs, case.out_shape)
        if got.status != 0 or not np.array_equal(got.output, case.reference()):
            return
    pytest.fail(f"300 {op} cases did not catch {what}")
