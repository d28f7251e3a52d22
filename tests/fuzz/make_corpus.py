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


if __name__ == "__main__":
    # Files are only (re)written, never deleted: crash inputs copied into regressions/ by hand must survive.
    make_npy()
    make_safetensors()
    make_images()
    make_configs()
