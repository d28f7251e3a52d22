#!/usr/bin/env python3
"""Stock PyTorch reads what mtinet writes (issue 11): run by ctest through tests/python/torch_interop.sh, which skips
it when no python3 with torch is found.

1. A checkpoint that `mtinet train` wrote for NYUD MTI-Net (HRNet-W18-small-v2, semseg + depth), converted with
   `mtinet convert` to .pth, loads with torch.load(weights_only=True), has exactly the names, order, shapes and dtypes
   of the official reference state_dict (tests/fixtures/reference/mtinet_nyud_state_dict.tsv), loads strictly into a
   module with that state_dict, and holds the very values of the safetensors file.
2. Every dtype mtinet writes (f32, f64, f16, bf16, i64, i32, u8; 0-d and empty tensors) survives safetensors -> .pth
   bit for bit, in zip entries that are stored, CRC-correct and 64-byte aligned like torch's own.
3. Strided views and bool tensors that torch saved (zip and legacy formats) come back through .pth -> safetensors
   -> .pth with their values (bool as uint8: mtinet has no bool dtype).
4. `mtinet summary --weights` names the model and tasks the checkpoint was trained as.

usage: torch_interop.py MTINET_BINARY SOURCE_DIR
"""
import collections
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

import torch

MTINET, SOURCE = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="mtinet_torch_interop_")
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def mtinet(*args):
    r = subprocess.run([MTINET, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("mtinet %s failed (%d):\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


ST_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
             "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}


def read_safetensors(path):
    """name -> tensor, in file order; parsed here so the check does not depend on mtinet's reader."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = collections.OrderedDict()
    for name, h in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, e = h["data_offsets"]
        raw = bytearray(data[8 + n + b:8 + n + e])
        t = torch.frombuffer(raw, dtype=ST_DTYPES[h["dtype"]]) if raw else torch.empty(0, dtype=ST_DTYPES[h["dtype"]])
        out[name] = t.reshape(h["shape"])
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    code = {v: k for k, v in ST_DTYPES.items()}
    for name, t in tensors.items():
        raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": code[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def same_bits(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return a.contiguous().reshape(-1).view(torch.uint8).tolist() == b.contiguous().reshape(-1).view(torch.uint8).tolist()


def reference_entries(name):
    rows = []
    with open(os.path.join(SOURCE, "tests/fixtures/reference", name)) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            key, shape, dtype = line.rstrip("\n").split("\t")
            rows.append((key, tuple(int(d) for d in shape.split(",")) if shape else (), ST_DTYPES[dtype]))
    return rows


def reference_shaped_module(rows):
    """A module whose state_dict has exactly the reference's names, shapes and dtypes (BN statistics as buffers)."""
    root = torch.nn.Module()
    for key, shape, dtype in rows:
        *path, leaf = key.split(".")
        m = root
        for p in path:
            if p not in m._modules:
                m.add_module(p, torch.nn.Module())
            m = m._modules[p]
        value = torch.zeros(shape, dtype=dtype)
        if leaf in ("running_mean", "running_var", "num_batches_tracked"):
            m.register_buffer(leaf, value)
        else:
            m.register_parameter(leaf, torch.nn.Parameter(value, requires_grad=dtype.is_floating_point))
    return root


def check_zip_layout(path, what):
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        check(z.testzip() is None, what + ": every entry's CRC-32 is right (zipfile.testzip)")
        aligned = True
        for info in z.infolist():
            f.seek(info.header_offset + 26)
            name_len, extra_len = struct.unpack("<HH", f.read(4))
            start = info.header_offset + 30 + name_len + extra_len
            aligned &= info.compress_type == zipfile.ZIP_STORED and ("/data/" not in info.filename or start % 64 == 0)
        check(aligned, what + ": entries stored, storages start on 64-byte boundaries")
        names = z.namelist()
        check(names[0].endswith("/data.pkl") and any(n.endswith("/version") for n in names),
              what + ": data.pkl first, version record present")


def trained_checkpoint():
    data, run = os.path.join(TMP, "data"), os.path.join(TMP, "run")
    mtinet("synth", "--out", data, "--n", "5", "--size", "64x64", "--seed", "2")
    mtinet("train", "--config", os.path.join(SOURCE, "train/configs/synthetic_demo.json"), "--device", "cpu",
           "--set", "data.root=" + data, "--set", "data.size=[64,64]", "--set", "data.threads=1",
           "--set", "checkpoint.dir=" + run, "--set", "epochs=1", "--set", "batch_size=2", "--set", "max_steps=1",
           "--set", "eval_every=0", "--set", "precise_bn_batches=0", "--set", "schedule.warmup_iters=0")
    found = sorted(glob.glob(os.path.join(run, "*.weights.safetensors")))
    if not found:
        sys.exit("mtinet train wrote no weights in " + run)
    return found[-1]


def test_trained_model_loads_strictly():
    weights = trained_checkpoint()
    pth = os.path.join(TMP, "mtinet_nyud.pth")
    print(mtinet("convert", weights, pth).rstrip())
    sd = torch.load(pth, map_location="cpu", weights_only=True)
    check(isinstance(sd, collections.OrderedDict), "torch.load(weights_only=True) gives an OrderedDict")
    rows = reference_entries("mtinet_nyud_state_dict.tsv")
    ours = [(k, tuple(v.shape), v.dtype) for k, v in sd.items()]
    check(ours == rows, "names, order, shapes and dtypes equal the reference state_dict (%d entries)" % len(rows))
    model = reference_shaped_module(rows)
    result = model.load_state_dict(sd, strict=True)
    check(not result.missing_keys and not result.unexpected_keys, "load_state_dict(strict=True) into the reference shape")
    st = read_safetensors(weights)
    check(list(st) == list(sd), "the .pth holds the safetensors' tensors in their order")
    check(all(same_bits(sd[k], st[k]) for k in st), "every value equals the safetensors file's, bit for bit")
    check(all(same_bits(v, sd[k]) for k, v in model.state_dict().items()), "the loaded module holds those values")
    check(all(not v.requires_grad for v in sd.values()), "tensors come back without requires_grad")
    summary = mtinet("summary", "--weights", weights)
    check("origin:  trained as MTI-Net HRNet-W18-small-v2 NYUD tasks semseg,depth by mtinet" in summary,
          "summary --weights names the model it was trained as")


def test_every_dtype():
    g = torch.Generator().manual_seed(7)
    zoo = collections.OrderedDict([
        ("f32", torch.tensor([[0.5, -1.75, 3.4e38], [1.4e-45, -0.0, float("nan")]], dtype=torch.float32)),
        ("f64", torch.tensor([1.0 / 3, -1e-300, float("inf"), -float("inf")], dtype=torch.float64)),
        ("f16", torch.tensor([[1.0, -2.5], [65504.0, 6e-8]], dtype=torch.float16)),
        ("bf16", torch.randn(3, 5, generator=g).to(torch.bfloat16)),
        ("i64", torch.tensor([-(2 ** 62), 7, 2 ** 40 + 3], dtype=torch.int64)),
        ("i32", torch.tensor([[-5, 2 ** 31 - 1, -(2 ** 31)]], dtype=torch.int32)),
        ("u8", torch.arange(0, 256, 51, dtype=torch.uint8)),
        ("scalar", torch.tensor(42, dtype=torch.int64)),
        ("empty", torch.empty(2, 0, 3)),
        ("conv.weight", torch.randn(8, 3, 3, 3, generator=g)),
    ])
    src, pth = os.path.join(TMP, "zoo.safetensors"), os.path.join(TMP, "zoo.pth")
    write_safetensors(src, zoo)
    mtinet("convert", src, pth)
    back = torch.load(pth, map_location="cpu", weights_only=True)
    check(list(back) == list(zoo), "dtype zoo: names in order")
    for k, v in zoo.items():
        check(same_bits(back[k], v), "dtype zoo: %s (%s %s) bit for bit" % (k, v.dtype, list(v.shape)))
    check(back["empty"].stride() == torch.empty(2, 0, 3).stride(), "dtype zoo: torch's strides for an empty tensor")
    check_zip_layout(pth, "dtype zoo .pth")


def test_torch_views_round_trip():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 2 - 3
    sd = collections.OrderedDict([
        ("transposed", base.t()), ("slice", base[1:3, ::2]), ("expanded", torch.tensor([1.5, -2.0]).expand(3, 2)),
        ("mask", torch.tensor([[True, False, True], [False, False, True]])),
        ("long", torch.tensor([3, -1], dtype=torch.int64)),
    ])
    for fmt in ("zip", "legacy"):
        original = os.path.join(TMP, "views_%s.pth" % fmt)
        torch.save(sd, original, _use_new_zipfile_serialization=(fmt == "zip"))
        st, again = os.path.join(TMP, "views_%s.safetensors" % fmt), os.path.join(TMP, "views_%s_again.pt" % fmt)
        mtinet("convert", original, st)
        mtinet("convert", st, again)
        back = torch.load(again, map_location="cpu", weights_only=True)
        ok = list(back) == list(sd)
        for k, v in sd.items():
            want = v.to(torch.uint8) if v.dtype == torch.bool else v.contiguous()
            ok &= same_bits(back[k], want) and back[k].is_contiguous()
        check(ok, "torch %s views and bool -> safetensors -> .pth keep their values (bool as uint8)" % fmt)


if __name__ == "__main__":
    print("torch %s; mtinet %s" % (torch.__version__, MTINET))
    try:
        test_every_dtype()
        test_torch_views_round_trip()
        test_trained_model_loads_strictly()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    if failures:
        sys.exit("%d checks failed:\n  %s" % (len(failures), "\n  ".join(failures)))
    print("all checks passed")
