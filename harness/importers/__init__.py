"""Importers: models from files other tools write (TFLite flatbuffers), as the project's Graph.

The code is in harness.importers.tflite; this file only re-exports it."""
from harness.importers.tflite import SUPPORTED_OPS, ImportRefused, import_tflite, model_name

__all__ = ["SUPPORTED_OPS", "ImportRefused", "import_tflite", "model_name"]
