#!/usr/bin/python3
"""Reproducer for corpora/generic_avg_pool_area_overflow.json (LibTorch 1.13.1, Debian).

Quantized avg_pool2d with count_include_pad=True on an input that LibTorch sees as
channels-last contiguous (every tensor with C == 1 or H*W == 1, and real NHWC tensors) runs
_qavg_pool_nhwc_kernel (aten/src/ATen/native/quantized/cpu/kernels/QuantizedOpKernels.cpp),
which multiplies the padded window extents in a 32-bit int. A window of 2^31 positions or more
gets a wrapped divisor: 65536x65536 wraps to 0 (the result is qmin whatever the input), and
65535x65537 wraps to -1 (the result is 2*z - x). The NCHW kernel (AveragePool2d.cpp,
avg_pool2d_out_frame) uses int64_t and is right.

Run with Debian's interpreter, which has torch 1.13.1 (package python3-torch):
    /usr/bin/python3 corpora/repro/avg_pool_area_overflow.py
Prints LibTorch's int_repr next to the exact value and exits 0 (whether the bug shows or not).
The largest tensor it builds is 2 x 2950 x 2950 bytes (17 MB).
"""
import sys
from fractions import Fraction

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write("needs torch: run with /usr/bin/python3 (apt-get install python3-torch)\n")
    sys.exit(2)

QRANGE = {torch.quint8: (0, 255), torch.qint8: (-128, 127)}
INT_DTYPE = {torch.quint8: torch.uint8, torch.qint8: torch.int8}


def qtensor(shape, value, scale, zp, dtype, channels_last):
    q = torch._make_per_tensor_quantized_tensor(
        torch.full(shape, value, dtype=INT_DTYPE[dtype]), scale, zp)
    return q.contiguous(memory_format=torch.channels_last) if channels_last else q


def expected(shape, value, scale, zp, dtype, k, p, count_include_pad, divisor):
    """Exact mean of the single output window (every input pixel lies in it), RNE, + z, clamp."""
    _, _, h, w = shape
    valid = h * w
    padded = min(k[0], h + 2 * p[0]) * min(k[1], w + 2 * p[1])
    div = divisor if divisor else (padded if count_include_pad else valid)
    mean = Fraction(valid * (value - zp)) * Fraction(scale) / (div * Fraction(scale))
    r = round(mean)  # Python's round on a Fraction is round half to even
    lo, hi = QRANGE[dtype]
    return min(max(r + zp, lo), hi), padded


def run(label, engine, dtype, shape, value, zp, k, p, channels_last=False,
        count_include_pad=True, divisor=None, ceil_mode=False, scale=0.5):
    torch.backends.quantized.engine = engine
    q = qtensor(shape, value, scale, zp, dtype, channels_last)
    want, area = expected(shape, value, scale, zp, dtype, k, p, count_include_pad, divisor)
    layout = "in=NHWC" if q.is_contiguous(memory_format=torch.channels_last) else "in=NCHW"
    try:
        y = F.avg_pool2d(q, k, stride=k, padding=p, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad, divisor_override=divisor)
        got = sorted(set(y.int_repr().flatten().tolist()))
        assert tuple(y.shape[2:]) == (1, 1), y.shape
        verdict = "ok" if got == [want] else "WRONG"
        shown = got[0] if len(got) == 1 else got
    except RuntimeError as e:
        shown, verdict = "rejected", str(e).splitlines()[0][:70]
    print(f"{label:<48} {engine:<8} {str(dtype)[6:]:<6} {layout:<7} area={area:<11} "
          f"libtorch={str(shown):<6} expected={want:<4} {verdict}")
    return verdict == "WRONG"


def main():
    print(f"torch {torch.__version__}, engines {torch.backends.quantized.supported_engines}")
    K, P = (65536, 65536), (32768, 32768)
    one = (1, 1, 1, 1)
    wrong = []
    # The reported case and its variants: a 65536x65536 window (2^32 positions) over one pixel.
    wrong.append(run("65536x65536, 1 pixel (reported case)", "onednn", torch.quint8, one, 150, 100, K, P))
    wrong.append(run("65536x65536, 1 pixel", "onednn", torch.qint8, one, 50, 10, K, P))
    wrong.append(run("65536x65536, 1 pixel (default-kernel fallback)", "qnnpack", torch.qint8, one, 50, 10, K, P))
    wrong.append(run("65536x65536, 1 pixel, ceil_mode (fallback)", "qnnpack", torch.quint8, one, 150, 100, K, P,
                     ceil_mode=True))
    run("65536x65536, 1 pixel (QNNPACK's own kernel)", "qnnpack", torch.quint8, one, 150, 100, K, P)
    run("65536x65536, count_include_pad=False", "onednn", torch.quint8, one, 150, 100, K, P,
        count_include_pad=False)
    run("65536x65536, divisor_override=65536", "onednn", torch.quint8, one, 150, 100, K, P, divisor=65536)
    wrong.append(run("65536x65536, C=8 (AVX2 QuantizeAvx2 lanes)", "onednn", torch.quint8, (1, 8, 1, 1),
                     150, 100, K, P))
    run("65536x65536, [1,2,1,2] NCHW (int64 kernel)", "onednn", torch.quint8, (1, 2, 1, 2), 150, 100, K, P)
    wrong.append(run("65536x65536, [1,2,1,2] channels_last", "onednn", torch.quint8, (1, 2, 1, 2), 150, 100,
                     K, P, channels_last=True))
    # 65535*65537 = 2^32 - 1 wraps to -1: the output mirrors around z (2z - x).
    wrong.append(run("65535x65537 (wraps to -1)", "onednn", torch.quint8, one, 150, 100,
                     (65535, 65537), (32767, 32768)))
    # For one pixel the smallest visible area: 50411*85199 = 2^32 - 507 wraps to -507.
    wrong.append(run("50411x85199 (wraps to -507), x=255 z=1", "onednn", torch.quint8, one, 255, 1,
                     (50411, 85199), (25205, 42599)))
    run("63126x68038 (wraps to -508, a tie)", "onednn", torch.quint8, one, 255, 1,
        (63126, 68038), (31563, 34019))
    # The wrap starts at 2^31 positions; it shows once the window sum is large enough.
    n = (1, 1, 2950, 2950)
    run("46340x46341 over 2950x2950 (area < 2^31)", "onednn", torch.quint8, n, 255, 128,
        (46340, 46341), (23170, 23170))
    wrong.append(run("46341x46341 over 2950x2950 (area >= 2^31)", "onednn", torch.quint8, n, 255, 128,
                     (46341, 46341), (23170, 23170)))
    run("46341x46341 over 2x2950x2950 NCHW", "onednn", torch.quint8, (1, 2, 2950, 2950), 255, 128,
        (46341, 46341), (23170, 23170))
    # The same kernel narrows an int64 divisor_override to int (2^32 + 1 -> 1).
    wrong.append(run("2x2, divisor_override=2^32+1 (-> 1)", "onednn", torch.quint8, (1, 1, 2, 2), 150, 100,
                     (2, 2), (0, 0), divisor=2**32 + 1))
    print(f"{sum(wrong)} of {len(wrong)} bug probes returned a wrong value"
          + (" (bug present)" if any(wrong) else " (bug absent)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
