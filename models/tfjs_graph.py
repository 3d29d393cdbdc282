"""Read a TF.js graph model (``model.json`` + weight shards) into plain Python and numpy.

TF.js stores a GraphDef as JSON with the weights moved out into binary shards: float weights may
be float16 (``quantization.dtype``), and int64 constants are written as int32.  This module undoes
both so the graph can be rebuilt or imported into TensorFlow unchanged.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_DTYPES = {
    "DT_FLOAT": np.float32,
    "DT_INT32": np.int32,
    "DT_INT64": np.int64,
    "DT_BOOL": np.bool_,
}
_SHARD_DTYPES = {"float32": np.float32, "int32": np.int32, "float16": np.float16, "bool": np.bool_}


@dataclass(frozen=True)
class Node:
    """One GraphDef node: op type, input names (``name`` or ``name:k``) and raw JSON attributes."""

    name: str
    op: str
    inputs: tuple[str, ...]
    attr: dict


@dataclass
class TfjsGraph:
    """A TF.js graph model: nodes in file order, constant values, and the raw topology JSON."""

    nodes: dict[str, Node]
    consts: dict[str, np.ndarray]
    topology: dict
    signature: dict = field(default_factory=dict)

    def attr_int_list(self, node: Node, key: str) -> list[int]:
        return [int(v) for v in node.attr[key]["list"].get("i", [])]

    def attr_str(self, node: Node, key: str) -> str:
        return base64.b64decode(node.attr[key]["s"]).decode()

    def attr_float(self, node: Node, key: str) -> float:
        return float(node.attr[key]["f"])

    def as_graphdef(self):
        """The original graph as a TensorFlow GraphDef, weights inlined (for reference runs)."""
        import tensorflow as tf
        from google.protobuf import json_format
        from tensorflow.core.framework import graph_pb2

        graph_def = json_format.ParseDict(
            self.topology, graph_pb2.GraphDef(), ignore_unknown_fields=True
        )
        for node in graph_def.node:
            if node.op == "Const" and node.name in self.consts:
                proto = tf.make_tensor_proto(self.consts[node.name])
                node.attr["value"].tensor.CopyFrom(proto)
        return graph_def


def load_tfjs_graph(model_json: Path) -> TfjsGraph:
    """Load ``model_json`` and the weight shards it names (read from the same folder)."""
    spec = json.loads(model_json.read_text())
    topology = spec["modelTopology"]
    nodes = {
        n["name"]: Node(n["name"], n["op"], tuple(n.get("input", ())), n.get("attr", {}))
        for n in topology["node"]
    }
    consts: dict[str, np.ndarray] = {}
    for group in spec["weightsManifest"]:
        blob = b"".join((model_json.parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            stored = entry.get("quantization", {}).get("dtype", entry["dtype"])
            dtype = np.dtype(_SHARD_DTYPES[stored])
            count = int(np.prod(entry["shape"], dtype=np.int64))
            values = np.frombuffer(blob, dtype, count, offset).reshape(entry["shape"])
            offset += count * dtype.itemsize
            consts[entry["name"]] = values
        if offset != len(blob):
            raise ValueError(f"weights manifest covers {offset} of {len(blob)} bytes")
    for name, values in list(consts.items()):
        declared = (
            nodes[name].attr.get("dtype", {}).get("type", "DT_FLOAT") if name in nodes else ""
        )
        consts[name] = values.astype(_DTYPES.get(declared, values.dtype))
    return TfjsGraph(nodes, consts, topology, spec.get("signature", {}))
