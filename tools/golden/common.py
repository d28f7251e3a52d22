"""Shared helpers for the PyTorch golden-fixture scripts (development only; Debian's python3-torch).

Each tools/golden/<family>.py builds small deterministic inputs, runs the op in PyTorch in float64 and writes
inputs, outputs and input gradients to tests/fixtures/<family>.safetensors with write_safetensors() below.
Tensors are stored in PyTorch layouts (NCHW activations, OIHW weights); the C++ tests convert them.
"""
import json
import os
import struct

import torch

FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures")

_DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.uint8: "U8",
}


def write_safetensors(name, tensors, metadata=None):
    """Writes {key: tensor} to tests/fixtures/<name> in the safetensors format (keys sorted)."""
    header = {}
    blobs = []
    offset = 0
    for key in sorted(tensors):
        t = tensors[key].detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[key] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)  # the format recommends 8-byte alignment of the buffer
    path = os.path.join(FIXTURE_DIR, name)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
    print(f"wrote {path}: {len(tensors)} tensors, {offset} bytes of data")


def seeded(seed):
    """A torch.Generator with a fixed seed, so fixtures regenerate identically."""
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def rand(shape, gen, lo=-1.0, hi=1.0):
    return (torch.rand(shape, generator=gen, dtype=torch.float64) * (hi - lo) + lo)


def record_unary(out, name, x, y, gen):
    """Backpropagates a random upstream gradient through y = op(x) and stores x, y, gy and gx under name/."""
    gy = rand(y.shape, gen)
    y.backward(gy)
    out[f"{name}/x"] = x
    out[f"{name}/y"] = y
    out[f"{name}/gy"] = gy
    out[f"{name}/gx"] = x.grad
