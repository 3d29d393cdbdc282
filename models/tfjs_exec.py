"""Run a channels-last TF.js graph model as TensorFlow ops, at any input size.

For graphs exported from TensorFlow itself (already NHWC), unlike ``nhwc_rebuild`` which undoes
onnx-tf's NCHW layout.  TF.js keeps a few op types TensorFlow's converter cannot take
(``FusedDepthwiseConv2dNative``, the grappler-only ``_FusedConv2D``); each is emitted as the plain
ops it fused.  MobileNetV3's hard-swish, which the export split into separate multiplies, is
written back in the form the converter turns into one HARD_SWISH op: split, each multiply got its
own int8 range and the int8 model found no person on the footage (recall 0-7 % against 93-95 %).
The upsampling sizes stored as constants for the export size are recomputed from the tensor they
resize (2x, checked against the constant at the export size), so the same weights run at any
multiple of the largest stride.
"""

from __future__ import annotations

import base64

import tensorflow as tf
from tfjs_graph import Node, TfjsGraph

_ACTIVATIONS = {"Relu": tf.nn.relu, "Relu6": tf.nn.relu6}


class TfjsExecutor:
    """Evaluate ``graph`` from its single placeholder up to the requested tensors."""

    def __init__(self, graph: TfjsGraph, graph_size: int, swap_rgb: bool = False) -> None:
        """``swap_rgb``: take BGR where the graph takes RGB, by reversing the input-channel axis
        of the convolutions that read the image (exact, and free at run time)."""
        self.graph = graph
        self.graph_size = graph_size
        self.swap_rgb = swap_rgb

    def build(self, image: tf.Tensor, outputs: dict[str, str]) -> dict[str, tf.Tensor]:
        """``outputs`` maps output names to graph tensor names; returns the TF tensors."""
        self._values: dict[str, tf.Tensor] = {}
        self._scale = int(image.shape[1]) / self.graph_size
        (placeholder,) = [n.name for n in self.graph.nodes.values() if n.op == "Placeholder"]
        self._values[placeholder] = image
        self._placeholder = placeholder
        return {key: self._tensor(name) for key, name in outputs.items()}

    def _tensor(self, name: str) -> tf.Tensor:
        name = name.split(":")[0]
        if name not in self._values:
            if name in self.graph.consts:
                self._values[name] = tf.constant(self.graph.consts[name])
            else:
                node = self.graph.nodes[name]
                self._values[name] = self._emit(node, [self._tensor(i) for i in node.inputs])
        return self._values[name]

    def _emit(self, node: Node, args: list[tf.Tensor]) -> tf.Tensor:
        g, op = self.graph, node.op
        if op in ("Identity",):
            return args[0]
        if op in ("Add", "AddV2"):
            return args[0] + args[1]
        if op == "Sub":
            return args[0] - args[1]
        if op == "Mul" and node.name.endswith("hard_swish/mul_1"):
            return self._hard_swish(node)
        if op == "Mul":
            return args[0] * args[1]
        if op in _ACTIVATIONS:
            return _ACTIVATIONS[op](args[0])
        if op == "Sigmoid":
            return tf.sigmoid(args[0])
        if op == "ConcatV2":
            return tf.concat(args[:-1], axis=int(g.consts[node.inputs[-1]]))
        if op == "Mean":
            axes = [int(a) for a in g.consts[node.inputs[1]].ravel()]
            keep = bool(node.attr.get("keep_dims", {}).get("b", False))
            return tf.reduce_mean(args[0], axis=axes, keepdims=keep)
        if op == "ResizeBilinear":
            stored = [int(v) for v in g.consts[node.inputs[1]]]
            height, width = (int(d) for d in args[0].shape[1:3])
            if self._scale == 1 and stored != [2 * height, 2 * width]:
                raise ValueError(f"{node.name}: stored size {stored} is not 2x its input")
            return tf.compat.v1.image.resize_bilinear(args[0], [2 * height, 2 * width])
        if op in ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"):
            return self._conv(node, args)
        raise ValueError(f"{node.name}: op {op} not supported")

    def _hard_swish(self, node: Node) -> tf.Tensor:
        """MobileNetV3's ``x * relu6(x + 3) / 6``, written as the converter's HARD_SWISH pattern.

        The export split it into (x / 6) * relu6(x + 3): two MULs and an ADD, each quantized on
        its own in int8 (and slow there); the pattern below converts to one HARD_SWISH op.
        """
        add = self.graph.nodes[node.name.rsplit("/", 1)[0] + "/add"]
        x = self._tensor(add.inputs[0])
        return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)

    def _conv(self, node: Node, args: list[tf.Tensor]) -> tf.Tensor:
        g = self.graph
        strides = g.attr_int_list(node, "strides")
        dilations = g.attr_int_list(node, "dilations") or [1, 1, 1, 1]
        padding = g.attr_str(node, "padding")
        kernel = args[1]
        if self.swap_rgb and node.inputs[0] == self._placeholder:
            if "Depthwise" in node.op:
                raise ValueError(f"{node.name}: cannot swap channels through a depthwise conv")
            kernel = tf.reverse(kernel, axis=[2])
        if "Depthwise" in node.op:
            out = tf.nn.depthwise_conv2d(
                args[0], kernel, strides, padding, dilations=dilations[1:3]
            )
        else:
            out = tf.nn.conv2d(args[0], kernel, strides, padding, dilations=dilations)
        fused = [
            base64.b64decode(s).decode()
            for s in node.attr.get("fused_ops", {}).get("list", {}).get("s", [])
        ]
        for step in fused:
            if step == "BiasAdd":
                out = tf.nn.bias_add(out, args[2])
            elif step in _ACTIVATIONS:
                out = _ACTIVATIONS[step](out)
            else:
                raise ValueError(f"{node.name}: fused op {step} not supported")
        return out
