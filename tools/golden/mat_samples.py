"""Writes the MAT-file fixtures of tests/test_mat.cpp to tests/fixtures/mat/ (development only; needs scipy).

Two writers, because the reader must handle both:
  * scipy.io.savemat (compressed and not): what Python users write; it stores every array in its own type.
  * a small MATLAB-style writer below: MATLAB narrows storage (a double array of small integers as miUINT8), uses
    the small data element format for data of up to 4 bytes, and writes big-endian files on big-endian machines.
The values are spelled out in tests/test_mat.cpp; keep the two in step.
"""
import os
import struct
import zlib

import numpy as np
import scipy.io as sio
import scipy.sparse

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "mat")
os.makedirs(OUT, exist_ok=True)


def path(name):
    return os.path.join(OUT, name)


# ---- scipy fixtures ----

def numeric_vars():
    return {
        "d": np.arange(6, dtype=np.float64).reshape(2, 3) * 1.5 - 2,  # 2x3: proves the transpose
        "s": np.array([[0.5, -1.0], [2.25, 3.0], [-4.5, 5.0]], dtype=np.float32),  # 3x2
        "i8": np.array([[-128, 0, 127]], dtype=np.int8),
        "u8": np.array([[0, 1], [254, 255]], dtype=np.uint8),
        "i16": np.array([[-32768, 32767]], dtype=np.int16),
        "u16": np.array([[0, 65535]], dtype=np.uint16),
        "i32": np.array([[-2147483648, 2147483647]], dtype=np.int32),
        "u32": np.array([[0, 4294967295]], dtype=np.uint32),
        "i64": np.array([[-(2 ** 63), 2 ** 63 - 1]], dtype=np.int64),
        "u64": np.array([[0, 2 ** 64 - 1]], dtype=np.uint64),
        "lg": np.array([[True, False, True], [False, False, True]]),  # 2x3 logical
        "nd": np.arange(24, dtype=np.float64).reshape(2, 3, 4),  # N-d: value = C-order index
        "empty": np.zeros((0, 3)),
        "scalar": 7.0,
    }


def cell(shape, values):
    c = np.empty(shape, dtype=object)
    for i, v in enumerate(values):
        c.flat[i] = v
    return c


def nested_vars():
    inner_cell = cell((1, 3), ["a", 2.0, cell((1, 1), [np.array([[1.0, 2.0]])])])
    # A 2x2 struct array with field v = 10*r + c (0-based), to prove struct arrays come back row-major too.
    sa = np.empty((2, 2), dtype=[("v", object)])
    for r in range(2):
        for c in range(2):
            sa[r, c]["v"] = float(10 * r + c)
    return {
        "st": {
            "name": "outer",
            "inner": {"x": 1.0, "deep": {"v": np.array([[1, 2], [3, 4]], dtype=np.int32)}},
            "list": inner_cell,
        },
        # A cell of cells: {{'x'; [1 2 3]}, {{'deep'}}}
        "cc": cell((1, 2), [cell((2, 1), ["x", np.array([[1.0, 2.0, 3.0]])]), cell((1, 1), [cell((1, 1), ["deep"])])]),
        "c23": cell((2, 3), [float(i) for i in range(6)]),  # 2x3 cell: c23{r,c} = 3*r + c in row-major order
        "sa": sa,
    }


def part_mask(h, w, r0, r1, c0, c1):
    m = np.zeros((h, w), dtype=np.uint8)
    m[r0:r1, c0:c1] = 1
    return m


def pascal_part_vars():
    """Shaped like PASCAL-Part's Annotations_Part/<id>.mat: anno.imname, anno.objects(k).{class, class_ind, mask,
    parts(j).{part_name, mask}}, masks uint8 HxW."""
    h, w = 6, 8
    parts_dtype = [("part_name", object), ("mask", object)]
    person_parts = np.empty((1, 3), dtype=parts_dtype)
    for j, (name, box) in enumerate([("head", (0, 2, 2, 4)), ("torso", (2, 4, 2, 4)), ("llarm", (2, 4, 1, 2))]):
        person_parts[0, j]["part_name"] = name
        person_parts[0, j]["mask"] = part_mask(h, w, *box)
    no_parts = np.empty((0, 0), dtype=parts_dtype)  # an object without part annotations
    objects = np.empty((1, 2), dtype=[("class", object), ("class_ind", object), ("mask", object), ("parts", object)])
    objects[0, 0]["class"] = "person"
    objects[0, 0]["class_ind"] = 15.0
    objects[0, 0]["mask"] = part_mask(h, w, 0, 4, 1, 4)
    objects[0, 0]["parts"] = person_parts
    objects[0, 1]["class"] = "dog"
    objects[0, 1]["class_ind"] = 12.0
    objects[0, 1]["mask"] = part_mask(h, w, 3, 6, 5, 8)
    objects[0, 1]["parts"] = no_parts
    return {"anno": {"imname": "2008_000003", "objects": objects}}


def text_vars():
    return {
        "ascii": "person",
        "bmp": "h\u00e9llo w\u00f6rld \u20ac",  # 2- and 3-byte UTF-8
        "astral": "\U0001F600x",  # beyond the BMP: two UTF-16 units in MATLAB
        "rows": np.array(["ab", "cd", "ef"]),  # a 3x2 char matrix
        "blank": "",
    }


# ---- a MATLAB-style writer ----

MI = {"i8": 1, "u8": 2, "i16": 3, "u16": 4, "i32": 5, "u32": 6, "f32": 7, "f64": 9, "i64": 12, "u64": 13,
      "matrix": 14, "compressed": 15, "utf8": 16, "utf16": 17, "utf32": 18}
MX = {"cell": 1, "struct": 2, "char": 4, "sparse": 5, "double": 6, "single": 7, "int8": 8, "uint8": 9, "int16": 10,
      "uint16": 11, "int32": 12, "uint32": 13, "int64": 14, "uint64": 15}
NP = {"i8": "i1", "u8": "u1", "i16": "i2", "u16": "u2", "i32": "i4", "u32": "u4", "f32": "f4", "f64": "f8",
      "i64": "i8", "u64": "u8"}


class MatlabStyle:
    def __init__(self, endian):
        self.e = endian  # '<' or '>'

    def element(self, mi, payload, small=True):
        """A data element; payloads of up to 4 bytes use the small data element format, as MATLAB writes them."""
        n = len(payload)
        if small and 0 < n <= 4:
            return struct.pack(self.e + "I", n << 16 | mi) + payload + b"\0" * (4 - n)
        return struct.pack(self.e + "II", mi, n) + payload + b"\0" * (-n % 8)

    def numbers(self, storage, values):
        a = np.asarray(values)
        return self.element(MI[storage], a.astype(self.e + NP[storage]).tobytes(order="F"))

    def matrix(self, cls, dims, name, body, logical=False):
        flags = MX[cls] | (0x02 << 8 if logical else 0)
        content = (self.element(MI["u32"], struct.pack(self.e + "II", flags, 0), small=False)
                   + self.element(MI["i32"], struct.pack(self.e + "%di" % len(dims), *dims), small=False)
                   + self.element(MI["i8"], name.encode()) + body)
        return struct.pack(self.e + "II", MI["matrix"], len(content)) + content

    def numeric(self, cls, storage, values, name="", logical=False):
        a = np.asarray(values)
        return self.matrix(cls, a.shape, name, self.numbers(storage, a), logical)

    def char(self, storage, text, name=""):
        if storage == "utf8":
            body = self.element(MI["utf8"], text.encode("utf-8"))
        else:
            body = self.element(MI["u16"], text.encode("utf-16-le" if self.e == "<" else "utf-16-be"))
        return self.matrix("char", (1, len(text.encode("utf-16-le")) // 2), name, body)

    def structure(self, dims, fields, elements, name=""):
        """elements: one list of field values (already written arrays) per element, column-major."""
        length = 32
        names = b"".join(f.encode().ljust(length, b"\0") for f in fields)
        body = self.element(MI["i32"], struct.pack(self.e + "i", length)) + self.element(MI["i8"], names)
        body += b"".join(v for values in elements for v in values)
        return self.matrix("struct", dims, name, body)

    def cell(self, dims, values, name=""):
        return self.matrix("cell", dims, name, b"".join(values))

    def compressed(self, element):
        z = zlib.compress(element)
        return struct.pack(self.e + "II", MI["compressed"], len(z)) + z

    def header(self, text="MATLAB 5.0 MAT-file, written by tools/golden/mat_samples.py"):
        version_and_endian = struct.pack(self.e + "H", 0x0100) + (b"IM" if self.e == "<" else b"MI")
        return text.encode().ljust(116, b" ") + b"\0" * 8 + version_and_endian


def matlab_style_file(endian):
    w = MatlabStyle(endian)
    empty_matrix = struct.pack(endian + "II", MI["matrix"], 0)  # MATLAB writes [] in cells and fields so
    body = [
        # double arrays in narrowed storage: 2x3 of small integers as miUINT8, negative ones as miINT16
        w.numeric("double", "u8", [[0, 1, 2], [253, 254, 255]], "d_u8"),
        w.numeric("double", "i16", [[-300, 0], [1, 300], [-1, 2]], "d_i16"),
        w.numeric("double", "u8", [[42]], "d_small"),  # one byte: small data element format
        w.numeric("int16", "u8", [[1, 2, 3]], "i16_u8"),  # int16 class stored as miUINT8
        w.numeric("single", "i8", [[-5, 5]], "s_i8"),
        w.numeric("uint8", "u8", [[1, 0, 1, 1]], "lg", logical=True),
        w.char("utf16", "person", "name16"),
        w.char("utf8", "h\u00e9", "name8"),  # 3 bytes of UTF-8: small data element format
        w.cell((1, 3), [empty_matrix, w.numeric("double", "u8", [[7]]), w.char("utf8", "ok")], "c"),
        w.structure((1, 1), ["class", "mask"], [[w.char("utf16", "person"),
                                                w.numeric("uint8", "u8", [[0, 1, 1], [1, 0, 0]])]], "s"),
        # A compressed variable, as MATLAB's -v7 writes every one: a 4x5 double mask stored as miUINT8.
        w.compressed(w.numeric("double", "u8", np.arange(20).reshape(4, 5) % 3, "z")),
    ]
    return w.header() + b"".join(body)


def v73_header():
    """The start of a MATLAB v7.3 file: a MAT header saying 7.3 (version 0x0200) and HDF5's signature at 512."""
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    header = text.ljust(116, b" ") + b"\0" * 8 + struct.pack("<H", 0x0200) + b"IM"
    return header.ljust(512, b"\0") + b"\x89HDF\r\n\x1a\n" + b"\0" * 24


def main():
    sio.savemat(path("numeric.mat"), numeric_vars(), do_compression=False)
    sio.savemat(path("numeric_z.mat"), numeric_vars(), do_compression=True)
    sio.savemat(path("nested.mat"), nested_vars(), do_compression=False)
    sio.savemat(path("nested_z.mat"), nested_vars(), do_compression=True)
    sio.savemat(path("text.mat"), text_vars(), do_compression=False)
    sio.savemat(path("pascal_part.mat"), pascal_part_vars(), do_compression=True)
    sio.savemat(path("sparse.mat"), {"sp": scipy.sparse.csc_matrix(np.eye(3))}, do_compression=False)
    sio.savemat(path("complex.mat"), {"cx": np.array([[1 + 2j, 3]])}, do_compression=False)
    for endian, name in (("<", "matlab_style.mat"), (">", "matlab_style_be.mat")):
        with open(path(name), "wb") as f:
            f.write(matlab_style_file(endian))
    with open(path("v73.mat"), "wb") as f:
        f.write(v73_header())
    # Damaged copies of pascal_part.mat: cut in the middle of its compressed element, and with the compressed
    # stream's bytes changed (the file's lengths all still agree, so only zlib can notice).
    good = open(path("pascal_part.mat"), "rb").read()
    with open(path("truncated.mat"), "wb") as f:
        f.write(good[: len(good) // 2])
    bad = bytearray(good)
    for i in range(160, 176):
        bad[i] ^= 0x5A
    with open(path("corrupt_zlib.mat"), "wb") as f:
        f.write(bytes(bad))

    # Check what scipy reads back, so a fixture that scipy itself misreads is caught here.
    a = sio.loadmat(path("pascal_part.mat"))["anno"][0, 0]
    assert a["objects"][0, 0]["class"][0] == "person" and a["objects"][0, 0]["mask"].shape == (6, 8)
    m = sio.loadmat(path("matlab_style_be.mat"), mat_dtype=True)  # storage types converted to the class, as MATLAB
    assert m["d_u8"].dtype.kind == "f" and m["d_u8"].dtype.itemsize == 8 and m["d_u8"][1, 2] == 255
    assert m["name16"][0] == "person"
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(path(name)))


if __name__ == "__main__":
    main()
