"""The model zoo: one module per model, one row per model in ZOO."""
from __future__ import annotations

from functools import lru_cache

from harness.errors import HarnessError
from harness.zoo import kws_cnn, xor_mlp
from harness.zoo.common import Model, ZooEntry


class UnknownModel(HarnessError, KeyError):
    def __str__(self) -> str:
        return f"unknown model '{self.args[0]}'; available: {', '.join(ZOO)}"


ZOO: dict[str, ZooEntry] = {
    e.name: e
    for e in (
        ZooEntry("xor_mlp", xor_mlp.DESCRIPTION, xor_mlp.build),
        ZooEntry("kws_cnn", kws_cnn.DESCRIPTION, kws_cnn.build),
    )
}


@lru_cache(maxsize=None)
def load(name: str) -> Model:
    """Build (once per process) the named zoo model, quantized, with its test samples."""
    if name not in ZOO:
        raise UnknownModel(name)
    return ZOO[name].build()


__all__ = ["ZOO", "Model", "ZooEntry", "UnknownModel", "load"]
