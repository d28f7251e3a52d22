"""Writes tests/fixtures/torch/: small torch.save() files in both formats (development only; Debian's
python3-torch), the values they hold in a plain-text form the C++ test reads, and hostile or corrupt files.

expected.txt has one line per tensor of each file's state_dict (as core/torch_file.h's torch_state_dict() finds it):
    <file> <name> <dtype> <ndim> <dims...> <values...>
floats as float.hex() (exact), integers and bools (0/1) in decimal, f16/bf16 as the exact value of each element.
"""
import collections
import os
import struct
import zipfile

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "torch")

_DTYPE_NAMES = {
    torch.float32: "f32", torch.float64: "f64", torch.float16: "f16", torch.bfloat16: "bf16",
    torch.int64: "i64", torch.int32: "i32", torch.uint8: "u8", torch.bool: "bool",
}


def path(name):
    return os.path.join(OUT, name)


def dtype_samples():
    """Every supported dtype with values that stress each one, plus views saved as views (not copies)."""
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3.0
    return {
        "f32": torch.tensor([[0.5, -1.75, 3.0e38], [1e-45, -0.0, 1.0 / 3.0]], dtype=torch.float32),
        "f64": torch.tensor([1.0 / 3.0, -2.5e-300, 1e300, 0.1], dtype=torch.float64),
        "f16": torch.tensor([[1.0, -2.5], [65504.0, 6e-8]], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -3.140625, 3.0e38, 1e-38], dtype=torch.bfloat16),
        "i64": torch.tensor([-(2 ** 62), 7, 0, 2 ** 40 + 3], dtype=torch.int64),
        "i32": torch.tensor([[-5, 2 ** 31 - 1, -(2 ** 31)]], dtype=torch.int32),
        "u8": torch.arange(0, 256, 51, dtype=torch.uint8),
        "bool": torch.tensor([[True, False, True], [False, False, True]]),
        "scalar": torch.tensor(42.0, dtype=torch.float64),
        "empty": torch.zeros((2, 0, 3), dtype=torch.float32),
        # Views: 'base', its transpose and a slice with a storage offset share one storage in the file.
        "base": base,
        "transposed": base.t(),
        "slice": base[1:3, 2:5],
        "strided": base[::2, 1::3],
        "expanded": torch.tensor([1.5, -2.0]).expand(3, 2),  # stride 0: more elements than the storage
    }


class TinyNet(torch.nn.Module):
    """Conv2d + BatchNorm2d: a state_dict with weights, running stats and num_batches_tracked (int64)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(3)

    def forward(self, x):
        return self.bn(self.conv(x))


def tiny_net():
    torch.manual_seed(11)
    net = TinyNet()
    with torch.no_grad():
        net.bn.running_mean.copy_(torch.tensor([0.25, -0.5, 1.0]))
        net.bn.running_var.copy_(torch.tensor([1.5, 2.0, 0.75]))
        net.bn.weight.copy_(torch.tensor([1.0, 0.5, 2.0]))
        net.bn.num_batches_tracked.fill_(7)
    return net


def format_values(t):
    t = t.detach().contiguous().reshape(-1)
    if t.dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        return [float(v).hex() for v in t.double().tolist()]
    return [str(int(v)) for v in t.tolist()]


def expected_lines(file, state_dict):
    lines = []
    for name, t in state_dict.items():
        dims = [str(d) for d in t.shape]
        lines.append(" ".join([file, name, _DTYPE_NAMES[t.dtype], str(t.dim())] + dims + format_values(t)))
    return lines


def write_zip(name, entries, zip64=False):
    """A stored (uncompressed) zip of (name, bytes) entries, optionally with zip64 records for every size and
    offset (as torch writes them for files over 4 GB), so the zip64 path is tested on a small file."""
    out = bytearray()
    central = bytearray()
    for entry_name, data in entries:
        n = entry_name.encode()
        crc = zipfile.crc32(data) & 0xFFFFFFFF
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, len(data), len(data), len(n), 0) + n + data
        if zip64:
            extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
            sizes = (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        else:
            extra = b""
            sizes = (len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, sizes[0], sizes[1], len(n),
                               len(extra), 0, 0, 0, 0, sizes[2]) + n + extra
    cd_offset = len(out)
    out += central
    count = len(entries)
    if zip64:
        end64 = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(central), cd_offset)
        out += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), cd_offset, 0)
    with open(path(name), "wb") as f:
        f.write(out)


def zip_entries(name):
    with zipfile.ZipFile(path(name)) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = []

    samples = dtype_samples()
    torch.save(samples, path("zip_dtypes.pth"))
    torch.save(samples, path("legacy_dtypes.pth"), _use_new_zipfile_serialization=False)
    lines += expected_lines("zip_dtypes.pth", samples) + expected_lines("legacy_dtypes.pth", samples)

    net = tiny_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net.eval()  # running stats and num_batches_tracked stay as set
    net(torch.ones(1, 2, 4, 4)).sum().backward()
    opt.step()  # momentum buffers: tensors outside the state_dict
    sd = net.state_dict()  # an OrderedDict with a '_metadata' attribute (pickled with BUILD)
    torch.save({"model": sd, "optimizer": opt.state_dict(), "epoch": 3, "best_loss": 0.125, "arch": "tiny"},
               path("checkpoint.pth.tar"))
    lines += expected_lines("checkpoint.pth.tar", sd)

    dp = torch.nn.DataParallel(net)  # on the CPU it only wraps: names gain 'module.'
    torch.save({"state_dict": dp.state_dict(), "epoch": 5}, path("dataparallel_legacy.pth"),
               _use_new_zipfile_serialization=False)
    lines += expected_lines("dataparallel_legacy.pth", sd)

    torch.save(sd, path("model_zip64.pth"))
    write_zip("model_zip64.pth", zip_entries("model_zip64.pth"), zip64=True)
    lines += expected_lines("model_zip64.pth", sd)

    with open(path("expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    # Hostile and corrupt files. The pickles are written byte by byte: nothing here is ever unpickled.
    small = {"w": torch.tensor([1.0, 2.0, 3.0])}
    torch.save(small, path("small.pth"))
    entries = zip_entries("small.pth")
    pkl = [e for e in entries if e[0].endswith("/data.pkl")][0][0]
    prefix = pkl[: -len("data.pkl")]
    # os.system('true'): GLOBAL 'os system', BINUNICODE 'true', TUPLE1, REDUCE, STOP.
    evil = b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R."
    write_zip("evil_os_system.pth", [(prefix + "data.pkl", evil), (prefix + "version", b"3\n")])
    # BINGET 7 with an empty memo.
    write_zip("memo_out_of_range.pth", [(prefix + "data.pkl", b"\x80\x02h\x07."), (prefix + "version", b"3\n")])
    # The storage entry is 4 bytes (one float) short of the 3 floats its record declares.
    write_zip("wrong_storage_size.pth", [(n, d[:-4] if n == prefix + "data/0" else d) for n, d in entries])
    with open(path("zip_dtypes.pth"), "rb") as f:
        whole = f.read()
    with open(path("truncated.pth"), "wb") as f:
        f.write(whole[: len(whole) * 2 // 3])
    os.remove(path("small.pth"))

    total = sum(os.path.getsize(path(n)) for n in os.listdir(OUT))
    print(f"wrote {OUT}: {len(os.listdir(OUT))} files, {total} bytes, {len(lines)} expected tensors")


if __name__ == "__main__":
    main()
