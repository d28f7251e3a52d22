"""Golden outputs of MTI-Net (HRNetV2-W18-small-v2 backbone) from an independent PyTorch re-implementation.

The networks below (MTI-Net, PAD-Net and, in dump mode, the single-task and multi-task baselines) follow
the architecture in docs/architecture.md and use the reference repository's parameter names (MTI-Net's checked against
tests/fixtures/reference/<config>_state_dict.tsv), so a state dict written by mtinet's Module::save loads as is.

Two modes:
  fixture (default; MTI-Net on all three task sets, PAD-Net on NYUD + aux): weights and input come from a
      closed-form integer formula that the C++ test evaluates identically (see formula_values), so no weights need
      committing. Runs an eval forward, then a train forward + backward in float64, and writes samples of outputs,
      deep-supervision predictions, gradients and updated BN running statistics, plus a (norm, dot) summary of
      every parameter's gradient (grad_summary), to tests/fixtures/<model>_model_<task set>.safetensors. For the
      NYUD fixture it also runs the same case in float32 and stores PyTorch's own f32-vs-f64 error of every
      checked tensor and summary ("spread32.*"), the yardstick of mtinet's f32 test.
  dump: --weights W.safetensors (from Module::save) --input X.safetensors (key "input", NCHW) --out O.safetensors:
      loads them, runs a train-mode forward + backward in float64 and writes every output and parameter gradient;
      with --compare OURS.safetensors (written by mtinet's write_golden_dump, tests/golden_dump.h) it then checks
      every tensor to 1e-8 relative L2.

Loss used for the gradients (both modes): sum over every final and deep-supervision prediction y of mean(y * y).
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FIXTURE_DIR, write_safetensors  # noqa: E402

TASK_SETS = {
    # name: (main tasks, auxiliary tasks in reference order, output channels)
    "nyud": (["semseg", "depth"], ["semseg", "depth"], {"semseg": 40, "depth": 1}),
    "nyud_aux": (["semseg", "depth"], ["semseg", "normals", "edge", "depth"],
                 {"semseg": 40, "depth": 1, "normals": 3, "edge": 1}),
    "pascal": (["semseg", "human_parts", "sal", "normals", "edge"],
               ["semseg", "human_parts", "sal", "normals", "edge"],
               {"semseg": 21, "human_parts": 7, "sal": 1, "normals": 3, "edge": 1}),
}
HRNET_BN_MOMENTUM = 0.01


# ---------------------------------------------------------------- building blocks (own code, reference names)
class Block(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN + (identity | 1x1 conv + BN), ReLU."""

    def __init__(self, cin, cout, momentum):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, momentum=momentum)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=momentum)
        self.downsample = None
        if cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False),
                                            nn.BatchNorm2d(cout, momentum=momentum))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottle(nn.Module):
    """1x1-3x3-1x1 bottleneck, expansion 4, with a 1x1 conv + BN shortcut when the width changes."""

    def __init__(self, cin, planes, momentum):
        super().__init__()
        cout = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes, momentum=momentum)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, momentum=momentum)
        self.conv3 = nn.Conv2d(planes, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout, momentum=momentum)
        self.downsample = None
        if cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False),
                                            nn.BatchNorm2d(cout, momentum=momentum))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


def conv_bn(cin, cout, k, stride, relu):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout, momentum=HRNET_BN_MOMENTUM)]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class HRModule(nn.Module):
    def __init__(self, channels, blocks):
        super().__init__()
        n = len(channels)
        self.branches = nn.ModuleList(
            nn.Sequential(*[Block(channels[i], channels[i], HRNET_BN_MOMENTUM) for _ in range(blocks[i])])
            for i in range(n))
        fuse = []
        for i in range(n):
            row = []
            for j in range(n):
                if j > i:
                    row.append(conv_bn(channels[j], channels[i], 1, 1, False))
                elif j < i:
                    steps = [conv_bn(channels[j], channels[i] if k == i - j - 1 else channels[j], 3, 2, k != i - j - 1)
                             for k in range(i - j)]
                    row.append(nn.Sequential(*steps))
                else:
                    row.append(None)
            fuse.append(nn.ModuleList(row))
        self.fuse_layers = nn.ModuleList(fuse)

    def forward(self, xs):
        xs = [b(x) for b, x in zip(self.branches, xs)]
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = None
            for j, x in enumerate(xs):
                if j == i:
                    t = x
                elif j > i:
                    t = F.interpolate(row[j](x), size=xs[i].shape[2:], mode="bilinear", align_corners=False)
                else:
                    t = row[j](x)
                y = t if y is None else y + t
            out.append(F.relu(y))
        return out


class HRNetSmallV2(nn.Module):
    STAGES = [(1, [2, 2], [18, 36]), (3, [2, 2, 2], [18, 36, 72]), (2, [2, 2, 2, 2], [18, 36, 72, 144])]

    def __init__(self):
        super().__init__()
        m = HRNET_BN_MOMENTUM
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, momentum=m)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64, momentum=m)
        self.layer1 = nn.Sequential(Bottle(64, 64, m), Bottle(256, 64, m))
        pre = [256]
        for k, (modules, blocks, channels) in enumerate(self.STAGES):
            trans = []
            for i, c in enumerate(channels):
                if i < len(pre):
                    trans.append(conv_bn(pre[i], c, 3, 1, True) if pre[i] != c else None)
                else:
                    steps = i + 1 - len(pre)
                    trans.append(nn.Sequential(*[conv_bn(pre[-1], c if s == steps - 1 else pre[-1], 3, 2, True)
                                                 for s in range(steps)]))
            setattr(self, f"transition{k + 1}", nn.ModuleList(trans))
            setattr(self, f"stage{k + 2}", nn.Sequential(*[HRModule(channels, blocks) for _ in range(modules)]))
            pre = channels

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        xs = [self.layer1(x)]
        for k in range(3):
            trans = getattr(self, f"transition{k + 1}")
            ys = []
            for i, t in enumerate(trans):
                src = xs[i] if i < len(xs) else xs[-1]
                ys.append(src if t is None else t(src))
            for module in getattr(self, f"stage{k + 2}"):
                ys = module(ys)
            xs = ys
        return xs


class SE(nn.Module):
    def __init__(self, c, r=16):
        super().__init__()
        self.squeeze = nn.Sequential(nn.Linear(c, c // r), nn.ReLU(), nn.Linear(c // r, c), nn.Sigmoid())

    def forward(self, x):
        return x * self.squeeze(x.mean(dim=(2, 3)))[:, :, None, None]


class SA(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.Sigmoid())
        self.conv = nn.Conv2d(c, c, 3, 1, 1, bias=False)

    def forward(self, x):
        return self.conv(x) * self.attention(x)


class InitialPrediction(nn.Module):
    def __init__(self, aux, outputs, cin, c):
        super().__init__()
        self.aux = aux
        self.refinement = nn.ModuleDict({a: nn.Sequential(Block(cin, c, 0.1), Block(c, c, 0.1)) for a in aux})
        self.decoders = nn.ModuleDict({a: nn.Conv2d(c, outputs[a], 1) for a in aux})

    def forward(self, x, propagated=None):
        feats, preds = {}, {}
        for a in self.aux:
            inp = x
            if propagated is not None:
                up = F.interpolate(propagated[a], scale_factor=2, mode="bilinear", align_corners=False)
                inp = torch.cat([x, up], 1)
            feats[a] = self.refinement[a](inp)
            preds[a] = self.decoders[a](feats[a])
        return feats, preds


class FPM(nn.Module):
    def __init__(self, aux, c, grouping="reference"):
        super().__init__()
        self.aux, self.grouping = aux, grouping
        n = len(aux) * c
        self.non_linear = nn.Sequential(Block(n, n // 4, 0.1), Block(n // 4, n // 4, 0.1), nn.Conv2d(n // 4, n, 1))
        self.dimensionality_reduction = Block(n, c, 0.1)
        self.se = nn.ModuleDict({a: SE(c) for a in aux})

    def forward(self, feats):
        x = torch.cat([feats[a] for a in self.aux], 1)
        b, ch, h, w = x.shape
        n = len(self.aux)
        logits = self.non_linear(x)
        if self.grouping == "reference":
            # Softmax over groups of n adjacent channels of the task-major concatenation (the reference's quirk).
            mask = torch.softmax(logits.reshape(b, ch // n, n, h, w), dim=2).reshape(b, ch, h, w)
        else:
            # The paper's reading: softmax over the n tasks' copies of each channel.
            mask = torch.softmax(logits.reshape(b, n, ch // n, h, w), dim=1).reshape(b, ch, h, w)
        shared = self.dimensionality_reduction(mask * x)
        return {a: self.se[a](shared) + feats[a] for a in self.aux}


class Distillation(nn.Module):
    def __init__(self, tasks, aux, c):
        super().__init__()
        self.tasks, self.aux = tasks, aux
        self.self_attention = nn.ModuleDict(
            {t: nn.ModuleDict({a: SA(c) for a in aux if a != t}) for t in tasks})

    def forward(self, feats):
        out = {}
        for t in self.tasks:
            msgs = None
            for a in self.aux:
                if a != t:
                    m = self.self_attention[t][a](feats[a])
                    msgs = m if msgs is None else msgs + m
            out[t] = feats[t] + msgs
        return out


class Head(nn.Module):
    def __init__(self, c, k):
        super().__init__()
        self.last_layer = nn.Sequential(nn.Conv2d(c, c, 1), nn.BatchNorm2d(c, momentum=0.1), nn.ReLU(),
                                        nn.Conv2d(c, k, 1))

    def forward(self, xs):
        size = xs[0].shape[2:]
        x = torch.cat([xs[0]] + [F.interpolate(x, size=size, mode="bilinear", align_corners=False) for x in xs[1:]], 1)
        return self.last_layer(x)


class MTINet(nn.Module):
    def __init__(self, task_set, fpm_grouping="reference"):
        super().__init__()
        self.tasks, self.aux, outputs = TASK_SETS[task_set]
        c = [18, 36, 72, 144]
        self.backbone = HRNetSmallV2()
        for s in (3, 2, 1):
            setattr(self, f"fpm_scale_{s}", FPM(self.aux, c[s], fpm_grouping))
        for s in range(4):
            setattr(self, f"scale_{s}", InitialPrediction(self.aux, outputs, c[s] + (c[s + 1] if s < 3 else 0), c[s]))
        for s in range(4):
            setattr(self, f"distillation_scale_{s}", Distillation(self.tasks, self.aux, c[s]))
        self.heads = nn.ModuleDict({t: Head(sum(c), outputs[t]) for t in self.tasks})

    def forward(self, x):
        xs = self.backbone(x)
        feats, preds = [None] * 4, [None] * 4
        feats[3], preds[3] = self.scale_3(xs[3])
        for s in (2, 1, 0):
            propagated = getattr(self, f"fpm_scale_{s + 1}")(feats[s + 1])
            feats[s], preds[s] = getattr(self, f"scale_{s}")(xs[s], propagated)
        distilled = [getattr(self, f"distillation_scale_{s}")(feats[s]) for s in range(4)]
        out = {}
        for t in self.tasks:
            y = self.heads[t]([distilled[s][t] for s in range(4)])
            out[t] = F.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=False)
        return out, preds


class Fuse(nn.Module):
    """PAD-Net's stride-4 fuse: upsample, concatenate, 1x1 conv (bias) + BN + ReLU."""

    def __init__(self, c):
        super().__init__()
        self.last_layer = nn.Sequential(nn.Conv2d(c, c, 1), nn.BatchNorm2d(c, momentum=0.1), nn.ReLU())

    def forward(self, xs):
        size = xs[0].shape[2:]
        x = torch.cat([xs[0]] + [F.interpolate(x, size=size, mode="bilinear", align_corners=False) for x in xs[1:]], 1)
        return self.last_layer(x)


class SingleTask(nn.Module):
    def __init__(self, task_set, task):
        super().__init__()
        self.task = task
        self.backbone = HRNetSmallV2()
        self.decoder = Head(270, TASK_SETS[task_set][2][task])

    def forward(self, x):
        y = self.decoder(self.backbone(x))
        return {self.task: F.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=False)}, []


class Baseline(nn.Module):
    def __init__(self, task_set):
        super().__init__()
        self.tasks, _, outputs = TASK_SETS[task_set]
        self.backbone = HRNetSmallV2()
        self.decoders = nn.ModuleDict({t: Head(270, outputs[t]) for t in self.tasks})

    def forward(self, x):
        xs = self.backbone(x)
        return {t: F.interpolate(self.decoders[t](xs), size=x.shape[2:], mode="bilinear", align_corners=False)
                for t in self.tasks}, []


class PADNet(nn.Module):
    def __init__(self, task_set, width=256):
        super().__init__()
        self.tasks, self.aux, outputs = TASK_SETS[task_set]
        self.backbone = nn.Sequential(HRNetSmallV2(), Fuse(270))
        initial = nn.Module()
        initial.layers = nn.ModuleDict({a: nn.Sequential(Bottle(270, width // 4, 0.1), Bottle(width, width // 4, 0.1))
                                        for a in self.aux})
        initial.conv_out = nn.ModuleDict({a: nn.Conv2d(width, outputs[a], 1) for a in self.aux})
        self.initial_task_prediction_heads = initial
        self.multi_modal_distillation = Distillation(self.tasks, self.aux, width)
        self.heads = nn.ModuleDict({t: nn.Sequential(Bottle(width, width // 4, 0.1), Bottle(width, width // 4, 0.1),
                                                     nn.Conv2d(width, outputs[t], 1)) for t in self.tasks})

    def forward(self, x):
        shared = self.backbone(x)
        init = self.initial_task_prediction_heads
        feats = {a: init.layers[a](shared) for a in self.aux}
        preds = {a: init.conv_out[a](feats[a]) for a in self.aux}
        distilled = self.multi_modal_distillation(feats)
        return {t: F.interpolate(self.heads[t](distilled[t]), size=x.shape[2:], mode="bilinear", align_corners=False)
                for t in self.tasks}, [preds]


def build(model, task_set, task=None, fpm_grouping="reference"):
    if model == "mtinet":
        return MTINet(task_set, fpm_grouping)
    if model == "baseline":
        return Baseline(task_set)
    if model == "single_task":
        return SingleTask(task_set, task)
    if model == "padnet":
        return PADNet(task_set)
    raise SystemExit(f"unknown model {model}")


# ---------------------------------------------------------------- deterministic values shared with the C++ test
def formula_values(n, salt):
    """u in [0, 1) for flat indices 0..n-1: dyadic rationals from integer arithmetic, so the C++ test (uint64)
    computes exactly the same values: u_k = ((k * 2654435761 + salt * 40503 + 12345) mod 65536) / 65536."""
    k = torch.arange(n, dtype=torch.int64)
    return ((k * 2654435761 + salt * 40503 + 12345) % 65536).double() / 65536.0


def formula_tensor(name, shape, salt):
    """Values for state-dict entry `name` (PyTorch layout, flat index k), by kind of entry. Every value except the
    conv/linear weights' single division by sqrt(fan_in) is exact in binary, so no compiler contraction or
    rounding-order difference can change it."""
    if name.endswith("num_batches_tracked"):
        return torch.zeros(shape, dtype=torch.int64)
    u = formula_values(math.prod(shape), salt)
    if name.endswith("running_var"):
        vals = 1.0 + 0.5 * u
    elif len(shape) >= 2:
        vals = (2.0 * u - 1.0) / math.sqrt(math.prod(shape[1:]))
    elif name.endswith("weight"):  # BN scale
        vals = 1.0 + (2.0 * u - 1.0) / 16.0
    else:  # biases, running_mean
        vals = (2.0 * u - 1.0) / 16.0
    return vals.reshape(shape)


INPUT_SALT = 999983


def formula_input(shape):
    return (4.0 * formula_values(math.prod(shape), INPUT_SALT) - 2.0).reshape(shape)


def sample(t, target):
    """Every stride-th element of the flat PyTorch-layout tensor, stride = max(1, numel // target)."""
    flat = t.detach().reshape(-1)
    return flat[:: max(1, flat.numel() // target)].clone()


# ---------------------------------------------------------------- safetensors reading (for dump mode)
_NP_DTYPES = {"F64": torch.float64, "F32": torch.float32, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for key, e in header.items():
        if key == "__metadata__":
            continue
        b, end = e["data_offsets"]
        buf = bytearray(data[8 + n + b:8 + n + end])
        out[key] = torch.frombuffer(buf, dtype=_NP_DTYPES[e["dtype"]]).reshape(e["shape"]).clone() if end > b else \
            torch.zeros(e["shape"], dtype=_NP_DTYPES[e["dtype"]])
    return out


def check_manifest(model, task_set):
    path = os.path.join(FIXTURE_DIR, "reference", f"mtinet_{task_set}_state_dict.tsv")
    want = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, shape, _ = line.rstrip("\n").split("\t")
            want.append((name, [int(d) for d in shape.split(",")] if shape else []))
    have = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    if have != want:
        raise SystemExit(f"state_dict differs from {path}")


def loss_of(out, preds):
    total = 0
    for t in out:
        total = total + (out[t] * out[t]).mean()
    for scale in preds:
        for a in scale:
            total = total + (scale[a] * scale[a]).mean()
    return total


# Fixture name: (model, task set, input shape NCHW, samples per tensor, also measure PyTorch's f32-vs-f64 spread);
# every file stays under 250 KB.
FIXTURES = {
    "mtinet_model_nyud": ("mtinet", "nyud", [2, 3, 64, 96], 1000, True),
    "mtinet_model_nyud_aux": ("mtinet", "nyud_aux", [2, 3, 64, 96], 300, False),
    "mtinet_model_pascal": ("mtinet", "pascal", [2, 3, 64, 96], 200, False),
    "padnet_model_nyud_aux": ("padnet", "nyud_aux", [2, 3, 40, 56], 300, False),
}


def checked_names(model, task_set):
    """Parameters whose gradients and buffers whose updated values the fixture holds, spread over the model."""
    tasks, aux, _ = TASK_SETS[task_set]
    t0, tl, al = tasks[0], tasks[-1], aux[-1]
    if model == "padnet":
        grads = ["backbone.0.conv1.weight", "backbone.0.stage4.1.fuse_layers.0.3.0.weight",
                 "backbone.1.last_layer.0.weight",
                 f"initial_task_prediction_heads.layers.{t0}.0.downsample.0.weight",
                 f"initial_task_prediction_heads.layers.{al}.1.bn2.weight",
                 f"initial_task_prediction_heads.conv_out.{al}.bias",
                 f"multi_modal_distillation.self_attention.{tl}.{aux[0]}.attention.0.weight",
                 f"multi_modal_distillation.self_attention.{t0}.{al}.conv.weight",
                 f"heads.{t0}.1.conv2.weight", f"heads.{tl}.2.bias"]
        buffers = ["backbone.0.bn1.running_mean", "backbone.1.last_layer.1.running_var",
                   f"heads.{t0}.0.bn3.running_mean"]
        return grads, buffers
    grads = ["backbone.conv1.weight", "backbone.stage4.1.fuse_layers.0.3.0.weight",
             "backbone.stage3.2.branches.2.1.bn2.bias", "fpm_scale_3.non_linear.2.bias",
             f"fpm_scale_3.se.{al}.squeeze.2.bias", "fpm_scale_2.dimensionality_reduction.downsample.0.weight",
             f"scale_3.decoders.{t0}.bias", f"scale_0.refinement.{tl}.0.conv1.weight",
             f"distillation_scale_2.self_attention.{tl}.{aux[0]}.attention.0.weight",
             f"distillation_scale_0.self_attention.{t0}.{al}.conv.weight",
             f"heads.{t0}.last_layer.3.bias", f"heads.{tl}.last_layer.1.weight"]
    buffers = ["backbone.bn1.running_mean", "backbone.stage4.1.branches.3.1.bn2.running_var",
               f"heads.{t0}.last_layer.1.running_mean", "fpm_scale_3.non_linear.0.bn1.running_var"]
    return grads, buffers


GRAD_DOT_SALT = 777767


def grad_summary(g):
    """(L2 norm, scaled dot product) of a gradient in PyTorch layout, computed in float64 whatever g's dtype. The dot
    is with v_k = 2 u_k - 1 (formula_values with GRAD_DOT_SALT, flat PyTorch-layout index k), divided by rms(v): for
    a perturbation dg in a random direction, |dot(dg, v)| / rms(v) ~ ||dg||, so comparing dots relative to the
    gradient's norm measures the same thing as a relative L2 error, on a different projection than the norm."""
    flat = g.detach().double().reshape(-1)
    v = 2.0 * formula_values(flat.numel(), GRAD_DOT_SALT) - 1.0
    rms = float(v.norm()) / math.sqrt(flat.numel())
    return float(flat.norm()), float(flat @ v) / rms


# A gradient whose norm is below this is zero in exact arithmetic (e.g. the bias of a conv followed by a
# training-mode BatchNorm, which subtracts the batch mean and with it any per-channel constant): only rounding
# noise (~1e-17 in f64) is left of it, so it is checked against an absolute bound instead of relatively.
ZERO_GRAD_NORM = 1e-12


def summary_errors(ours, ref):
    """Errors of (norm, dot) summaries against reference ones: both relative to the reference gradient's norm."""
    scale = ref[0] if ref[0] >= ZERO_GRAD_NORM else 1.0
    return abs(ours[0] - ref[0]) / scale, abs(ours[1] - ref[1]) / scale


def rel_l2(a, b):
    return float((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-300))


def run_case(kind, task_set, shape, dtype, channels_last=False):
    """Formula weights and input (computed in f64, then cast to dtype): eval forward, train forward + backward.
    Returns the full eval outputs, train outputs, deep-supervision predictions, loss, input gradient, parameter
    gradients and buffers (PyTorch layout, keyed as in the fixture without the sampling). channels_last: the model
    and input in NHWC memory format (oneDNN's nhwc convolutions, as mtinet's f32 CPU path)."""
    model = build(kind, task_set).double()
    if kind == "mtinet":
        check_manifest(model, task_set)
    sd = model.state_dict()
    model.load_state_dict({k: formula_tensor(k, list(v.shape), salt) for salt, (k, v) in enumerate(sd.items())})
    model.to(dtype)
    x = formula_input(shape).to(dtype)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    res = {}
    model.eval()
    with torch.no_grad():
        out, preds = model(x)
    for t, y in out.items():
        res[f"eval.{t}"] = y
    model.train()
    out, preds = model(x)
    for t, y in out.items():
        res[f"train.{t}"] = y
    for s, scale in enumerate(preds):
        for a, y in scale.items():
            res[f"train.deep_supervision.{s}.{a}"] = y
    loss = loss_of(out, preds)
    loss.backward()
    res["train.loss"] = loss.detach().reshape(())
    res["grad.input"] = x.grad
    grads = {name: p.grad for name, p in model.named_parameters()}
    buffers = {name: b for name, b in model.named_buffers()}
    return {k: v.detach() for k, v in res.items()}, grads, buffers


def run_fixture(fixture):
    kind, task_set, shape, target, measure_f32 = FIXTURES[fixture]
    full, grads, buffers = run_case(kind, task_set, shape, torch.float64)
    res = {"sample_target": torch.tensor(target, dtype=torch.int64)}
    grad_names, buffer_names = checked_names(kind, task_set)
    for name in grad_names:
        full[f"grad.{name}"] = grads[name]
    for name in buffer_names:
        full[f"buffer.{name}"] = buffers[name]
    for key, t in full.items():
        res[key] = t if t.dim() == 0 else sample(t, target)
    # Every parameter's gradient, summarized (names in the metadata, in named_parameters order).
    names = list(grads)
    summaries = torch.tensor([grad_summary(grads[n]) for n in names], dtype=torch.float64)
    res["gradsum.norm"], res["gradsum.dot"] = summaries[:, 0].clone(), summaries[:, 1].clone()
    zero = [n for n, s in zip(names, summaries) if s[0] < ZERO_GRAD_NORM]
    nonzero = summaries[summaries[:, 0] >= ZERO_GRAD_NORM, 0]
    print(f"{fixture}: {len(names)} parameter gradients, {len(zero)} zero in exact arithmetic (largest such norm "
          f"{max([float(summaries[names.index(n), 0]) for n in zero], default=0):.1e}); smallest nonzero norm "
          f"{float(nonzero.min()):.1e}")
    meta = {"model": kind, "task_set": task_set, "input_shape": ",".join(map(str, shape)), "input_salt": INPUT_SALT,
            "loss": "sum of mean(y*y) over final and deep-supervision predictions",
            "sample": "flat[::max(1, numel // sample_target)] in PyTorch layout",
            "gradsum.names": ",".join(names), "gradsum.dot_salt": GRAD_DOT_SALT,
            "gradsum.zero_norm": ZERO_GRAD_NORM,
            "gradsum": "per parameter, norm = ||g||, dot = sum_k g_k v_k / rms(v), v_k = 2 formula_value(k, dot_salt)"
                       " - 1 over the flat PyTorch-layout gradient"}
    if measure_f32:
        measure_f32_spread(kind, task_set, shape, target, full, grads, names, summaries, res)
        meta["spread32"] = ("PyTorch's own float32 runs (formula weights and input cast to f32; the larger error of "
                            "its oneDNN NCHW, oneDNN channels_last and native CPU convolutions) against the f64 golden: relative L2 of each "
                            "sampled tensor; per parameter (gradsum.names order) the summary_errors of its (norm, "
                            "dot) summary and the relative L2 of its whole gradient (l2); for gradients zero in "
                            "exact arithmetic the f32 norm, |dot| and norm instead")
    write_safetensors(f"{fixture}.safetensors", res, meta)


def f32_errors(kind, task_set, shape, target, full64, grads64, names, summaries64, channels_last):
    """One float32 run of PyTorch against the f64 one: the relative L2 error of every sampled fixture tensor, and
    per parameter the summary_errors of its (norm, dot) summary and the relative L2 error of its whole gradient
    (for gradients zero in exact arithmetic: the f32 norm, |dot| and norm instead)."""
    full32, grads32, buffers32 = run_case(kind, task_set, shape, torch.float32, channels_last)
    sampled = {}
    for key, t in full64.items():
        if key.startswith("grad.") and key != "grad.input":
            t32 = grads32[key[len("grad."):]]
        elif key.startswith("buffer."):
            t32 = buffers32[key[len("buffer."):]]
        else:
            t32 = full32[key]
        sampled[key] = rel_l2(t32, t) if t.dim() == 0 else rel_l2(sample(t32, target), sample(t, target))
    per_param = []
    for n, s64 in zip(names, summaries64.tolist()):
        s32 = grad_summary(grads32[n])
        if s64[0] < ZERO_GRAD_NORM:
            per_param.append((s32[0], abs(s32[1]), s32[0]))
        else:
            per_param.append(summary_errors(s32, s64) + (rel_l2(grads32[n], grads64[n]),))
    return sampled, torch.tensor(per_param, dtype=torch.float64)


# PyTorch's CPU float32 back ends that round differently: (label, oneDNN on, channels_last).
F32_BACK_ENDS = (("oneDNN", True, False), ("native", False, False), ("oneDNN channels_last", True, True))


def measure_f32_spread(kind, task_set, shape, target, full64, grads64, names, summaries64, res):
    """PyTorch's own f32-vs-f64 spread, as the largest over its CPU float32 back ends: oneDNN (mkldnn) convolutions
    on NCHW (blocked internally) and on channels_last (nhwc, as mtinet's oneDNN path), and its native im2col + GEMM
    ones. They round differently, and in this ill-conditioned train-mode network (ReLU inputs within rounding of
    zero flip, train-mode BatchNorm amplifies) their errors differ per quantity by 5-20x: any one of them alone
    understates what f32 legitimately gives."""
    runs = []
    saved = torch.backends.mkldnn.enabled
    for _, mkldnn, channels_last in F32_BACK_ENDS:
        torch.backends.mkldnn.enabled = mkldnn
        runs.append(f32_errors(kind, task_set, shape, target, full64, grads64, names, summaries64, channels_last))
    torch.backends.mkldnn.enabled = saved
    for key in full64:
        res[f"spread32.{key}"] = torch.tensor(max(r[0][key] for r in runs), dtype=torch.float64)
    per_param = runs[0][1]
    for r in runs[1:]:
        per_param = torch.maximum(per_param, r[1])
    res["spread32.gradsum.norm"] = per_param[:, 0].clone()
    res["spread32.gradsum.dot"] = per_param[:, 1].clone()
    # The whole gradient's relative L2 error: the stable per-tensor yardstick (norm and dot errors are single
    # projections of the error and can be near zero by chance).
    res["spread32.gradsum.l2"] = per_param[:, 2].clone()
    for (label, _, _), (sampled, pp) in zip(F32_BACK_ENDS, runs):
        out = [v for k, v in sampled.items() if k.startswith(("eval.", "train."))]
        nz = summaries64[:, 0] >= ZERO_GRAD_NORM
        print(f"  PyTorch f32 ({label}) vs f64: sampled outputs max rel L2 {max(out):.2e}; gradients (nonzero) "
              + "; ".join(f"{lab} max {float(pp[nz, c].max()):.2e} median {float(pp[nz, c].median()):.2e}"
                          for c, lab in enumerate(("norm", "dot", "rel L2")))
              + f"; zero gradients' f32 norm max {float(pp[~nz, 0].max()) if (~nz).any() else 0.0:.2e}")


def run_dump(model_kind, task_set, task, fpm_grouping, weights, inp, out_path):
    model = build(model_kind, task_set, task, fpm_grouping).double()
    model.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in read_safetensors(weights).items()})
    x = read_safetensors(inp)["input"].double().requires_grad_(True)
    model.train()
    out, preds = model(x)
    loss = loss_of(out, preds)
    loss.backward()
    res = {f"out.{t}": y for t, y in out.items()}
    for s, scale in enumerate(preds):
        for a, y in scale.items():
            res[f"deep_supervision.{s}.{a}"] = y
    res["loss"] = loss.detach().reshape(())
    res["grad.input"] = x.grad
    for name, p in model.named_parameters():
        res[f"grad.{name}"] = p.grad
    write_safetensors(os.path.abspath(out_path), res, {"task_set": task_set})


def compare(ours_path, reference_path, tolerance=1e-8):
    """Relative L2 error of every tensor of ours against the reference; gradients that are zero up to rounding on
    both sides (e.g. of a conv bias followed by a training-mode BatchNorm) are reported but not judged."""
    ours, ref = read_safetensors(ours_path), read_safetensors(reference_path)
    if set(ours) != set(ref):
        raise SystemExit(f"key sets differ: only ours {sorted(set(ours) - set(ref))[:10]}, "
                         f"only reference {sorted(set(ref) - set(ours))[:10]}")
    worst, failed = (0.0, None), []
    for key in sorted(ref):
        a, b = ours[key].double(), ref[key].double()
        if a.shape != b.shape:
            failed.append(f"{key}: shape {list(a.shape)} vs {list(b.shape)}")
            continue
        if float(b.norm()) < 1e-12 and float(a.norm()) < 1e-12:
            continue
        err = float((a - b).norm() / b.norm().clamp_min(1e-300))
        worst = max(worst, (err, key))
        if not err <= tolerance:
            failed.append(f"{key}: relative L2 {err:.3e}")
    print(f"compared {len(ref)} tensors; worst relative L2 {worst[0]:.3e} ({worst[1]})")
    for line in failed:
        print("FAIL", line)
    return not failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="nyud", choices=sorted(TASK_SETS), help="task set of dump mode")
    ap.add_argument("--model", default="mtinet", choices=["mtinet", "baseline", "single_task", "padnet"],
                    help="dump mode: which network")
    ap.add_argument("--task", help="dump mode, single_task: the task")
    ap.add_argument("--fpm-grouping", default="reference", choices=["reference", "paper"],
                    help="dump mode, mtinet: the FPM mask grouping (mtinet's fpm_grouping)")
    ap.add_argument("--weights")
    ap.add_argument("--input")
    ap.add_argument("--out")
    ap.add_argument("--only", choices=sorted(FIXTURES), help="fixture mode: regenerate just this fixture")
    ap.add_argument("--compare", metavar="OURS", help="dump mode: compare OURS (from mtinet's write_golden_dump) "
                    "with --out, to 1e-8 relative L2; exit status 1 on failure")
    args = ap.parse_args()
    torch.set_grad_enabled(True)
    if args.weights or args.input or args.out:
        if not (args.weights and args.input and args.out):
            raise SystemExit("dump mode needs --weights, --input and --out")
        run_dump(args.model, args.tasks, args.task, args.fpm_grouping, args.weights, args.input, args.out)
        if args.compare and not compare(args.compare, args.out):
            sys.exit(1)
    else:
        for fixture in [args.only] if args.only else FIXTURES:
            run_fixture(fixture)


if __name__ == "__main__":
    main()
