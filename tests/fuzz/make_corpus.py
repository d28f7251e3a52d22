#!/usr/bin/env python3
"""Writes the committed seed corpus (tests/fuzz/corpus/<target>/) and the regression inputs for the known defects
(tests/fuzz/regressions/<target>/, tests/fuzz/open/<target>/). Needs only the standard library, plus cjpeg
(libjpeg-turbo-progs) for the JPEG seeds. The repo's NumPy-written .npy fixtures and train/configs are copied in.

Seeds are small valid files that reach each parser's main paths, plus a few broken ones; the fuzzer mutates them.
Rerun after changing a generator here: python3 tests/fuzz/make_corpus.py (it rewrites only the files it makes).
"""
import json
import os
import struct
import subprocess
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "tests", "fuzz")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")


def write(kind, target, name, data):
    d = os.path.join(FUZZ, kind, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def copy(kind, target, src, name=None):
    write(kind, target, name or os.path.basename(src), open(src, "rb").read())


# ---------------------------------------------------------------- .npy

def npy(descr, shape, data, fortran=False, version=1):
    """A .npy file as NumPy writes it: the header dict padded with spaces so the data starts 64-byte aligned."""
    dims = "".join(f"{d}, " for d in shape).rstrip(" ") if len(shape) == 1 else ", ".join(str(d) for d in shape)
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (descr, fortran, dims)
    len_bytes = 2 if version == 1 else 4
    pad = (64 - (8 + len_bytes + len(header) + 1) % 64) % 64
    header = (header + " " * pad + "\n").encode()
    length = struct.pack("<H" if version == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header + data


def npy_raw(header, data=b""):
    """A version 1.0 .npy with the header text as given (no padding), for malformed headers."""
    header = header.encode()
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def make_npy():
    for name in sorted(os.listdir(os.path.join(FIXTURES, "npy"))):  # written by NumPy (tools/golden/npy_samples.py)
        copy("corpus", "npy", os.path.join(FIXTURES, "npy", name))
    write("corpus", "npy", "v2_i2_be_f_2x3.npy", npy(">i2", (2, 3), struct.pack(">6h", *range(-3, 3)), True, 2))
    write("corpus", "npy", "v3_b1_4.npy", npy("|b1", (4,), bytes([1, 0, 0, 1]), version=3))
    write("corpus", "npy", "f2_le_c_2x2.npy", npy("<f2", (2, 2), struct.pack("<4e", 0.5, -1, 65504, 6e-8)))
    write("corpus", "npy", "i1_c_2x1x2.npy", npy("|i1", (2, 1, 2), struct.pack("4b", -128, -1, 0, 127)))
    write("corpus", "npy", "u4_le_f_2x2.npy", npy("<u4", (2, 2), struct.pack("<4I", 0, 1, 2**32 - 1, 7), True))
    write("corpus", "npy", "f8_zero_0x3.npy", npy("<f8", (0, 3), b""))
    # Broken: each fails one check.
    write("corpus", "npy", "bad_magic.npy", b"\x93NUMPX\x01\x00\x00\x00")
    write("corpus", "npy", "bad_version.npy", npy("<f4", (1,), b"\0" * 4).replace(b"\x01\x00", b"\x07\x00", 1))
    write("corpus", "npy", "data_short.npy", npy("<f4", (2, 3), b"\0" * 20))
    write("corpus", "npy", "unknown_key.npy", npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
                                                      "'extra': 1}\n", b"\0" * 4))
    write("corpus", "npy", "structured.npy", npy_raw("{'descr': [('a', '<f4')], 'fortran_order': False, "
                                                     "'shape': (1,), }\n", b"\0" * 4))
    write("corpus", "npy", "uint64.npy", npy("<u8", (1,), b"\0" * 8))
    write("corpus", "npy", "shape_not_tuple.npy", npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': 3}\n"))

    # Regressions. Shape (65536, 2**48 + 1), Fortran order: 65536 * (2**48 + 1) wraps to 65536 elements in int64,
    # which 65536 bytes of u1 data matched, then the Fortran index ran gigabytes past the buffer (SIGSEGV).
    write("regressions", "npy", "fortran_numel_overflow.npy", npy("|u1", (65536, 2**48 + 1), b"\0" * 65536, True))
    # The same wrap in C order returned a tensor whose shape claimed 2**64 elements over 4 bytes of storage.
    write("regressions", "npy", "c_numel_overflow.npy", npy("|u1", (4, 2**62 + 1), b"\0" * 4))
    # A dimension beyond int64: std::stoll threw std::out_of_range ("error: stoll"), not mtinet::Error.
    write("regressions", "npy", "dim_exceeds_int64.npy", npy("<f4", (99999999999999999999,), b""))
    # A 40 KB quoted value: std::regex recursed once per character and overflowed the stack (g++ -O2, 8 MB stack).
    write("regressions", "npy", "long_header_string.npy", npy("<f4" + "x" * 40000, (1,), b"\0" * 4))


# ---------------------------------------------------------------- safetensors

def safetensors(tensors, metadata=None, pad=True):
    """tensors: [(name, dtype, shape, bytes)] laid out in order."""
    header, offset, data = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    text = json.dumps(header, separators=(",", ":"))
    if pad:
        text += " " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text.encode() + data


def safetensors_raw(header, data=b""):
    return struct.pack("<Q", len(header)) + header.encode() + data


def make_safetensors():
    copy("corpus", "safetensors", os.path.join(FIXTURES, "safetensors_python.safetensors"))  # the Python writer's
    write("corpus", "safetensors", "all_dtypes.safetensors", safetensors([
        ("f32", "F32", (2, 2), struct.pack("<4f", 1, -2, 3.5, 0)),
        ("f64", "F64", (1,), struct.pack("<d", 0.25)),
        ("f16", "F16", (2,), struct.pack("<2e", 1, -1)),
        ("bf16", "BF16", (2,), b"\x80\x3f\x00\xc0"),
        ("i64", "I64", (1, 1), struct.pack("<q", -5)),
        ("i32", "I32", (3,), struct.pack("<3i", 1, 2, 3)),
        ("u8", "U8", (2, 1, 2), bytes([0, 1, 254, 255])),
    ]))
    write("corpus", "safetensors", "metadata_and_scalar.safetensors",
          safetensors([("scalar", "F32", (), struct.pack("<f", 7))], {"format": "pt", "epoch": "3"}))
    write("corpus", "safetensors", "empty.safetensors", safetensors([]))
    write("corpus", "safetensors", "zero_size.safetensors", safetensors([("z", "F32", (0, 4), b"")]))
    # Broken: each fails one check.
    write("corpus", "safetensors", "overlap.safetensors", safetensors_raw(
        '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}',
        b"\0" * 3))
    write("corpus", "safetensors", "unsupported_dtype.safetensors",
          safetensors_raw('{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}', b"\0"))
    write("corpus", "safetensors", "negative_dim.safetensors",
          safetensors_raw('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}'))
    write("corpus", "safetensors", "header_too_long.safetensors", struct.pack("<Q", 2**40) + b"{}")
    write("corpus", "safetensors", "duplicate_key.safetensors", safetensors_raw(
        '{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}'))

    # Regression: a shape nested 30000 levels deep. Quoting it in the error message (json::dump) recursed once per
    # level and overflowed the stack: at 30000 levels under ASan (the fuzz build), at ~100000 in a g++ -O2 build
    # (tests/test_safetensors.cpp builds that one in memory).
    depth = 30000
    write("regressions", "safetensors", "deeply_nested_shape.safetensors", safetensors_raw(
        '{"a":{"dtype":"U8","shape":' + "[" * depth + "]" * depth + ',"data_offsets":[0,0]}}'))


# ---------------------------------------------------------------- images

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width, height, color_type, depth, pixel_rows, interlace=False, extra=b""):
    """pixel_rows: one bytes object per row, already packed at `depth`. Rows cycle through the five filter types
    (the bytes are stored unfiltered, so the picture differs but the file stays valid)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 1 if interlace else 0)
    if interlace:
        raw = adam7(width, height, color_type, depth, pixel_rows)
    else:
        raw = b"".join(bytes([i % 5]) + row for i, row in enumerate(pixel_rows))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra + png_chunk(b"IDAT", zlib.compress(raw, 9)) +
            png_chunk(b"IEND", b""))


def adam7(width, height, color_type, depth, pixel_rows):
    """The seven interlaced passes of 8-bit-per-channel rows, each row with filter type 0."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    bpp = channels * depth // 8
    out = b""
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)]:
        if x0 >= width or y0 >= height:
            continue
        for y in range(y0, height, dy):
            out += b"\0" + b"".join(pixel_rows[y][x * bpp:(x + 1) * bpp] for x in range(x0, width, dx))
    return out


def gradient_rows(width, height, channels, bytes_per_sample=1):
    return [bytes((x * 16 + y * 8 + c * 40) % 256 for x in range(width) for c in range(channels)
                  for _ in range(bytes_per_sample)) for y in range(height)]


def jpeg(width, height, options):
    """A JPEG from cjpeg (libjpeg-turbo) of an RGB gradient; options such as ["-progressive"]."""
    ppm = b"P6\n%d %d\n255\n" % (width, height) + b"".join(gradient_rows(width, height, 3))
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.ppm")
        open(src, "wb").write(ppm)
        return subprocess.run(["cjpeg", *options, src], check=True, capture_output=True).stdout


def make_images():
    copy("corpus", "image", os.path.join(FIXTURES, "images", "depth16.png"))  # tools/golden/image_samples.py
    copy("corpus", "image", os.path.join(FIXTURES, "images", "gradient.jpg"))
    write("corpus", "image", "grey8_5x3.png", png(5, 3, 0, 8, gradient_rows(5, 3, 1)))
    write("corpus", "image", "rgb8_4x4.png", png(4, 4, 2, 8, gradient_rows(4, 4, 3)))
    write("corpus", "image", "rgba8_3x2.png", png(3, 2, 6, 8, gradient_rows(3, 2, 4)))
    write("corpus", "image", "grey_alpha8_2x2.png", png(2, 2, 4, 8, gradient_rows(2, 2, 2)))
    write("corpus", "image", "rgb16_2x2.png", png(2, 2, 2, 16, gradient_rows(2, 2, 3, 2)))
    write("corpus", "image", "grey1_9x2.png", png(9, 2, 0, 1, [b"\xa5\x80", b"\x5a\x00"]))
    write("corpus", "image", "palette4_trns_3x2.png", png(3, 2, 3, 4, [b"\x01\x20", b"\x21\x00"], extra=(
        png_chunk(b"PLTE", bytes([255, 0, 0, 0, 255, 0, 0, 0, 255])) + png_chunk(b"tRNS", b"\x80"))))
    write("corpus", "image", "interlaced_rgb8_9x9.png", png(9, 9, 2, 8, gradient_rows(9, 9, 3), interlace=True))
    write("corpus", "image", "baseline_420_17x9.jpg", jpeg(17, 9, ["-quality", "80"]))
    write("corpus", "image", "progressive_16x8.jpg", jpeg(16, 8, ["-progressive"]))
    write("corpus", "image", "grey_restart_444_9x9.jpg", jpeg(9, 9, ["-grayscale", "-restart", "1B"]))
    write("corpus", "image", "optimized_444_8x8.jpg", jpeg(8, 8, ["-optimize", "-sample", "1x1"]))
    # Broken, or formats stb reads but mtinet must not.
    write("corpus", "image", "truncated.png", png(4, 4, 2, 8, gradient_rows(4, 4, 3))[:60])
    write("corpus", "image", "truncated.jpg", jpeg(16, 8, ["-progressive"])[:200])
    write("corpus", "image", "arithmetic.jpg", jpeg(8, 8, ["-arithmetic"]))  # a coding stb does not support
    write("corpus", "image", "radiance.hdr", b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 2\n" + bytes(range(16)))

    # Regressions. PNM data under a .png name was decoded as a training image.
    write("regressions", "image", "pnm_named.png", b"P6\n4 4\n255\n" + b"".join(gradient_rows(4, 4, 3)))
    # A PNG header declaring 12000x12000 (the 420 KB file of the report decompressed to 432 MB): stb allocated the
    # whole image from the header before reading any data.
    ihdr = struct.pack(">IIBBBBB", 12000, 12000, 8, 2, 0, 0, 0)
    write("regressions", "image", "png_12000x12000.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
          png_chunk(b"IDAT", zlib.compress(b"\0" * 36001)) + png_chunk(b"IEND", b""))
    # A 1 KB progressive JPEG declaring 26000x26000: stb allocated 2.9 GB of coefficient and component buffers from
    # the header alone (it refuses only images over 2**31 bytes).
    sof = jpeg(16, 8, ["-progressive"])
    at = sof.index(b"\xff\xc2") + 5  # SOF2: length (2), precision (1), then height and width
    write("regressions", "image", "jpeg_26000x26000.jpg", sof[:at] + struct.pack(">HH", 26000, 26000) + sof[at + 4:])


# ---------------------------------------------------------------- training configs

def make_configs():
    configs = os.path.join(ROOT, "train", "configs")
    for name in sorted(os.listdir(configs)):
        copy("corpus", "config", os.path.join(configs, name))
    write("corpus", "config", "comments.json", '// a comment\n{ /* and another */ "epochs": 2, "batch_size": 1 }\n')
    write("corpus", "config", "all_sections.json", json.dumps({
        "model": {"model": "mtinet", "backbone": "hrnet_w18_small_v2", "tasks": "nyud", "seed": 1},
        "data": {"root": "d", "size": [64, 96], "scales": [1.0], "rotations": [0.0, 5.0], "threads": 1},
        "optimizer": {"type": "adam", "lr": 1e-4, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        "schedule": {"kind": "poly", "power": 0.9, "warmup_iters": 0},
        "checkpoint": {"dir": "runs/x", "every_epochs": 1, "keep_last": 2},
        "loss": {"method": "uncertainty"}, "epochs": 1, "seed": 3, "device": "cpu", "dtype": "f64"}, indent=1))
    # Broken: each fails one check.
    write("corpus", "config", "syntax_error.json", '{"epochs": 10,, "batch_size": 2}')
    write("corpus", "config", "wrong_type.json", '{"epochs": "ten"}')
    write("corpus", "config", "unknown_key.json", '{"optimizer": {"learning_rate": 0.1}}')
    write("corpus", "config", "number_overflow.json", '{"optimizer": {"lr": 1e400}}')
    write("corpus", "config", "top_level_array.json", '[{"epochs": 1}]')
    write("corpus", "config", "size_not_divisible.json", '{"data": {"size": [480, 641]}}')
    write("corpus", "config", "invalid_utf8.json", b'{"device": "\xff\xfe"}')
    write("corpus", "config", "empty.json", b"")

    # Open finding (train/ and model/ are not ours to fix): a value nested deep that an error message quotes
    # (json::dump, recursive) overflows the stack: 30000 levels under ASan, ~100000 in a g++ -O2 build. Not replayed.
    depth = 30000
    write("open", "config", "deeply_nested_model.json", '{"model": ' + "[" * depth + "]" * depth + "}")

# ---------------------------------------------------------------- PyTorch .pth

def zip_stored(entries):
    """A zip archive of stored entries, as torch.save writes them (no compression), from (name, bytes) pairs."""
    local, central = b"", b""
    for name, data in entries:
        name = name.encode()
        crc = zlib.crc32(data)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 0, 0, 0, crc, len(data), len(data),
                               len(name), 0, 0, 0, 0, 0, len(local)) + name
        local += struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 0, 0, 0, crc, len(data), len(data), len(name), 0)
        local += name + data
    end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, len(entries), len(entries), len(central), len(local), 0)
    return local + central + end


def p_str(s):
    s = s.encode()
    return b"\x8c" + bytes([len(s)]) + s


def p_int(x):
    if 0 <= x < 256:
        return b"K" + bytes([x])
    if -2**31 <= x < 2**31:
        return b"J" + struct.pack("<i", x)
    return b"\x8a\x08" + struct.pack("<q", x)  # LONG1 of 8 bytes


def p_tuple(items):
    return b"(" + b"".join(items) + b"t"


def p_tensor(stype, key, numel, sizes, strides, offset=0):
    """_rebuild_tensor_v2(<persistent id of the storage>, offset, sizes, strides, False, {}) in pickle opcodes."""
    pid = p_tuple([p_str("storage"), b"ctorch\n" + stype.encode() + b"\n", p_str(key), p_str("cpu"), p_int(numel)])
    return (b"ctorch._utils\n_rebuild_tensor_v2\n" +
            p_tuple([pid + b"Q", p_int(offset), p_tuple(map(p_int, sizes)), p_tuple(map(p_int, strides)), b"\x89}"]) +
            b"R")


def pickle_state_dict(tensors):
    """Protocol 2 pickle of an OrderedDict of name -> tensor, built by hand (no torch needed): tensors are
    (name, storage type, key, numel, sizes, strides), or (name, opcodes) for a value spelled out."""
    out = b"\x80\x02ccollections\nOrderedDict\n)R"
    for name, *value in tensors:
        out += p_str(name) + (value[0] if len(value) == 1 else p_tensor(*value)) + b"s"
    return out + b"."


def torch_zip(tensors, storages, archive="archive"):
    entries = [(f"{archive}/data.pkl", pickle_state_dict(tensors))]
    entries += [(f"{archive}/data/{k}", v) for k, v in storages]
    entries += [(f"{archive}/version", b"3\n"), (f"{archive}/byteorder", b"little")]
    return zip_stored(entries)


def make_torch():
    torch_dir = os.path.join(FIXTURES, "torch")  # torch.save() files and hostile ones (tools/golden/torch_samples.py)
    for name in sorted(os.listdir(torch_dir)):
        # Not the 185 KB HRNet one: libFuzzer's inputs grow to the largest seed, and small ones mutate faster.
        if name.endswith((".pth", ".tar")) and not name.startswith("hrnet_"):
            copy("corpus", "torch", os.path.join(torch_dir, name))
    two_by_three = struct.pack("<6f", *range(6))
    write("corpus", "torch", "handmade_zip.pth", torch_zip(
        [("w", "FloatStorage", "0", 6, (2, 3), (3, 1)), ("wt", "FloatStorage", "0", 6, (3, 2), (1, 3)),
         ("b", "LongStorage", "1", 1, (), ())], [("0", two_by_three), ("1", struct.pack("<q", 7))]))
    # Broken: each fails one check.
    write("corpus", "torch", "deflated_entry.pth", handmade_deflated())
    write("corpus", "torch", "view_past_storage.pth", torch_zip(
        [("w", "FloatStorage", "0", 6, (3, 3), (3, 1))], [("0", two_by_three)]))
    write("corpus", "torch", "missing_storage.pth", torch_zip([("w", "FloatStorage", "0", 6, (6,), (1,))], []))
    write("corpus", "torch", "unknown_storage_type.pth", torch_zip(
        [("w", "ShortStorage", "0", 3, (3,), (1,))], [("0", b"\0" * 6)]))
    write("corpus", "torch", "no_end_record.pth", torch_zip([], [])[:-22])
    write("corpus", "torch", "legacy_magic_only.pth", b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.")

    # Regressions, found by reading the code while the fuzzer ran. One double expanded to 2**61 + 1 elements
    # (stride 0): the bytes beyond the storage, (2**61) * 8, wrapped to 0 and passed the 256 MB bound, then
    # Tensor::empty's 2**64 + 8 bytes wrapped to an 8-byte buffer that the copy overran.
    write("regressions", "torch", "expand_bytes_wrap.pth", torch_zip(
        [("w", "DoubleStorage", "0", 1, (2**61 + 1,), (0,))], [("0", struct.pack("<d", 1))]))
    # A storage of 2**61 doubles: its 2**64 bytes wrapped to 0, which an empty entry matched, and the tensor came
    # back with 2**61 elements and no data.
    write("regressions", "torch", "storage_bytes_wrap.pth", torch_zip(
        [("w", "DoubleStorage", "0", 2**61, (2**61,), (1,))], [("0", b"")]))
    # One float expanded to 64M elements (256 MB, within the bound on expanded views), then rebuilt as 10
    # parameters of it, each one more 256 MB copy: 2.5 GB from a 600-byte file.
    param = b"ctorch._utils\n_rebuild_parameter\n(h\x00\x89}tR"
    write("regressions", "torch", "parameter_copies.pth", torch_zip(
        [("w", p_tensor("FloatStorage", "0", 1, (2**26,), (0,)) + b"q\x00")] +
        [(f"p{i}", param) for i in range(10)], [("0", struct.pack("<f", 1))]))


def handmade_deflated():
    """A zip whose data.pkl is deflated (method 8): torch.save never compresses, so the reader refuses it."""
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", pickle_state_dict([]))
    return buf.getvalue()


# ---------------------------------------------------------------- MATLAB .mat

MI_INT8, MI_UINT8, MI_INT32, MI_UINT32, MI_DOUBLE, MI_MATRIX, MI_COMPRESSED = 1, 2, 5, 6, 9, 14, 15
MX_CELL, MX_STRUCT, MX_CHAR, MX_DOUBLE, MX_UINT8 = 1, 2, 4, 6, 9


def mat_element(mi, payload):
    return struct.pack("<II", mi, len(payload)) + payload + b"\0" * (-len(payload) % 8)


def mat_matrix(mx, dims, name, body, flags=0):
    """A miMATRIX element (little-endian): array flags, dimensions, name, then the class's data elements."""
    content = (mat_element(MI_UINT32, struct.pack("<II", mx | flags << 8, 0)) +
               mat_element(MI_INT32, struct.pack("<%di" % len(dims), *dims)) + mat_element(MI_INT8, name.encode()) +
               body)
    return struct.pack("<II", MI_MATRIX, len(content)) + content


def mat_file(*elements):
    return b"MATLAB 5.0 MAT-file, written by tests/fuzz/make_corpus.py".ljust(116, b" ") + b"\0" * 8 + \
        struct.pack("<H", 0x0100) + b"IM" + b"".join(elements)


def mat_compressed(element):
    z = zlib.compress(element)
    return struct.pack("<II", MI_COMPRESSED, len(z)) + z


def make_mat():
    mat_dir = os.path.join(FIXTURES, "mat")  # scipy- and MATLAB-style files (tools/golden/mat_samples.py)
    for name in sorted(os.listdir(mat_dir)):
        copy("corpus", "mat", os.path.join(mat_dir, name))
    double = mat_matrix(MX_DOUBLE, (1, 2), "x", mat_element(MI_DOUBLE, struct.pack("<2d", 1.5, -2)))
    text = mat_matrix(MX_CHAR, (1, 3), "s", mat_element(MI_UINT8, b"abc"))
    struct_body = mat_element(MI_INT32, struct.pack("<i", 8)) + mat_element(MI_INT8, b"a".ljust(8, b"\0") +
                                                                            b"bb".ljust(8, b"\0"))
    fields = [mat_matrix(MX_UINT8, (1, 1), "", mat_element(MI_UINT8, b"\x07")),
              mat_matrix(MX_CELL, (1, 1), "", struct.pack("<II", MI_MATRIX, 0))]
    st = mat_matrix(MX_STRUCT, (1, 1), "st", struct_body + b"".join(fields))
    write("corpus", "mat", "handmade.mat", mat_file(double, text, st))
    write("corpus", "mat", "handmade_z.mat", mat_file(mat_compressed(double), mat_compressed(st)))
    # Broken: each fails one check.
    write("corpus", "mat", "header_only_level4.mat", b"\0" * 128)
    write("corpus", "mat", "count_mismatch.mat", mat_file(mat_matrix(MX_DOUBLE, (2, 2), "x", mat_element(
        MI_DOUBLE, struct.pack("<2d", 1, 2)))))
    write("corpus", "mat", "compressed_trailing.mat", mat_file(mat_compressed(double)[:-3]))
    write("corpus", "mat", "deep_cells.mat", mat_file(deep_cells(210)))

    # Regressions, found by reading the code while the fuzzer ran: each a small compressed file whose values took
    # gigabytes. 12M empty cells (96 MB inflated from 147 KB): the reader allocated 12M MatValues, 2.4 GB, at once.
    cells = 12 * 2**20
    write("regressions", "mat", "many_empty_cells.mat", mat_file(mat_compressed(mat_matrix(
        MX_CELL, (1, cells), "c", struct.pack("<II", MI_MATRIX, 0) * cells))))
    # A double array of 270M values stored as uint8 (MATLAB narrows storage so): 2.2 GB of doubles from a 270 KB file.
    n = 270 * 2**20
    write("regressions", "mat", "uint8_stored_doubles.mat", mat_file(mat_compressed(mat_matrix(
        MX_DOUBLE, (1, n), "d", struct.pack("<II", MI_UINT8, n) + bytes(n)))))


def deep_cells(depth):
    """Cells nested `depth` levels: deeper than the reader allows (kMatMaxDepth, 200)."""
    inner = struct.pack("<II", MI_MATRIX, 0)
    for _ in range(depth):
        inner = mat_matrix(MX_CELL, (1, 1), "", inner)
    return mat_matrix(MX_CELL, (1, 1), "deep", inner)



# ---------------------------------------------------------------- split lists
def make_split():
    # Valid lists as the two layouts write them, then the ways a list can be wrong: ids that would name files outside
    # the dataset, control bytes, an over-long id, binary content, nothing at all.
    seeds = {
        "nyud.txt": b"000001\n000002\n000003\n",
        "pascal.txt": b"2008_000002\n2008_000003\n2008_000007\n",
        "crlf_spaces_blank.txt": b"000001 \r\n\r\n000002\r\n   \n",
        "empty.txt": b"",
        "traversal.txt": b"000001\n../../etc/passwd\n",
        "dotdot.txt": b"..\n",
        "control.txt": b"0000\x0001\n",
        "long_id.txt": b"a" * 300 + b"\n",
        "binary.txt": bytes(range(256)) * 4,
    }
    for name, data in seeds.items():
        write("corpus", "split", name, data)


if __name__ == "__main__":
    # Files are only (re)written, never deleted: crash inputs copied into regressions/ by hand must survive.
    make_npy()
    make_safetensors()
    make_images()
    make_configs()
    make_torch()
    make_mat()
    make_split()
