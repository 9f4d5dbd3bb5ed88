"""The model zoo: one module per model, one row per model in ZOO."""
from __future__ import annotations

from functools import lru_cache

from harness.errors import InputError
from harness.zoo import (
    ad_autoencoder,
    ic_resnet8,
    kws_cnn,
    kws_dscnn,
    mobilenetv1,
    mobilenetv2_block,
    resnet18_block,
    vww_mobilenetv1,
    xor_mlp,
)
from harness.model import Model
from harness.zoo.common import ZooEntry


class UnknownModel(InputError, KeyError):
    def __str__(self) -> str:
        return f"unknown model '{self.args[0]}'; available: {', '.join(ZOO)}"


ZOO: dict[str, ZooEntry] = {
    e.name: e
    for e in (
        ZooEntry("xor_mlp", xor_mlp.DESCRIPTION, xor_mlp.build),
        ZooEntry("kws_cnn", kws_cnn.DESCRIPTION, kws_cnn.build),
        ZooEntry("resnet18_block", resnet18_block.DESCRIPTION, resnet18_block.build),
        ZooEntry("mobilenetv2_block", mobilenetv2_block.DESCRIPTION, mobilenetv2_block.build),
        ZooEntry("mobilenetv1_published", mobilenetv1.DESCRIPTION_PUBLISHED, mobilenetv1.build_published),
        ZooEntry("mobilenetv1_friendly", mobilenetv1.DESCRIPTION_FRIENDLY, mobilenetv1.build_friendly),
        ZooEntry("kws_dscnn", kws_dscnn.DESCRIPTION, kws_dscnn.build),
        ZooEntry("vww_mobilenetv1", vww_mobilenetv1.DESCRIPTION, vww_mobilenetv1.build),
        ZooEntry("ic_resnet8", ic_resnet8.DESCRIPTION, ic_resnet8.build),
        ZooEntry("ad_autoencoder", ad_autoencoder.DESCRIPTION, ad_autoencoder.build),
    )
}


@lru_cache(maxsize=None)
def load(name: str) -> Model:
    """Build (once per process) the named zoo model, quantized, with its test samples."""
    if name not in ZOO:
        raise UnknownModel(name)
    return ZOO[name].build()


__all__ = ["ZOO", "Model", "ZooEntry", "UnknownModel", "load"]
