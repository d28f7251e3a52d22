"""Writes the small image fixtures of tests/test_image.cpp (development only; needs python3-pil and numpy)."""
import os

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "images")
os.makedirs(OUT, exist_ok=True)

depth = (np.arange(24, dtype=np.uint16) * 2500).reshape(4, 6)
Image.fromarray(depth, mode="I;16").save(os.path.join(OUT, "depth16.png"))

rgb = np.zeros((16, 24, 3), dtype=np.uint8)
rgb[:, :, 0] = (np.arange(24) * 10)[None, :]
Image.fromarray(rgb).save(os.path.join(OUT, "gradient.jpg"), quality=95)
print("wrote", OUT)
