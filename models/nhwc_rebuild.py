"""Rebuild the ONNX-exported NanoDet graph as channels-last TensorFlow ops.

The TF.js file was made from ONNX by onnx-tf: tensors are NCHW and every convolution sits between
two layout transposes (83 of them).  Here every tensor carries the permutation between its logical
layout (what the graph describes) and its physical one, so a Transpose node is bookkeeping, and
the rebuilt graph stays NHWC from input to output with no transposes at all.

Three rewrites, each exact in float:
- a zero Pad followed by a stride-1 convolution whose pad is kernel//2 becomes a SAME convolution;
- the max-pool's -inf padding becomes a SYMMETRIC mirror pad: a 3x3 window that sees a mirrored
  edge pixel sees a value that is already inside it, so the maximum is unchanged, while an -inf
  constant wrecks int8 calibration and makes XNNPACK refuse the model;
- NanoDet's BGR mean/std normalisation is placed in front (a 1x1 depthwise convolution), so the
  model takes 0..255 BGR pixels.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from tfjs_graph import Node, TfjsGraph

IDENTITY4 = (0, 1, 2, 3)


@dataclass(frozen=True)
class Lazy:
    """A tensor whose logical axis ``i`` is physical axis ``perm[i]``.

    ``pad`` is a zero padding (in physical axes) not yet applied, kept so that a following
    convolution can absorb it as SAME padding.
    """

    phys: tf.Tensor
    perm: tuple[int, ...]
    pad: tuple[tuple[int, int], ...] | None = None


class NhwcBuilder:
    """Emits TensorFlow ops for the graph's outputs on demand, memoising each node."""

    def __init__(
        self, graph: TfjsGraph, mean: list[float], std: list[float], graph_size: int = 416
    ) -> None:
        """``graph_size``: the input size the TF.js graph was exported at (its constants)."""
        self.graph = graph
        self.graph_size = graph_size
        self.input_size = graph_size
        self.mean = np.asarray(mean, np.float32)
        self.inv_std = (1.0 / np.asarray(std, np.float64)).astype(np.float32)
        self.transposes = 0
        self._memo: dict[str, object] = {}
        self._image: tf.Tensor | None = None

    def build(self, image: tf.Tensor, outputs: dict[str, str]) -> dict[str, tf.Tensor]:
        """Map ``image`` (``[1, H, W, 3]`` float BGR 0..255) to the named graph outputs."""
        self._memo.clear()
        self.transposes = 0
        self._image = image
        self.input_size = int(image.shape[1])
        result = {}
        for key, tensor_name in outputs.items():
            value = self.value(tensor_name.removesuffix(":0"))
            result[key] = self._physical(value, tuple(range(len(value.perm))))
        return result

    # -- evaluation -----------------------------------------------------------------------------

    def value(self, ref: str):
        """The value of ``node`` or ``node:k`` (numpy for constants, Lazy for tensors)."""
        name, _, index = ref.partition(":")
        if name not in self._memo:
            node = self.graph.nodes[name]
            handler = getattr(self, f"_op_{node.op}", None)
            if handler is None:
                raise NotImplementedError(f"op {node.op} ({name}) has no NHWC rewrite")
            self._memo[name] = handler(node)
        produced = self._memo[name]
        if isinstance(produced, list):
            return produced[int(index or 0)]
        return produced

    def _inputs(self, node: Node) -> list:
        return [self.value(ref) for ref in node.inputs]

    def _applied(self, value: Lazy) -> Lazy:
        """``value`` with any pending zero pad applied."""
        if value.pad is None:
            return value
        return Lazy(tf.pad(value.phys, value.pad), value.perm)

    def _physical(self, value: Lazy, perm: tuple[int, ...]) -> tf.Tensor:
        """The physical tensor of ``value`` laid out so that its permutation is ``perm``."""
        value = self._applied(value)
        if value.perm == perm:
            return value.phys
        inverse = np.argsort(perm)
        self.transposes += 1
        return tf.transpose(value.phys, [value.perm[j] for j in inverse])

    # -- constants and layout bookkeeping -------------------------------------------------------

    def _op_Const(self, node: Node) -> np.ndarray:
        return self.graph.consts[node.name]

    def _op_Placeholder(self, node: Node) -> Lazy:
        """The input, normalised by a 1x1 depthwise convolution.

        One op instead of a subtract and a multiply, and in int8 its per-channel weight scales
        keep the three 1/std factors exact where a quantized multiply constant would round them.
        """
        weights = self.inv_std.reshape(1, 1, -1, 1)
        bias = (-self.mean * self.inv_std).astype(np.float32)
        normalised = tf.nn.depthwise_conv2d(self._image, weights, [1, 1, 1, 1], "VALID") + bias
        return Lazy(normalised, (0, 3, 1, 2))  # the graph's NCHW view of an NHWC tensor

    def _op_Identity(self, node: Node):
        return self.value(node.inputs[0])

    def _op_SparseToDense(self, node: Node) -> np.ndarray:
        indices, shape, values, default = self._inputs(node)
        dense = np.full(np.asarray(shape).reshape(-1), default, dtype=np.asarray(values).dtype)
        rows = np.asarray(indices).reshape(len(values), dense.ndim)
        for idx, val in zip(rows, values, strict=True):
            dense[tuple(idx)] = val
        return dense

    def _op_Transpose(self, node: Node):
        x, perm = self._inputs(node)
        if isinstance(x, np.ndarray):
            return np.transpose(x, perm)
        return Lazy(x.phys, tuple(x.perm[int(p)] for p in perm), x.pad)

    def _op_Pad(self, node: Node) -> Lazy:
        x, pads = self._inputs(node)
        x = self._applied(x)
        phys_pads = [(0, 0)] * len(x.perm)
        for logical, (before, after) in enumerate(np.asarray(pads).tolist()):
            phys_pads[x.perm[logical]] = (int(before), int(after))
        return Lazy(x.phys, x.perm, tuple(phys_pads))

    def _op_PadV2(self, node: Node) -> Lazy:
        fill = self.value(node.inputs[2])
        if not np.isneginf(fill).all() or not self._feeds_only(node, "MaxPool"):
            raise NotImplementedError(f"{node.name}: only -inf padding before a max-pool")
        padded = self._op_Pad(Node(node.name, "Pad", node.inputs[:2], {}))
        return Lazy(tf.pad(padded.phys, padded.pad, mode="SYMMETRIC"), padded.perm)

    def _feeds_only(self, node: Node, op: str) -> bool:
        """True when every path from ``node`` through Transposes ends in an ``op`` node."""
        consumers = [n for n in self.graph.nodes.values() if node.name in n.inputs]
        return bool(consumers) and all(
            c.op == op or (c.op == "Transpose" and self._feeds_only(c, op)) for c in consumers
        )

    # -- compute ----------------------------------------------------------------------------------

    def _op_Conv2D(self, node: Node) -> Lazy:
        x, kernel = self._inputs(node)
        return self._conv(node, x, kernel)

    def _conv(self, node: Node, x: Lazy, kernel: np.ndarray) -> Lazy:
        if self.graph.attr_str(node, "data_format") != "NHWC":
            raise NotImplementedError(f"{node.name}: data_format")
        strides = self.graph.attr_int_list(node, "strides")
        dilations = self.graph.attr_int_list(node, "dilations")
        padding = self.graph.attr_str(node, "padding")
        kh, kw = kernel.shape[:2]
        same = ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0))
        if (
            padding == "VALID"
            and x.pad == same
            and x.perm == IDENTITY4
            and strides == [1, 1, 1, 1]
            and dilations == [1, 1, 1, 1]
            and kh % 2 == 1
            and kw % 2 == 1
        ):
            phys, padding = x.phys, "SAME"
        else:
            phys = self._physical(x, IDENTITY4)
        out = tf.nn.conv2d(phys, kernel, strides, padding, dilations=dilations)
        return Lazy(out, IDENTITY4)

    def _op_MaxPool(self, node: Node) -> Lazy:
        (x,) = self._inputs(node)
        if self.graph.attr_str(node, "data_format") != "NHWC":
            raise NotImplementedError(f"{node.name}: data_format")
        out = tf.nn.max_pool2d(
            self._physical(x, IDENTITY4),
            self.graph.attr_int_list(node, "ksize"),
            self.graph.attr_int_list(node, "strides"),
            self.graph.attr_str(node, "padding"),
        )
        return Lazy(out, IDENTITY4)

    def _op_ResizeBilinear(self, node: Node) -> Lazy:
        """The PAN's resampling (2x up top-down, 0.5x down bottom-up).  The graph stores each
        output size as a constant for its own 416 px input; it is scaled here to the input being
        built, exactly (every map is input/8, /16 or /32, and sizes are multiples of 32)."""
        x, size = self._inputs(node)
        fixed = np.asarray(size, np.int64).reshape(-1)
        if np.any(fixed * self.input_size % self.graph_size):
            raise NotImplementedError(f"{node.name}: {fixed} does not scale to {self.input_size}")
        out = tf.compat.v1.image.resize_bilinear(
            self._physical(x, IDENTITY4),
            (fixed * self.input_size // self.graph_size).astype(np.int32),
            align_corners=node.attr.get("align_corners", {}).get("b", False),
            half_pixel_centers=node.attr.get("half_pixel_centers", {}).get("b", False),
        )
        return Lazy(out, IDENTITY4)

    def _op_Add(self, node: Node):
        a, b = self._inputs(node)
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            return a + b
        if isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
            tensor, const = (a, b) if isinstance(b, np.ndarray) else (b, a)
            tensor = self._applied(tensor)
            if const.ndim > 1 or tensor.perm[-1] != len(tensor.perm) - 1:
                raise NotImplementedError(f"{node.name}: only a per-channel bias on the last axis")
            return Lazy(tensor.phys + const, tensor.perm)
        a = self._applied(a)
        return Lazy(a.phys + self._physical(b, a.perm), a.perm)

    _op_AddV2 = _op_Add

    def _op_LeakyRelu(self, node: Node) -> Lazy:
        x = self._applied(self.value(node.inputs[0]))
        alpha = self.graph.attr_float(node, "alpha")
        return Lazy(tf.nn.leaky_relu(x.phys, alpha=alpha), x.perm)

    def _op_Sigmoid(self, node: Node) -> Lazy:
        x = self._applied(self.value(node.inputs[0]))
        return Lazy(tf.sigmoid(x.phys), x.perm)

    def _op_ConcatV2(self, node: Node) -> Lazy:
        *parts, axis = self._inputs(node)
        first = self._applied(parts[0])
        phys = [self._physical(p, first.perm) for p in parts]
        return Lazy(tf.concat(phys, axis=first.perm[int(axis)]), first.perm)

    def _op_SplitV(self, node: Node) -> list[Lazy]:
        x, sizes, axis = self._inputs(node)
        x = self._applied(x)
        pieces = self._split_convolution(node, x, sizes, int(axis))
        if pieces is not None:
            return pieces
        pieces = tf.split(x.phys, [int(s) for s in sizes], axis=x.perm[int(axis)])
        return [Lazy(p, x.perm) for p in pieces]

    def _split_convolution(self, node: Node, x: Lazy, sizes, axis: int) -> list[Lazy] | None:
        """A head convolution split by channel becomes one convolution per piece.

        NanoDet's shared head emits 80 class logits and 44 box logits from one convolution; as
        one int8 tensor they share a single scale, set by the wider box logits, which coarsens
        the class scores.  Separate convolutions are exact in float and give each piece its
        own int8 range.  Returns None when ``node`` is not such a split.
        """
        add = self._through_transposes(node.inputs[0])
        if add.op not in ("Add", "AddV2") or x.perm[axis] != len(x.perm) - 1:
            return None
        conv = self.graph.nodes[add.inputs[0]]
        bias = self.graph.consts.get(add.inputs[1])
        if conv.op != "Conv2D" or bias is None or not self._feeds_only(add, "SplitV"):
            return None
        conv_input, kernel = self._inputs(conv)
        bounds = np.cumsum([0, *(int(s) for s in sizes)])
        pieces = []
        for start, end in itertools.pairwise(bounds):
            out = self._conv(conv, conv_input, kernel[..., start:end])
            pieces.append(out.phys + bias[start:end])
        return [Lazy(piece, x.perm) for piece in pieces]

    def _through_transposes(self, ref: str) -> Node:
        node = self.graph.nodes[ref.partition(":")[0]]
        while node.op == "Transpose":
            node = self.graph.nodes[node.inputs[0].partition(":")[0]]
        return node

    def _op_Reshape(self, node: Node) -> Lazy:
        """Flatten a head's NCHW map to ``[1, C, H*W]`` without leaving NHWC.

        Reshaping the physical ``[1, H, W, C]`` to ``[1, H*W, C]`` gives exactly the transpose of
        the logical result, so the graph's following ``[0, 2, 1]`` Transpose cancels it.
        """
        x, shape = self._inputs(node)
        x = self._applied(x)
        shape = [int(s) for s in np.asarray(shape)]
        channels = x.phys.shape[-1]
        if x.perm == (0, 3, 1, 2) and len(shape) == 3 and shape[:2] == [1, channels]:
            return Lazy(tf.reshape(x.phys, [1, -1, channels]), (0, 2, 1))
        identity = tuple(range(len(x.perm)))
        return Lazy(tf.reshape(self._physical(x, identity), shape), tuple(range(len(shape))))
