"""Golden values for ops::global_avg_pool, ops::channel_scale and ops::grouped_softmax (float64).

  gap     x (2,3,4,5) NCHW: y = x.mean((2,3)) (N,C), gx for upstream gy (N,C);
  scale   x (2,3,4,5), s (2,3): y = x * s[:,:,None,None], gx and gs for upstream gy;
  gsm     MTI-Net's FPM mask on a task-major concat of N=3 tasks of C=4 channels, x (2,12,3,5): viewed as
          (B, C, N, H, W) and softmaxed over dim 2, i.e. over groups of N adjacent channels; y and gx.
          Includes large logits (+-60) in one pixel to exercise the max subtraction.
"""
import torch

from common import rand, seeded, write_safetensors


def main():
    gen = seeded(11)
    out = {}

    x = rand((2, 3, 4, 5), gen, -2.0, 2.0).requires_grad_(True)
    gy = rand((2, 3), gen)
    y = x.mean((2, 3))
    y.backward(gy)
    out.update({"gap.x": x.detach(), "gap.gy": gy, "gap.y": y.detach(), "gap.gx": x.grad})

    x = rand((2, 3, 4, 5), gen, -2.0, 2.0).requires_grad_(True)
    s = rand((2, 3), gen, 0.0, 1.0).requires_grad_(True)
    gy = rand((2, 3, 4, 5), gen)
    y = x * s[:, :, None, None]
    y.backward(gy)
    out.update({"scale.x": x.detach(), "scale.s": s.detach(), "scale.gy": gy, "scale.y": y.detach(),
                "scale.gx": x.grad, "scale.gs": s.grad})

    tasks, ch, h, w = 3, 4, 3, 5
    x = rand((2, tasks * ch, h, w), gen, -3.0, 3.0)
    x[1, :, 2, 4] = rand((tasks * ch,), gen, -60.0, 60.0)
    x.requires_grad_(True)
    gy = rand((2, tasks * ch, h, w), gen)
    y = torch.softmax(x.view(2, ch, tasks, h, w), dim=2).view(2, tasks * ch, h, w)
    y.backward(gy)
    out.update({"gsm.x": x.detach(), "gsm.gy": gy, "gsm.y": y.detach(), "gsm.gx": x.grad})

    write_safetensors("channel_gating.safetensors", out, {"torch": torch.__version__, "gsm.group": tasks})


if __name__ == "__main__":
    main()
