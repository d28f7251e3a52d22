"""Writes tests/fixtures/safetensors_python.safetensors: a tiny file from common.write_safetensors, so the C++
loader is tested against the writer every golden fixture uses (exact values, one tensor per dtype it emits)."""
import torch

from common import write_safetensors


def main():
    tensors = {
        "f64": torch.tensor([[1.5, -2.25, 3.0], [0.1, 1e-300, -0.0]], dtype=torch.float64),
        "f32": torch.tensor([0.5, -1.75, 3.0e38], dtype=torch.float32),
        "i64": torch.tensor([[-(2 ** 62), 7], [0, 2 ** 40]], dtype=torch.int64),
        "i32": torch.tensor([-5, 2 ** 31 - 1], dtype=torch.int32),
        "u8": torch.tensor([0, 128, 255], dtype=torch.uint8),
        "scalar": torch.tensor(42.0, dtype=torch.float64),
        "empty": torch.zeros((2, 0), dtype=torch.float32),
    }
    write_safetensors("safetensors_python.safetensors", tensors, metadata={"format": "pt", "note": "sample"})


if __name__ == "__main__":
    main()
