"""Published figures of the MLPerf Tiny reference models on Cortex-M4 silicon, stored as a reference
table beside which `harness bench` prints its own counts. They are cycles on a real board (latency
times clock), not instructions under an emulator: the two are not comparable one to one.

A figure belongs to the model the harness names as the MLPerf Tiny file's stem, lowercased
(`kws_ref_model.tflite` is `kws_ref_model`), and is shown only for a model of that name with the
reference model's multiply-accumulates, so that another file of the same name gets none.
"""
from __future__ import annotations

from dataclasses import dataclass

#: The board and round every figure below comes from.
ROUND = "MLPerf Tiny v1.1, closed division, latency"
BOARD = "ST NUCLEO-L4R5ZI, Cortex-M4 at 120 MHz"
CLOCK_MHZ = 120.0
X_CUBE_AI = "ST X-CUBE-AI 8.1"
MICROTVM = "microTVM + CMSIS-NN"


@dataclass(frozen=True)
class Published:
    """One published latency of one model, and the cycles it is at the board's clock."""

    model: str  # the harness's name of the model: the .tflite file's stem, lowercased
    file: str  # the MLPerf Tiny file (mlcommons/tiny, benchmark/training/*/trained_models/)
    task: str
    macs: int  # the reference model's multiply-accumulates, as the harness counts them
    system: str  # the software that ran it: X_CUBE_AI or MICROTVM
    latency_ms: float
    clock_mhz: float = CLOCK_MHZ
    board: str = BOARD

    @property
    def cycles(self) -> int:
        return round(self.latency_ms * 1e-3 * self.clock_mhz * 1e6)

    @property
    def source(self) -> str:
        return (f"{ROUND}, {self.board}, {self.system}: {self.task} ({self.file}) {self.latency_ms:g} ms "
                f"= {self.cycles / 1e6:.3g} M cycles")


def _both(model: str, file: str, task: str, macs: int, x_cube_ms: float, microtvm_ms: float) -> tuple[Published, ...]:
    return (Published(model, file, task, macs, X_CUBE_AI, x_cube_ms),
            Published(model, file, task, macs, MICROTVM, microtvm_ms))


#: Every published figure: per model, X-CUBE-AI's first (the fastest), then microTVM's.
PUBLISHED: tuple[Published, ...] = (
    *_both("kws_ref_model", "kws_ref_model.tflite", "keyword spotting, DS-CNN", 2_656_768, 62.9, 99.8),
    *_both("vww_96_int8", "vww_96_int8.tflite", "visual wake words, MobileNetV1 0.25", 7_489_664, 118.7, 300.8),
    *_both("pretrainedresnet_quant", "pretrainedResnet_quant.tflite", "image classification, ResNet-8",
           12_501_632, 214.0, 389.6),
    *_both("ad01_int8", "ad01_int8.tflite", "anomaly detection, FC autoencoder", 264_192, 6.86, 8.6),
)


def published_for(model: str, macs: int) -> tuple[Published, ...]:
    """The published figures of `model`, a harness model name, if it is the MLPerf Tiny reference
    model of that name (same MACs); none otherwise."""
    return tuple(p for p in PUBLISHED if p.model == model and p.macs == macs)
