#!/usr/bin/python3
"""What `qdiff seed-example` must show, computed on PyTorch's side alone (no qdiff code):
    seed_example_reference.py MODEL.pt ENGINE
Runs MODEL (one QuantStub, one 1x1 conv over one input channel) on the input seed-example uses,
torch.randn(4,1,4,4) from a generator seeded with 1, then one float f32(s_x*(q - z_x)) per code
q = 0..255, and prints one key=value per line:
  s_x (float.hex), z_x           the QuantStub's qparams
  x0 (float.hex), xq0            the first input and PyTorch's quantized code for it
  outputs                        conv outputs
  q31_mismatches                 outputs where gemmlowp's double rounding (Q31 multiplier and
                                 shift of s_x*s_w/s_y, LibTorch's int32 bias) differs from
                                 LibTorch's int_repr()
"""
import math
import sys

import numpy as np
import torch


def quantize_multiplier(m):
    """TFLite QuantizeMultiplier: m = q * 2^shift, q in [0.5, 1); m0 = round half away(q * 2^31)."""
    q, shift = math.frexp(m)
    m0 = int(math.floor(abs(q) * 2**31 + 0.5))
    if m0 == 2**31:
        m0 //= 2
        shift += 1
    return m0, shift


def srdhm(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul: (a*b + nudge) / 2^31, truncated."""
    ab = a * b
    nudge = 2**30 if ab >= 0 else 1 - 2**30
    v = ab + nudge
    return v // 2**31 if v >= 0 else -((-v) // 2**31)


def rounding_divide_by_pot(x, e):
    """gemmlowp RoundingDivideByPOT: x / 2^e, ties away from zero."""
    mask = (1 << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if remainder > threshold else 0)


def main():
    path, engine = sys.argv[1], sys.argv[2]
    torch.backends.quantized.engine = engine
    m = torch.jit.load(path)
    s_x, z_x = float(m.quant.scale), int(m.quant.zero_point)
    forum = torch.randn(4, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    sweep = torch.tensor([s_x * (q - z_x) for q in range(256)], dtype=torch.float32).reshape(16, 1, 4, 4)
    x = torch.cat([forum, sweep])
    xq = m.quant(x)
    y = m.conv(xq)
    w, b = torch.ops.quantized.conv2d_unpack(m.conv._packed_params)
    per_channel = w.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric)
    oc = w.shape[0]
    s_w = [float(v) for v in w.q_per_channel_scales()] if per_channel else [w.q_scale()] * oc
    z_w = [int(v) for v in w.q_per_channel_zero_points()] if per_channel else [w.q_zero_point()] * oc
    w_q = w.int_repr().flatten().tolist()
    s_y, z_y = float(m.conv.scale), int(m.conv.zero_point)
    qmin = max(0, z_y) if "ReLU" in m.conv.original_name else 0
    codes = xq.int_repr().flatten().tolist()
    lt = y.int_repr().reshape(x.shape[0], oc, -1)
    mismatches = outputs = 0
    for c in range(oc):
        f32 = np.float32
        # LibTorch's QuantizeBias: RNE(f32(b * f32(1 / f32(s_x * s_w)))), numpy rounds half to even.
        b_q = int(np.rint(f32(f32(b[c].item()) * f32(f32(1) / f32(s_x * s_w[c]))))) if b is not None else 0
        m0, shift = quantize_multiplier(s_x * s_w[c] / s_y)
        left, right = max(shift, 0), max(-shift, 0)
        for n in range(x.shape[0]):
            for p in range(lt.shape[2]):
                acc = (codes[n * lt.shape[2] + p] - z_x) * (w_q[c] - z_w[c])
                t = min(max(acc + b_q, -2**31), 2**31 - 1) * 2**left
                q31 = rounding_divide_by_pot(srdhm(min(max(t, -2**31), 2**31 - 1), m0), right) + z_y
                q31 = min(max(q31, qmin), 255)
                outputs += 1
                mismatches += q31 != int(lt[n, c, p])
    print("s_x=%s" % s_x.hex())
    print("z_x=%d" % z_x)
    print("x0=%s" % float(x.flatten()[0]).hex())
    print("xq0=%d" % codes[0])
    print("outputs=%d" % outputs)
    print("q31_mismatches=%d" % mismatches)


if __name__ == "__main__":
    main()
