"""The model zoo: one module per model, one row per model in ZOO.

The code is in harness.zoo.catalog; this file only re-exports it."""
from harness.zoo.catalog import (
    MODEL_NAME,
    ZOO,
    ModelFileError,
    UnknownModel,
    ZooEntry,
    is_model_path,
    load,
)

__all__ = ["MODEL_NAME", "ModelFileError", "UnknownModel", "ZOO", "ZooEntry", "is_model_path", "load"]
