"""One rank of the tensor-parallel load check (started by torchrun; see
test_torch_tensor_parallel.py and scripts/device-multi-gpu.sh).

    torchrun --nproc_per_node=2 python/tests/tp_worker.py MODEL [gloo|nccl] [cpu|cuda]

nccl loads to cuda:LOCAL_RANK; gloo loads to the CPU, or with "cuda" to cuda:(LOCAL_RANK
modulo the GPUs) and gathers through host copies (two ranks sharing one GPU, which nccl
refuses).

Each rank loads only its shard with dq.torch.load_file(..., shard=tensor_parallel(rank,
world)), all-gathers the shards of every tensor and compares them with the whole tensor loaded
alone. Rank 0 prints "tp ok: ..." and every rank exits 1 on the first mismatch.
"""
from __future__ import annotations

import os
import sys
import time

import torch
import torch.distributed as dist

import dq
import dq.torch


def gather(shard: torch.Tensor, world: int) -> list[torch.Tensor]:
    """All shards of every rank (shapes may differ by a block: padded to the largest)."""
    shapes: list = [None] * world
    dist.all_gather_object(shapes, tuple(shard.shape))
    numel = max(int(torch.Size(s).numel()) for s in shapes)
    device = shard.device if dist.get_backend() == "nccl" else torch.device("cpu")
    flat = torch.zeros(numel, dtype=shard.dtype, device=device)
    flat[:shard.numel()] = shard.reshape(-1).to(device)
    out = [torch.empty_like(flat) for _ in range(world)]
    dist.all_gather(out, flat)
    return [o[:torch.Size(s).numel()].reshape(s) for o, s in zip(out, shapes)]


def main() -> int:
    path = sys.argv[1]
    backend = sys.argv[2] if len(sys.argv) > 2 else "gloo"
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get("LOCAL_RANK", rank))
    on_gpu = backend == "nccl" or (len(sys.argv) > 3 and sys.argv[3] == "cuda")
    if on_gpu:
        local %= torch.cuda.device_count()
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    else:
        device = "cpu"
    t0 = time.perf_counter()
    shard = dq.torch.load_file(path, device=device, dtype=torch.float16,
                               shard=dq.torch.tensor_parallel(rank, world))
    shard_s = time.perf_counter() - t0
    whole = dq.torch.load_file(path, device=device, dtype=torch.float16)
    split = 0
    for name, full in whole.items():
        mine = shard[name]
        parts = gather(mine, world)
        dim = dq.torch.TensorParallel.dim_of(full.shape, mine.shape)
        got = full if dim is None else torch.cat(parts, dim=dim)
        full = full.to(parts[0].device)
        if dim is None:  # replicated: every rank must hold the same whole tensor
            bad = [i for i, p in enumerate(parts) if not torch.equal(p, full)]
        else:
            split += 1
            bad = [] if torch.equal(got, full) else [name]
        if bad:
            print(f"rank {rank}: {name}: all-gather of the shards differs from the whole "
                  f"tensor ({bad})", flush=True)
            return 1
    shard_bytes = sum(t.numel() * t.element_size() for t in shard.values())
    whole_bytes = sum(t.numel() * t.element_size() for t in whole.values())
    if rank == 0:
        print(f"tp ok: {world} ranks ({backend}, {device}), {len(whole)} tensors, {split} split, rank 0 "
              f"holds {shard_bytes} of {whole_bytes} bytes, shard load {shard_s * 1e3:.1f} ms",
              flush=True)
    dist.barrier()
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
