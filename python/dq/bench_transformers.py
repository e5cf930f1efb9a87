"""Benchmark: transformers from_pretrained(gguf_file=...) with and without
dq.integrations.transformers.enable(), on a generated llama-shaped GGUF, in the same run.

    python -m dq.bench_transformers [--out /tmp/dq-bench-llama] [--layers 28] [--dtype float16]

The model is made of random but valid Q4_K / Q6_K blocks (finite f16 scales), laid out like
llama.cpp's Q4_K_M (attn_v and ffn_down Q6_K, output Q6_K, norms F32): its values are
meaningless, its loading cost is real. The file is written once and reused. Needs torch,
transformers, accelerate and gguf-py. Results: docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import time

import numpy as np

Q4_K, Q6_K = 12, 14
BLOCK = {Q4_K: 144, Q6_K: 210}


def random_blocks(rng, qtype: int, rows: int, cols: int) -> np.ndarray:
    """rows x (cols/256 blocks) of random bytes whose f16 scales are small finite values."""
    n = rows * (cols // 256)
    blocks = rng.integers(0, 256, size=(n, BLOCK[qtype]), dtype=np.uint8)
    scales = rng.uniform(0.0, 0.002, size=(n, 2)).astype(np.float16).view(np.uint8)
    if qtype == Q4_K:        # d, dmin at bytes 0..3
        blocks[:, 0:4] = scales.reshape(n, 4)
    else:                    # Q6_K: d at bytes 208..209
        blocks[:, 208:210] = scales[:, :2]
    return blocks.reshape(rows, -1)


def write_model(path: str, layers: int, embd: int, ff: int, heads: int, kv_heads: int,
                vocab: int) -> None:
    import gguf
    rng = np.random.default_rng(1234)
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("dq-bench-llama")
    w.add_context_length(4096)
    w.add_embedding_length(embd)
    w.add_block_count(layers)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_dimension_count(embd // heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(vocab)
    w.add_file_type(15)  # MOSTLY_Q4_K_M
    kv = embd // heads * kv_heads

    def quant(name, qtype, rows, cols):
        w.add_tensor(name, random_blocks(rng, qtype, rows, cols),
                     raw_dtype=gguf.GGMLQuantizationType(qtype))

    def norm(name):
        w.add_tensor(name, np.ones(embd, dtype=np.float32))

    quant("token_embd.weight", Q4_K, vocab, embd)
    for i in range(layers):
        more_bits = i < layers // 8 or i >= 7 * layers // 8 or (i - layers // 8) % 3 == 2
        p = f"blk.{i}."
        norm(p + "attn_norm.weight")
        quant(p + "attn_q.weight", Q4_K, embd, embd)
        quant(p + "attn_k.weight", Q4_K, kv, embd)
        quant(p + "attn_v.weight", Q6_K if more_bits else Q4_K, kv, embd)
        quant(p + "attn_output.weight", Q4_K, embd, embd)
        norm(p + "ffn_norm.weight")
        quant(p + "ffn_gate.weight", Q4_K, ff, embd)
        quant(p + "ffn_up.weight", Q4_K, ff, embd)
        quant(p + "ffn_down.weight", Q6_K if more_bits else Q4_K, embd, ff)
    norm("output_norm.weight")
    quant("output.weight", Q6_K, vocab, embd)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def time_load(folder: str, name: str, dtype) -> float:
    import torch
    from transformers import AutoModelForCausalLM
    gc.collect()
    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype)
    seconds = time.perf_counter() - start
    checksum = sum(float(p.float().abs().sum()) for p in list(model.parameters())[:3])
    del model
    gc.collect()
    torch.set_num_threads(torch.get_num_threads())
    return seconds, checksum


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/dq-bench-llama", help="folder of the GGUF file")
    ap.add_argument("--layers", type=int, default=28)
    ap.add_argument("--embd", type=int, default=2048)
    ap.add_argument("--ff", type=int, default=8192)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--dtype", default="float16", choices=["float16", "float32", "bfloat16"])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)

    import torch
    import transformers

    import dq
    from dq.integrations import transformers as dq_transformers

    os.makedirs(args.out, exist_ok=True)
    name = f"llama-{args.layers}x{args.embd}-q4_k_m.gguf"
    path = os.path.join(args.out, name)
    if not os.path.exists(path):
        t = time.perf_counter()
        write_model(path + ".part", args.layers, args.embd, args.ff, 32, 4, args.vocab)
        os.replace(path + ".part", path)
        print(f"wrote {path} in {time.perf_counter() - t:.1f} s")
    size = os.path.getsize(path)
    with open(path, "rb") as f:  # both runs start from the page cache
        while f.read(1 << 24):
            pass
    dtype = getattr(torch, args.dtype)
    print(f"{path}: {size / 1e9:.2f} GB; torch {torch.__version__}, transformers "
          f"{transformers.__version__}, dq {dq.__version__}, {os.cpu_count()} cores "
          f"({platform.processor() or platform.machine()}), dtype {args.dtype}")
    rows = []
    for _ in range(args.repeat):
        dq_transformers.disable()
        base, base_sum = time_load(args.out, name, dtype)
        dq_transformers.enable()
        ours, our_sum = time_load(args.out, name, dtype)
        dq_transformers.disable()
        assert base_sum == our_sum, "the two loads differ"
        rows.append((base, ours))
        print(f"from_pretrained: transformers {base:.2f} s, with dq {ours:.2f} s: "
              f"{base / ours:.1f}x")
    best_base = min(r[0] for r in rows)
    best_ours = min(r[1] for r in rows)
    print(f"| {size / 1e9:.2f} GB llama Q4_K_M, dtype {args.dtype} | {best_base:.1f} s | "
          f"{best_ours:.1f} s | {best_base / best_ours:.1f}x |")


if __name__ == "__main__":
    main()
