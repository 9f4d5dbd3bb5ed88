"""The arena plan, the generated C, and golden files."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.codegen import generate, plan_arena
from harness.verify.golden import GoldenError, format_golden, read_golden, write_golden
from harness.zoo import ZOO, load


@pytest.mark.parametrize("name", sorted(ZOO))
def test_arena_never_overlaps_tensors_alive_together(name: str) -> None:
    g = load(name).graph
    plan = plan_arena(g)
    # reshape/flatten outputs are their input's bytes: one storage, alive while any of its names is
    storage = {g.input: g.input}
    live: dict[str, tuple[int, int]] = {g.input: (-1, -1)}
    for i, layer in enumerate(g.layers):
        for t in layer.inputs:
            live[storage[t]] = (live[storage[t]][0], i)
        if layer.op in ("reshape", "flatten"):
            storage[layer.output] = storage[layer.inputs[0]]
            assert plan.offsets[layer.output] == plan.offsets[layer.inputs[0]]
        else:
            storage[layer.output] = layer.output
            live[layer.output] = (i, i)
    root = storage[g.output]
    live[root] = (live[root][0], len(g.layers))
    names = list(live)
    for a in names:
        assert plan.offsets[a] % 4 == 0 and plan.offsets[a] + g.tensors[a].size <= plan.size
        for b in names:
            if a >= b:
                continue
            together = not (live[a][1] < live[b][0] or live[b][1] < live[a][0])
            apart = (plan.offsets[a] + g.tensors[a].size <= plan.offsets[b]
                     or plan.offsets[b] + g.tensors[b].size <= plan.offsets[a])
            assert apart or not together, f"{a} and {b} overlap while both alive"
    assert plan.size < sum(g.tensors[t].size for t in names) or len(names) <= 2


@pytest.mark.parametrize("name", sorted(ZOO))
def test_generated_code_is_deterministic_and_integer_only(name: str) -> None:
    a = generate(load(name)).source
    assert a == generate(load(name)).source
    assert "float" not in a and "double" not in a
    # one case per layer in hk_model_run_layer and one in hk_model_check_layer
    run, check = a.split("hk_check_id hk_model_check_layer(uint32_t index)")
    assert run.count("case ") == check.count("case ") == len(load(name).graph.layers)


def test_golden_round_trip_and_atomic_write(tmp_path: Path) -> None:
    path = tmp_path / "m" / "t.txt"
    logits = [[1, -2, 3], [127, -128, 0]]
    write_golden(path, format_golden("m", "t", logits))
    assert read_golden(path) == logits
    assert os.listdir(path.parent) == ["t.txt"]  # no temporary file left behind
    assert read_golden(tmp_path / "absent.txt") is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("0: 1 2\n0: 3 4\n", "sample 0 appears twice"),
        ("0: 1 x\n", r":1: expected 'SAMPLE: v v v"),
        ("# c\n0: 1\n2: 1\n", r"numbered 0..1"),
        ("0: 300\n", "outside int8"),
        ("just text\n", r":1: expected"),
    ],
)
def test_malformed_golden_files_are_explained(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "g.txt"
    path.write_text(text)
    with pytest.raises(GoldenError, match=message):
        read_golden(path)


def test_contexts_are_null_without_scratch_and_share_the_arena_end_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.codegen import scratch

    plain = generate(load("kws_cnn"))
    assert "hk_context" not in plain.source and plain.arena.scratch == 0
    assert "hk_conv2d_s8(0, " in plain.source and "hk_fully_connected_s8(0, " in plain.source
    # a variant whose kernels need scratch: its layers get a context of their size at the arena's end
    table = {**scratch.REF_SIZES, "hk_conv2d_s8": lambda input_dims, filter_dims: 40 * input_dims[2] + 2,
             "hk_fully_connected_s8": lambda input_size: 8}
    monkeypatch.setitem(scratch.SCRATCH, "big", table)  # type: ignore[index]
    gen = generate(load("kws_cnn"), "big")
    contexts = [s.split("}")[0] for s in gen.source.split("hk_context")[1:]]
    sizes = [int(c.rsplit(", ", 1)[1]) for c in contexts]
    assert sizes and 8 in sizes and max(sizes) > 8
    assert all(f"{{arena + {plain.arena.size}, " in c for c in contexts)  # after the activations
    assert gen.arena.scratch == (max(sizes) + 3) // 4 * 4 and gen.arena.size == plain.arena.size + gen.arena.scratch
    assert f"static int8_t arena[{gen.arena.size}]" in gen.source
    assert "hk_conv2d_s8(0, " not in gen.source and "hk_fully_connected_s8(0, " not in gen.source
    assert generate(load("kws_cnn"), "a folder of one's own").source == plain.source  # sized as ref
