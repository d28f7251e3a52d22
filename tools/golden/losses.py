"""Golden values for the four MTI-Net losses (tests/test_losses.cpp): forward values and input gradients.

Run with Debian's python3-torch: /usr/bin/python3 tools/golden/losses.py
Writes tests/fixtures/losses.safetensors. Activations are NCHW (the test converts to NHWC), float64; CE labels are
int64 {N,H,W}. Each loss is written the way the reference (Multi-Task-Learning-PyTorch) computes it, with plain
torch ops, and its gradient comes from autograd with an upstream gradient of 1.
"""
import torch
import torch.nn.functional as F

from common import rand, seeded, write_safetensors


def with_grad(loss_fn, x, *rest):
    x = x.clone().requires_grad_(True)
    loss = loss_fn(x, *rest)
    loss.backward()
    return loss.detach(), x.grad.detach()


def cross_entropy_case(out):
    g = seeded(11)
    logits = rand((2, 5, 3, 4), g, -3.0, 3.0)
    labels = torch.randint(0, 5, (2, 3, 4), generator=g, dtype=torch.int64)
    labels[torch.rand((2, 3, 4), generator=g, dtype=torch.float64) < 0.25] = 255
    # A pixel with large logits: the stable log-sum-exp must not overflow.
    logits[0, :, 1, 2] = torch.tensor([50.0, -50.0, 0.0, 10.0, -10.0], dtype=torch.float64)
    labels[0, 1, 2] = 1
    loss, grad = with_grad(lambda x: F.cross_entropy(x, labels, ignore_index=255, reduction="mean"), logits)
    out.update({"ce.logits": logits, "ce.labels": labels, "ce.loss": loss, "ce.grad_logits": grad})


def masked_l1_loss(pred, label):
    mask = label != 0
    return F.l1_loss(torch.masked_select(pred, mask), torch.masked_select(label, mask), reduction="mean")


def masked_l1_case(out):
    g = seeded(12)
    pred = rand((2, 1, 3, 4), g, 0.0, 3.0)
    label = rand((2, 1, 3, 4), g, 0.5, 3.0)
    label[torch.rand((2, 1, 3, 4), generator=g, dtype=torch.float64) < 0.3] = 0.0  # invalid depth
    label[1, 0, 2, 3] = 1.25
    pred[1, 0, 2, 3] = 1.25  # pred == label: L1's gradient is 0 there
    loss, grad = with_grad(masked_l1_loss, pred, label)
    out.update({"l1.pred": pred, "l1.label": label, "l1.loss": loss, "l1.grad_pred": grad})


def normals_loss(pred, label):
    normed = F.normalize(pred, p=2, dim=1)  # eps 1e-12
    mask = (label != 0).any(dim=1, keepdim=True).expand_as(label)
    n_valid = mask.sum()
    return F.l1_loss(torch.masked_select(normed, mask), torch.masked_select(label, mask), reduction="sum") / n_valid


def normals_case(out):
    g = seeded(13)
    pred = rand((2, 3, 3, 4), g, -1.0, 1.0)
    label = F.normalize(rand((2, 3, 3, 4), g, -1.0, 1.0), p=2, dim=1)
    label[:, :, (torch.rand((3, 4), generator=g) < 0.25)] = 0.0  # zero-vector labels are invalid
    label[0, :, 0, 0] = torch.tensor([0.0, 0.6, -0.8], dtype=torch.float64)
    # Below the eps: F.normalize divides by 1e-12 instead of the norm (a tiny and an exactly-zero prediction).
    pred[0, :, 0, 0] = torch.tensor([1e-13, -2e-13, 3e-13], dtype=torch.float64)
    label[1, :, 2, 1] = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    pred[1, :, 2, 1] = 0.0
    loss, grad = with_grad(normals_loss, pred, label)
    out.update({"normals.pred": pred, "normals.label": label, "normals.loss": loss, "normals.grad_pred": grad})


def balanced_bce_loss(output, label, pos_weight):
    """The reference's BalancedCrossEntropyLoss, size_average=True, no void pixels."""
    labels = torch.ge(label, 0.5).double()
    if pos_weight is None:
        num_labels_pos = torch.sum(labels)
        num_labels_neg = torch.sum(1.0 - labels)
        w = num_labels_neg / (num_labels_pos + num_labels_neg)
    else:
        w = pos_weight
    output_gt_zero = torch.ge(output, 0).double()
    loss_val = torch.mul(output, (labels - output_gt_zero)) - torch.log(
        1 + torch.exp(output - 2 * torch.mul(output, output_gt_zero)))
    loss_pos = torch.sum(-torch.mul(labels, loss_val))
    loss_neg = torch.sum(-torch.mul(1.0 - labels, loss_val))
    return (w * loss_pos + (1 - w) * loss_neg) / float(label.numel())


def balanced_bce_case(out):
    g = seeded(14)
    logits = rand((2, 1, 4, 5), g, -4.0, 4.0)
    label = rand((2, 1, 4, 5), g, 0.0, 1.0)
    label[0, 0, 0, :] = 0.5  # exactly 0.5 counts as positive
    label[1, 0, 1, :] = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.4999], dtype=torch.float64)
    logits[0, 0, 2, :] = torch.tensor([50.0, -50.0, 0.0, 50.0, -50.0], dtype=torch.float64)
    label[0, 0, 2, :] = torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    out.update({"bce.logits": logits, "bce.label": label})
    for tag, pw in (("w095", 0.95), ("batch", None)):
        loss, grad = with_grad(lambda x: balanced_bce_loss(x, label, pw), logits)
        out.update({f"bce.{tag}.loss": loss, f"bce.{tag}.grad_logits": grad})


def main():
    out = {}
    cross_entropy_case(out)
    masked_l1_case(out)
    normals_case(out)
    balanced_bce_case(out)
    write_safetensors("losses.safetensors", out)


if __name__ == "__main__":
    main()
