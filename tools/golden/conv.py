"""Golden values for conv2d and linear (tests/test_conv.cpp): forward outputs and the gradients of x, weight and
bias for a fixed output gradient, computed by PyTorch in float64.

Keys are "<case>.<tensor>": x (NCHW / {N,I}), w (OIHW / {O,I}), b (optional), gy (the output gradient), y, gx, gw,
gb. Each conv case's stride/padding/dilation is in the metadata as "<case>": "stride,padding,dilation".
Run with Debian's python3-torch: /usr/bin/python3 tools/golden/conv.py
"""
import torch
import torch.nn.functional as F

from common import rand, seeded, write_safetensors

# name: (x NCHW shape, w OIHW shape, bias?, stride, padding, dilation)
CONV_CASES = {
    "k3s1p1": ((2, 3, 7, 6), (4, 3, 3, 3), True, 1, 1, 1),
    "k3s2p1": ((2, 3, 9, 8), (5, 3, 3, 3), True, 2, 1, 1),
    "k1": ((2, 6, 5, 4), (3, 6, 1, 1), True, 1, 0, 1),
    "k3d2": ((1, 2, 8, 7), (3, 2, 3, 3), False, 1, 2, 2),
    "k5x3s3": ((1, 3, 11, 9), (2, 3, 5, 3), True, 3, 1, 1),
    "k1s2": ((2, 4, 7, 5), (3, 4, 1, 1), False, 2, 0, 1),
}


def main():
    gen = seeded(20261127)
    tensors, meta = {}, {}
    for name, (xs, ws, has_bias, stride, padding, dilation) in CONV_CASES.items():
        x = rand(xs, gen).requires_grad_()
        w = rand(ws, gen, -0.5, 0.5).requires_grad_()
        b = rand((ws[0],), gen).requires_grad_() if has_bias else None
        y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
        gy = rand(y.shape, gen)
        y.backward(gy)
        out = {"x": x, "w": w, "gy": gy, "y": y, "gx": x.grad, "gw": w.grad}
        if has_bias:
            out.update({"b": b, "gb": b.grad})
        tensors.update({f"{name}.{k}": v for k, v in out.items()})
        meta[name] = f"{stride},{padding},{dilation}"

    x = rand((5, 7), gen).requires_grad_()
    w = rand((4, 7), gen, -0.5, 0.5).requires_grad_()
    b = rand((4,), gen).requires_grad_()
    y = F.linear(x, w, b)
    gy = rand(y.shape, gen)
    y.backward(gy)
    out = {"x": x, "w": w, "b": b, "gy": gy, "y": y, "gx": x.grad, "gw": w.grad, "gb": b.grad}
    tensors.update({f"linear.{k}": v for k, v in out.items()})

    write_safetensors("conv.safetensors", tensors, meta)


if __name__ == "__main__":
    main()
