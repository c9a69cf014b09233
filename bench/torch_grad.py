"""PyTorch's side of bench/bench_grad.c (imported by torch_bench.py): the training kernels on
the issue-14 benchmark net's shapes, batch 32, each the ATen operation autograd itself runs for
it (convolution_backward, threshold_backward for the ReLU, max_pool2d_with_indices(_backward),
the linear layer's matmuls, cross_entropy forward and backward, torch.optim.Adam.step), and one
whole training step. Same op/shape strings as bench_grad.c; every case is a make(memory_format)
as torch_bench.best() expects."""
import torch
import torch.nn as nn
import torch.nn.functional as F

B = 32
aten = torch.ops.aten


def rand(*shape):
    return torch.rand(*shape, dtype=torch.float32) * 2 - 1


def conv_flops(b, h, w, n, c):
    return 2.0 * b * h * w * n * 9 * c


def conv_fwd(h, c, n):
    x0, w0, b0 = rand(B, c, h, h), rand(n, c, 3, 3), rand(n)

    def make(fmt):
        x, w = x0.contiguous(memory_format=fmt), w0.contiguous(memory_format=fmt)
        return lambda: torch.relu_(F.conv2d(x, w, b0, padding=1))
    return make


def conv_bwd(h, c, n, mask):
    """The ReLU's backward from y, then convolution_backward for the gradients in mask."""
    x0, w0, b0 = rand(B, c, h, h), rand(n, c, 3, 3), rand(n)
    y0, dy0 = torch.relu(F.conv2d(x0, w0, b0, padding=1)), rand(B, n, h, h)

    def make(fmt):
        x, w = x0.contiguous(memory_format=fmt), w0.contiguous(memory_format=fmt)
        y, dy = y0.contiguous(memory_format=fmt), dy0.contiguous(memory_format=fmt)

        def run():
            dz = aten.threshold_backward(dy, y, 0)
            return aten.convolution_backward(dz, x, w, [n], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)
        return run
    return make


def pool_fwd():
    x0 = rand(B, 8, 28, 28)

    def make(fmt):
        x = x0.contiguous(memory_format=fmt)
        return lambda: aten.max_pool2d_with_indices(x, [2, 2], [2, 2])
    return make


def pool_bwd():
    x0 = rand(B, 8, 28, 28)

    def make(fmt):
        x = x0.contiguous(memory_format=fmt)
        y, idx = aten.max_pool2d_with_indices(x, [2, 2], [2, 2])
        dy = rand(*y.shape).contiguous(memory_format=fmt)
        return lambda: aten.max_pool2d_with_indices_backward(dy, x, [2, 2], [2, 2], [0, 0], [1, 1], False, idx)
    return make


def linear_fwd():
    x, w, b = rand(B, 784), rand(10, 784), rand(10)
    return lambda fmt: (lambda: F.linear(x, w, b))


def linear_bwd():
    x, w, dy = rand(B, 784), rand(10, 784), rand(B, 10)
    return lambda fmt: (lambda: (dy.mm(w), dy.t().mm(x), dy.sum(0)))


def softmax_ce():
    z0, t = rand(B, 10) * 3, torch.arange(B) % 10

    def make(fmt):
        def run():
            with torch.enable_grad():
                z = z0.detach().requires_grad_(True)
                F.cross_entropy(z, t).backward()
            return z.grad
        return run
    return make


def net():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(784, 10))


def adam_step():
    def make(fmt):
        m = net().to(memory_format=fmt)
        for p in m.parameters():
            p.grad = rand(*p.shape).contiguous(memory_format=torch.preserve_format)
        opt = torch.optim.Adam(m.parameters(), 1e-3)
        return opt.step
    return make


def train_step():
    x0, t = torch.rand(B, 1, 28, 28), torch.arange(B) % 10

    def make(fmt):
        m, x = net().to(memory_format=fmt), x0.contiguous(memory_format=fmt)
        opt = torch.optim.Adam(m.parameters(), 1e-3)

        def run():
            with torch.enable_grad():
                opt.zero_grad()
                F.cross_entropy(m(x), t).backward()
                opt.step()
        return run
    return make


def grad_cases():
    c1, c2, lin = conv_flops(B, 28, 28, 8, 1), conv_flops(B, 14, 14, 16, 8), 2.0 * B * 784 * 10
    return [
        ("conv_fwd_batch", "32x28x28x1 k3x3 n8 pad1 relu", conv_fwd(28, 1, 8), c1),
        ("conv_fwd_batch", "32x14x14x8 k3x3 n16 pad1 relu", conv_fwd(14, 8, 16), c2),
        ("conv_bwd_dw", "32x28x28x1 k3x3 n8 pad1 relu", conv_bwd(28, 1, 8, [False, True, True]), c1),
        ("conv_bwd_dw", "32x14x14x8 k3x3 n16 pad1 relu", conv_bwd(14, 8, 16, [False, True, True]), c2),
        ("conv_bwd_dx", "32x14x14x8 k3x3 n16 pad1 relu", conv_bwd(14, 8, 16, [True, False, False]), c2),
        ("maxpool_fwd_argmax", "32x28x28x8 k2 s2", pool_fwd(), None),
        ("maxpool_bwd", "32x28x28x8 k2 s2", pool_bwd(), None),
        ("linear_fwd", "32x784->10", linear_fwd(), lin),
        ("linear_bwd", "32x784->10", linear_bwd(), 2 * lin),
        ("softmax_ce", "32x10", softmax_ce(), None),
        ("adam_step", "9098 params", adam_step(), None),
        ("train_step", "fashion-mnist net, batch 32", train_step(), 3 * c2 + 2 * c1 + 3 * lin),
    ]
