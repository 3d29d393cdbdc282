"""Rewrites of an ONNX detector before ``onnx2tf`` turns it into channels-last TensorFlow.

Each rewrite is exact in float and exists for one of three reasons:

- **No layout transposes at run time.** ``onnx2tf`` keeps an NCHW-shaped ``Reshape`` /
  ``Transpose`` pair in NCHW and wraps it in NHWC<->NCHW transposes.  Two patterns cause them in
  these detectors: the heads' ``[1, C, H, W] -> [1, C, HW] -> [1, HW, C]`` flattening (cut off:
  the graph ends at the 4-D head tensor, which ``onnx2tf`` emits as ``[1, H, W, C]``, already
  row-major cells x channels) and ShuffleNet's channel shuffle (``Reshape`` to 5-D, swap the
  group axes, ``Reshape`` back: replaced by a ``Gather`` of the shuffled channel order).
- **Raw pixels in.** The family's normalisation (``x * scale + bias`` per channel) goes in front
  as a ``Mul`` and an ``Add``, so the model takes 0..255 pixels and the int8 model's input is
  the camera's uint8 pixels as they are (scale 1, zero point 0).
- **int8 ranges of their own.** A head convolution whose output is split into class logits and
  box logits is split into two convolutions, so the class logits do not share one int8 scale
  with the box logits; a ``Concat`` of box offsets and probabilities (YOLOX) is cut before it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import onnx
from onnx import helper, numpy_helper


def strip_initializer_inputs(model: onnx.ModelProto) -> None:
    """Drop weights listed as graph inputs (Paddle's exporter does it; converters then treat
    them as inputs instead of constants)."""
    weights = {init.name for init in model.graph.initializer}
    kept = [i for i in model.graph.input if i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(kept)


def fix_input(model: onnx.ModelProto, name: str, shape: Sequence[int]) -> None:
    """Give input ``name`` a static ``shape`` (batch 1)."""
    for value in model.graph.input:
        if value.name == name:
            dims = value.type.tensor_type.shape.dim
            for dim, size in zip(dims, shape, strict=True):
                dim.ClearField("dim_param")
                dim.dim_value = int(size)
            return
    raise ValueError(f"no input {name!r}")


def input_to_constant(model: onnx.ModelProto, name: str, value: np.ndarray) -> None:
    """Replace graph input ``name`` with a constant (e.g. DEIMv2's target size)."""
    kept = [i for i in model.graph.input if i.name != name]
    if len(kept) == len(model.graph.input):
        raise ValueError(f"no input {name!r}")
    del model.graph.input[:]
    model.graph.input.extend(kept)
    model.graph.initializer.append(numpy_helper.from_array(value, name))


def normalise_in_front(
    model: onnx.ModelProto, input_name: str, scale: Sequence[float], bias: Sequence[float]
) -> None:
    """Make ``input_name`` take raw 0..255 pixels: ``x * scale + bias`` per channel feeds
    what the input fed before."""
    inner = f"{input_name}__normalised"
    scaled = f"{input_name}__scaled"
    for node in model.graph.node:
        node.input[:] = [inner if i == input_name else i for i in node.input]
    scale_name, bias_name = f"{input_name}__scale", f"{input_name}__bias"
    model.graph.initializer.extend(
        [
            numpy_helper.from_array(np.asarray(scale, np.float32).reshape(1, -1, 1, 1), scale_name),
            numpy_helper.from_array(np.asarray(bias, np.float32).reshape(1, -1, 1, 1), bias_name),
        ]
    )
    front = [helper.make_node("Mul", [input_name, scale_name], [scaled], name=scaled)]
    if any(b != 0.0 for b in bias):
        front.append(helper.make_node("Add", [scaled, bias_name], [inner], name=inner))
    else:
        front.append(helper.make_node("Identity", [scaled], [inner], name=inner))
    nodes = front + list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)


def shuffles_to_gather(model: onnx.ModelProto) -> int:
    """Replace every channel shuffle (Reshape to [N, g, C/g, H, W], Transpose [0, 2, 1, 3, 4],
    Reshape to [N, C, H, W]) by one Gather on the channel axis; returns how many."""
    graph = model.graph
    producers = {out: node for node in graph.node for out in node.output}
    shapes = _static_shapes(model)
    replaced = 0
    for node in list(graph.node):
        if node.op_type != "Transpose" or list(_attr(node, "perm")) != [0, 2, 1, 3, 4]:
            continue
        first = producers.get(node.input[0])
        last = [n for n in graph.node if node.output[0] in n.input]
        if first is None or first.op_type != "Reshape" or len(last) != 1:
            continue
        (last,) = last
        if last.op_type != "Reshape":
            continue
        groups, per_group = shapes[node.input[0]][1:3]
        order = np.arange(groups * per_group).reshape(groups, per_group).T.ravel()
        indices = f"{last.output[0]}__shuffle"
        graph.initializer.append(numpy_helper.from_array(order.astype(np.int64), indices))
        gather = helper.make_node(
            "Gather", [first.input[0], indices], [last.output[0]], axis=1, name=indices
        )
        position = list(graph.node).index(first)
        for dead in (first, node, last):
            graph.node.remove(dead)
        graph.node.insert(position, gather)
        replaced += 1
    return replaced


def split_head_convs(model: onnx.ModelProto) -> int:
    """A Conv whose only consumer is a channel Split becomes one Conv per split part."""
    graph = model.graph
    producers = {out: node for node in graph.node for out in node.output}
    weights = {init.name: init for init in graph.initializer}
    count = 0
    for split in list(graph.node):
        if split.op_type != "Split" or _attr(split, "axis", 0) != 1:
            continue
        conv = producers.get(split.input[0])
        consumers = [n for n in graph.node if split.input[0] in n.input]
        if conv is None or conv.op_type != "Conv" or len(consumers) != 1:
            continue
        if conv.input[1] not in weights or len(conv.input) < 3:
            continue
        sizes = _split_sizes(split, weights)
        kernel = numpy_helper.to_array(weights[conv.input[1]])
        bias = numpy_helper.to_array(weights[conv.input[2]])
        start = 0
        position = list(graph.node).index(conv)
        new_nodes = []
        for part, (size, output) in enumerate(zip(sizes, split.output, strict=True)):
            k_name, b_name = f"{conv.name}__part{part}_w", f"{conv.name}__part{part}_b"
            graph.initializer.extend(
                [
                    numpy_helper.from_array(kernel[start : start + size].copy(), k_name),
                    numpy_helper.from_array(bias[start : start + size].copy(), b_name),
                ]
            )
            part_conv = helper.make_node(
                "Conv", [conv.input[0], k_name, b_name], [output], name=f"{conv.name}__part{part}"
            )
            part_conv.attribute.extend(conv.attribute)
            new_nodes.append(part_conv)
            start += size
        graph.node.remove(conv)
        graph.node.remove(split)
        for offset, new in enumerate(new_nodes):
            graph.node.insert(position + offset, new)
        count += 1
    return count


def maxpool_pads_to_edge(model: onnx.ModelProto) -> int:
    """A MaxPool's own padding (implicitly -inf) becomes an edge-replicating Pad in front.

    Exact: with a pad no wider than half the window, every window that covers a padded pixel
    also covers the edge pixel it copies, so the maximum is unchanged.  Converters otherwise pad
    with a -inf constant, which wrecks the int8 range of that tensor and which XNNPACK's int8
    path refuses (NanoDet-g's earlier rebuild met the same).  Returns how many."""
    count = 0
    for node in list(model.graph.node):
        if node.op_type != "MaxPool":
            continue
        pads = list(_attr(node, "pads", []) or [])
        kernel = list(_attr(node, "kernel_shape"))
        if not any(pads):
            continue
        if any(p > k // 2 for p, k in zip(pads, kernel + kernel, strict=True)):
            raise ValueError(f"MaxPool {node.name}: pads {pads} wider than half its window")
        begin, end = pads[: len(pads) // 2], pads[len(pads) // 2 :]
        pads_name = f"{node.name}__edge_pads"
        padded = f"{node.name}__edge_padded"
        model.graph.initializer.append(
            numpy_helper.from_array(np.asarray([0, 0, *begin, 0, 0, *end], np.int64), pads_name)
        )
        pad = helper.make_node(
            "Pad", [node.input[0], pads_name], [padded], mode="edge", name=padded
        )
        node.input[0] = padded
        kept = [a for a in node.attribute if a.name not in ("pads", "auto_pad")]
        del node.attribute[:]
        node.attribute.extend(kept)
        model.graph.node.insert(list(model.graph.node).index(node), pad)
        count += 1
    return count


def set_outputs(model: onnx.ModelProto, outputs: Mapping[str, str]) -> None:
    """Make the graph end at ``outputs`` (new name -> existing tensor), dropping what no longer
    feeds them."""
    graph = model.graph
    for new_name, tensor in outputs.items():
        if new_name == tensor:
            continue
        for node in graph.node:
            node.output[:] = [new_name if o == tensor else o for o in node.output]
            node.input[:] = [new_name if i == tensor else i for i in node.input]
    del graph.output[:]
    graph.output.extend(
        helper.make_empty_tensor_value_info(name) for name in outputs
    )  # shapes filled in by shape inference / the simplifier
    _prune(model)


def head_tensor(model: onnx.ModelProto, output: str) -> str:
    """The last 4-D tensor before ``output``'s trailing Reshape/Transpose/Flatten chain."""
    producers = {out: node for node in model.graph.node for out in node.output}
    tensor = output
    while (node := producers.get(tensor)) is not None and node.op_type in (
        "Reshape",
        "Transpose",
        "Flatten",
    ):
        tensor = node.input[0]
    return tensor


def concat_inputs(model: onnx.ModelProto, tensor: str) -> list[str]:
    """The inputs of the Concat that produces ``tensor``."""
    for node in model.graph.node:
        if tensor in node.output:
            if node.op_type != "Concat":
                raise ValueError(f"{tensor!r} is made by {node.op_type}, not Concat")
            return list(node.input)
    raise ValueError(f"no node makes {tensor!r}")


def _prune(model: onnx.ModelProto) -> None:
    graph = model.graph
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    inits = [i for i in graph.initializer if i.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.value_info[:]


def _static_shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {}
    for value in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]:
        dims = value.type.tensor_type.shape.dim
        shapes[value.name] = [d.dim_value for d in dims]
    return shapes


def _split_sizes(split: onnx.NodeProto, weights: Mapping[str, onnx.TensorProto]) -> list[int]:
    sizes = _attr(split, "split", None)
    if sizes is None and len(split.input) > 1:
        sizes = numpy_helper.to_array(weights[split.input[1]]).tolist()
    if sizes is None:
        raise ValueError(f"split {split.name} has no sizes")
    return [int(s) for s in sizes]


def _attr(node: onnx.NodeProto, name: str, default=None):
    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default
