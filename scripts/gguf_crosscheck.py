#!/usr/bin/env python3
"""Cross-check dq's scalar CPU dequantizers against the PyPI `gguf` package.

For every ggml type that gguf.quants.dequantize supports, random blocks (random bytes whose
scale fields are then made finite: +0, -0, f16 subnormals and normals; E8M0 bytes mostly
100..139, some 0..3, some anything) go through both `gguf.quants.dequantize` and dq's
`dq_dequant_raw` helper (the cpu plugin's ABI, DQ_CPU_ISA=scalar); the f32 outputs must be
byte-identical. Exit 0: all identical; 1: a mismatch or failure; 77: gguf/numpy missing
(CTest reports the test as skipped).
"""
import argparse
import os
import subprocess
import sys
import tempfile

SKIP = 77

# Byte offsets of the f16 scale fields of each block layout (common/dq_common/blocks.hpp).
F16_SCALE_OFFSETS = {
    "Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0],
    "Q2_K": [80, 82], "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208],
    "IQ2_XXS": [0], "IQ2_XS": [0], "IQ2_S": [0], "IQ3_XXS": [0], "IQ3_S": [0], "IQ1_S": [0],
    "IQ4_NL": [0], "IQ4_XS": [0], "TQ1_0": [52], "TQ2_0": [64], "Q1_0": [0], "Q2_0": [0],
}


def random_f16_bits(rng, np, n):
    """Finite f16 bit patterns: a quarter each +0/-0, subnormal, small normal, any normal."""
    kind = rng.integers(0, 4, n)
    sign = rng.integers(0, 2, n).astype(np.uint16) << 15
    mant = rng.integers(0, 1024, n).astype(np.uint16)
    exp_any = rng.integers(1, 31, n).astype(np.uint16)
    exp_small = rng.integers(5, 20, n).astype(np.uint16)  # keeps most products finite
    bits = np.where(kind == 0, sign,
           np.where(kind == 1, sign | mant,
           np.where(kind == 2, sign | (exp_small << 10) | mant, sign | (exp_any << 10) | mant)))
    return bits.astype(np.uint16)


def make_blocks(name, n_blocks, block_bytes, rng, np):
    raw = rng.integers(0, 256, (n_blocks, block_bytes), dtype=np.uint8)
    if name in ("F32", "F16", "BF16"):
        width = {"F32": 4, "F16": 2, "BF16": 2}[name]
        exp_mask, mant_bits = {"F32": (0x7f800000, 23), "F16": (0x7c00, 10),
                               "BF16": (0x7f80, 7)}[name]
        vals = raw.reshape(-1).view({4: np.uint32, 2: np.uint16}[width]).copy()
        mant_mask = vals.dtype.type((1 << mant_bits) - 1)
        nan = ((vals & exp_mask) == exp_mask) & ((vals & mant_mask) != 0)
        vals[nan] &= ~mant_mask  # NaN -> +-inf: keep specials, but no NaN
        return vals.view(np.uint8).reshape(n_blocks, block_bytes)
    for off in F16_SCALE_OFFSETS.get(name, []):
        raw[:, off:off + 2] = random_f16_bits(rng, np, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    if name == "IQ1_M":
        # The f16 scale is the top nibble of each of the four u16 scale words (bytes 48..55).
        scale = random_f16_bits(rng, np, n_blocks)
        words = raw[:, 48:56].copy().view(np.uint16).reshape(n_blocks, 4)
        for k in range(4):
            words[:, k] = (words[:, k] & 0x0FFF) | (((scale >> (4 * k)) & 0xF) << 12)
        raw[:, 48:56] = words.view(np.uint8).reshape(n_blocks, 8)
    if name == "MXFP4":
        kind = rng.integers(0, 10, n_blocks)
        e = np.where(kind < 8, rng.integers(100, 140, n_blocks),
            np.where(kind == 8, rng.integers(0, 4, n_blocks), rng.integers(0, 256, n_blocks)))
        raw[:, 0] = e.astype(np.uint8)
    return raw


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dequant-raw", required=True, help="path of the dq_dequant_raw helper")
    ap.add_argument("--blocks", type=int, default=4096, help="blocks per type in the big run")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--isa", default="scalar",
                    help="DQ_CPU_ISA for the helper (scalar, avx2, avx512; 'auto': detect)")
    args = ap.parse_args()

    try:
        import numpy as np
        import gguf
        from gguf.quants import dequantize
    except Exception as e:  # ImportError or a broken install
        print(f"SKIP: cannot import gguf/numpy ({e}); install with: pip install gguf numpy")
        return SKIP

    if not os.access(args.dequant_raw, os.X_OK):
        print(f"{args.dequant_raw}: not an executable (build the dq_dequant_raw target)")
        return 1
    env = dict(os.environ, DQ_CPU_ISA=args.isa)
    if args.isa == "auto":
        del env["DQ_CPU_ISA"]
    rng = np.random.default_rng(args.seed)
    failures, checked, unsupported = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for qtype in gguf.GGMLQuantizationType:
            block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
            name = qtype.name
            try:
                dequantize(np.zeros(block_bytes, dtype=np.uint8), qtype)
            except NotImplementedError:
                unsupported.append(name)
                continue
            except Exception as e:
                if name in ("I8", "I16", "I32", "I64", "F64", "Q8_1"):
                    unsupported.append(name)
                    continue
                failures.append(f"{name}: gguf failed on a zero block: {e}")
                continue
            if name in ("I8", "I16", "I32", "I64", "F64"):
                unsupported.append(name)  # integers: gguf views them, ggml has no to-float
                continue
            for n_blocks in (1, 37, args.blocks * (1 if block_elems > 1 else 64)):
                blocks = make_blocks(name, n_blocks, block_bytes, rng, np)
                src = os.path.join(tmp, f"{name}.bin")
                dst = os.path.join(tmp, f"{name}.f32")
                blocks.tofile(src)
                with np.errstate(all="ignore"):
                    want = np.asarray(dequantize(blocks.reshape(-1), qtype), dtype=np.float32)
                run = subprocess.run([args.dequant_raw, str(int(qtype)), src, dst, "f32"],
                                     env=env, capture_output=True, text=True)
                if run.returncode != 0:
                    failures.append(f"{name}: dq_dequant_raw failed: {run.stderr.strip()}")
                    break
                got = np.fromfile(dst, dtype=np.uint8)
                want_bytes = np.ascontiguousarray(want.reshape(-1)).view(np.uint8)
                if got.size != want_bytes.size or not np.array_equal(got, want_bytes):
                    g = got.view(np.float32) if got.size % 4 == 0 else got
                    w = want.reshape(-1)
                    n = min(g.size, w.size)
                    bad = np.nonzero(g[:n].view(np.uint32) != w[:n].view(np.uint32))[0]
                    where = int(bad[0]) if bad.size else n
                    failures.append(
                        f"{name} ({n_blocks} blocks): {bad.size} elements differ, first at "
                        f"{where}: dq {g[where] if where < g.size else '-'} gguf "
                        f"{w[where] if where < w.size else '-'} (block {where // block_elems})")
                    break
            else:
                checked.append(name)

    try:
        from importlib.metadata import version
        gguf_version = version("gguf")
    except Exception:
        gguf_version = "?"
    print(f"gguf {gguf_version} vs dq ({args.isa}): identical for {len(checked)} types: "
          + " ".join(checked))
    if unsupported:
        print("not dequantized by the gguf package (not compared): " + " ".join(unsupported))
    for f in failures:
        print("MISMATCH " + f)
    return 1 if failures or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
