"""Goldens for concat_channels / slice_channels: torch.cat(dim=1) and channel slicing of NCHW tensors.

For each case: the inputs, a random upstream gradient `gy`, the output `y` and the input gradients (autograd of
y.backward(gy)). Written to tests/fixtures/channels.safetensors; the C++ test converts NCHW -> NHWC.
"""
import torch

from common import rand, record_unary, seeded, write_safetensors


def concat_case(name, channel_counts, gen, out):
    xs = [rand((2, c, 3, 4), gen).requires_grad_() for c in channel_counts]
    y = torch.cat(xs, dim=1)
    gy = rand(y.shape, gen)
    y.backward(gy)
    out[f"{name}/y"] = y
    out[f"{name}/gy"] = gy
    for k, x in enumerate(xs):
        out[f"{name}/x{k}"] = x
        out[f"{name}/gx{k}"] = x.grad


def slice_case(name, begin, end, gen, out):
    x = rand((2, 7, 3, 5), gen).requires_grad_()
    record_unary(out, name, x, x[:, begin:end], gen)


def main():
    gen = seeded(7)
    out = {}
    concat_case("concat1", [3], gen, out)
    concat_case("concat2", [3, 1], gen, out)
    concat_case("concat3", [2, 5, 1], gen, out)
    slice_case("slice_start", 0, 3, gen, out)
    slice_case("slice_middle", 2, 5, gen, out)
    slice_case("slice_end", 4, 7, gen, out)
    write_safetensors("channels.safetensors", out)


if __name__ == "__main__":
    main()
