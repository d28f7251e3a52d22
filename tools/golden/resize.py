"""Goldens for resize_bilinear / resize_bilinear_scale: F.interpolate(mode='bilinear', align_corners=False), by
size= and by scale_factor= (recompute_scale_factor unset, so the source scale is 1/scale_factor).

For each case: input `x` (NCHW), a random upstream gradient `gy`, output `y` and input gradient `gx`.
Written to tests/fixtures/resize.safetensors.
"""
import torch
import torch.nn.functional as F

from common import rand, record_unary, seeded, write_safetensors

# name, input shape (N, C, H, W), output size or None
SIZE_CASES = [
    ("up2", (1, 3, 4, 5), (8, 10)),
    ("up4", (2, 2, 3, 4), (12, 16)),
    ("down2", (1, 3, 8, 10), (4, 5)),
    ("up_5x7_to_8x11", (1, 2, 5, 7), (8, 11)),
    ("down_9x13_to_4x6", (2, 2, 9, 13), (4, 6)),
    ("odd_3x1_to_7x2", (1, 2, 3, 1), (7, 2)),
]
# name, input shape, (scale_h, scale_w)
SCALE_CASES = [
    ("scale2", (1, 3, 4, 5), (2.0, 2.0)),
    ("scale0.5", (1, 2, 9, 7), (0.5, 0.5)),
    ("scale1.7", (2, 2, 5, 7), (1.7, 1.7)),
    ("scale1.7x0.5", (1, 2, 5, 9), (1.7, 0.5)),
]


def main():
    gen = seeded(11)
    out = {}
    for name, shape, size in SIZE_CASES:
        x = rand(shape, gen).requires_grad_()
        record_unary(out, name, x, F.interpolate(x, size=size, mode="bilinear", align_corners=False), gen)
    for name, shape, scale in SCALE_CASES:
        x = rand(shape, gen).requires_grad_()
        y = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
        record_unary(out, name, x, y, gen)
    write_safetensors("resize.safetensors", out)


if __name__ == "__main__":
    main()
