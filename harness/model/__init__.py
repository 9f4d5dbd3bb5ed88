"""The int8 IR: a graph of layers over tensors that carry their quantization grid, and the Model
that pairs a graph with its samples."""
from harness.model.graph import Graph, GraphBuilder, Layer, ModelError, Tensor
from harness.model.model import Model, Origin
from harness.model.ops import OPS, OpSpec, resolve_padding

__all__ = [
    "Graph", "GraphBuilder", "Layer", "Model", "ModelError", "Origin", "Tensor", "OPS", "OpSpec",
    "resolve_padding",
]
