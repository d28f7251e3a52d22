"""Writes small .npy files in every layout the reader supports to tests/fixtures/npy/ (development only).

Each array a has values a.flat[i] = i * 0.5 - 3 in C order (cast to the dtype), so the C++ test can recompute them.
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "npy")
os.makedirs(OUT, exist_ok=True)

CASES = [
    ("f4_le_c_2x3", "<f4", (2, 3), "C"),
    ("f8_be_c_2x3x2", ">f8", (2, 3, 2), "C"),
    ("f4_le_f_3x4", "<f4", (3, 4), "F"),
    ("f8_be_f_2x3x4", ">f8", (2, 3, 4), "F"),
    ("u1_c_5", "|u1", (5,), "C"),
    ("u2_be_c_2x2", ">u2", (2, 2), "C"),
    ("i4_le_c_3x2", "<i4", (3, 2), "C"),
    ("i8_be_f_2x3", ">i8", (2, 3), "F"),
    ("f4_scalar", "<f4", (), "C"),
]

for name, dtype, shape, order in CASES:
    n = int(np.prod(shape)) if shape else 1
    values = np.arange(n, dtype=np.float64) * 0.5 - 3
    if dtype[1] in "ui":
        values = np.arange(n) + (0 if dtype[1] == "u" else -3)
    a = np.array(values.reshape(shape), dtype=np.dtype(dtype), order=order)
    if order == "F":
        a = np.asfortranarray(a)
    np.save(os.path.join(OUT, name + ".npy"), a)
    print(name, a.dtype, a.shape, "fortran" if a.flags.f_contiguous and a.ndim > 1 else "C")
