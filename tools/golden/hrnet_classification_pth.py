"""Writes tests/fixtures/torch/hrnet_tiny_imagenet.pth (development only; Debian's python3-torch): a state_dict laid
out like the HRNet-Image-Classification checkpoint (hrnet_w18_small_model_v2.pth), but with hrnet_tiny's shapes
(model/hrnet.cpp HRNetConfig::tiny()), so tests/test_hrnet_pretrained_pth.cpp can load it as `backbone_weights`
into an hrnet_tiny backbone. It holds:
  * every backbone tensor under the classification code's names (conv1, bn1, layer1.0..., transition1.0.0,
    stage2.0.branches.0.0.conv1, stage2.0.fuse_layers.1.0.0.0, ...), without num_batches_tracked, as in the real
    file (saved before PyTorch 0.4.1 added the counters);
  * the classification head the loader must skip and count: incre_modules, downsamp_modules, final_layer,
    classifier (HEAD_KEYS below is how many).
To stay small (the backbone has 226k weights, 900 KB as float32), every float tensor is a view into one shared
storage, POOL_SIZE floats, at its own offset: torch.save writes the storage once. Value i of the pool is
pool_value(i), exact in float32; tensor k (in file order) starts at offset(k), so the test can recompute any value.
"""
import collections
import math
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "torch",
                   "hrnet_tiny_imagenet.pth")

# hrnet_tiny (model/hrnet.cpp): stem 16, one layer1 Bottleneck of 8 planes (32 out), one module of one
# BasicBlock per branch in each stage.
STEM, LAYER1_PLANES = 16, 8
STAGES = ([8, 16], [8, 16, 32], [8, 16, 32, 64])
# The classification head, scaled down like the backbone: incre_modules are Bottlenecks of these planes per branch.
HEAD_PLANES, FINAL_CHANNELS, CLASSES = [2, 4, 8, 16], 64, 10
POOL_SIZE = 36864  # the largest tensor: 64 x 64 x 3 x 3


def pool_value(i):
    return float((i * 37) % 2053 - 1026) / 512.0


def offset(k, numel):
    return (k * 977) % (POOL_SIZE - numel + 1)


def bn(sd, name, c):
    for p in ("weight", "bias", "running_mean", "running_var"):
        sd[f"{name}.{p}"] = (c,)


def conv(sd, name, out, inp, k, bias=False):
    sd[f"{name}.weight"] = (out, inp, k, k)
    if bias:
        sd[f"{name}.bias"] = (out,)


def bottleneck(sd, p, inp, planes):
    conv(sd, p + ".conv1", planes, inp, 1); bn(sd, p + ".bn1", planes)
    conv(sd, p + ".conv2", planes, planes, 3); bn(sd, p + ".bn2", planes)
    conv(sd, p + ".conv3", planes * 4, planes, 1); bn(sd, p + ".bn3", planes * 4)
    if inp != planes * 4:
        conv(sd, p + ".downsample.0", planes * 4, inp, 1); bn(sd, p + ".downsample.1", planes * 4)


def backbone_shapes():
    """Name -> shape in the order of the official HighResolutionNet's state_dict."""
    sd = collections.OrderedDict()
    conv(sd, "conv1", STEM, 3, 3); bn(sd, "bn1", STEM)
    conv(sd, "conv2", STEM, STEM, 3); bn(sd, "bn2", STEM)
    bottleneck(sd, "layer1.0", STEM, LAYER1_PLANES)
    pre = [LAYER1_PLANES * 4]
    for s, channels in enumerate(STAGES):
        t = f"transition{s + 1}"
        for i, c in enumerate(channels):
            if i < len(pre):
                if pre[i] != c:
                    conv(sd, f"{t}.{i}.0", c, pre[i], 3); bn(sd, f"{t}.{i}.1", c)
                continue
            steps = i + 1 - len(pre)
            for k in range(steps):
                out = c if k + 1 == steps else pre[-1]
                conv(sd, f"{t}.{i}.{k}.0", out, pre[-1], 3); bn(sd, f"{t}.{i}.{k}.1", out)
        p = f"stage{s + 2}.0"
        for i, c in enumerate(channels):
            q = f"{p}.branches.{i}.0"
            conv(sd, q + ".conv1", c, c, 3); bn(sd, q + ".bn1", c)
            conv(sd, q + ".conv2", c, c, 3); bn(sd, q + ".bn2", c)
        for i, ci in enumerate(channels):
            for j, cj in enumerate(channels):
                q = f"{p}.fuse_layers.{i}.{j}"
                if j > i:
                    conv(sd, q + ".0", ci, cj, 1); bn(sd, q + ".1", ci)
                for k in range(i - j):
                    out = ci if k + 1 == i - j else cj
                    conv(sd, f"{q}.{k}.0", out, cj, 3); bn(sd, f"{q}.{k}.1", out)
        pre = channels
    return sd


def head_shapes():
    """The classification head of HighResolutionNet (cls_hrnet.py _make_head and classifier)."""
    sd = collections.OrderedDict()
    for i, c in enumerate(STAGES[-1]):
        bottleneck(sd, f"incre_modules.{i}.0", c, HEAD_PLANES[i])
    for i in range(len(HEAD_PLANES) - 1):
        conv(sd, f"downsamp_modules.{i}.0", HEAD_PLANES[i + 1] * 4, HEAD_PLANES[i] * 4, 3, bias=True)
        bn(sd, f"downsamp_modules.{i}.1", HEAD_PLANES[i + 1] * 4)
    conv(sd, "final_layer.0", FINAL_CHANNELS, HEAD_PLANES[-1] * 4, 1, bias=True)
    bn(sd, "final_layer.1", FINAL_CHANNELS)
    sd["classifier.weight"] = (CLASSES, FINAL_CHANNELS)
    sd["classifier.bias"] = (CLASSES,)
    return sd


def main():
    pool = torch.tensor([pool_value(i) for i in range(POOL_SIZE)], dtype=torch.float32)
    shapes = list(backbone_shapes().items()) + list(head_shapes().items())
    state = collections.OrderedDict()
    for k, (name, shape) in enumerate(shapes):
        n = math.prod(shape)
        assert n <= POOL_SIZE, name
        state[name] = pool[offset(k, n):offset(k, n) + n].view(shape)  # a view: the pool is saved once
    torch.save(state, OUT)
    print(f"{OUT}: {len(shapes)} tensors, {len(head_shapes())} in the head, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
