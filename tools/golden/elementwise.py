"""Golden values for the element-wise ops and reductions: relu, sigmoid, add, mul, sum, mean, argmax over channels.

Inputs are NCHW float64; each op's output and input gradients (for a fixed upstream gradient) are stored.
"""
import torch

from common import rand, seeded, write_safetensors

g = seeded(11)
a = rand((2, 3, 4, 5), g, -3.0, 3.0)
b = rand((2, 3, 4, 5), g, -3.0, 3.0)
gy = rand((2, 3, 4, 5), g)
out = {"a": a, "b": b, "gy": gy}


def run(name, fn, inputs, upstream):
    xs = [x.clone().requires_grad_(True) for x in inputs]
    y = fn(*xs)
    y.backward(upstream)
    out[name + ".y"] = y.detach()
    for i, x in enumerate(xs):
        out[f"{name}.g{i}"] = x.grad


run("relu", torch.relu, [a], gy)
run("sigmoid", torch.sigmoid, [a], gy)
run("add", torch.add, [a, b], gy)
run("mul", torch.mul, [a, b], gy)
run("sum", torch.sum, [a], torch.tensor(0.75, dtype=torch.float64))
run("mean", torch.mean, [a], torch.tensor(0.75, dtype=torch.float64))
out["argmax"] = torch.argmax(a, dim=1)  # over channels: {N, H, W}
write_safetensors("elementwise.safetensors", out)
