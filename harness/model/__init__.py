"""The int8 IR: a graph of layers over tensors that carry their quantization grid."""
from harness.model.graph import Graph, GraphBuilder, Layer, ModelError, Tensor
from harness.model.ops import OPS, OpSpec, resolve_padding

__all__ = ["Graph", "GraphBuilder", "Layer", "ModelError", "Tensor", "OPS", "OpSpec", "resolve_padding"]
