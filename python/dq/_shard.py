"""Shards of a load: which slice of each tensor this process loads (tensor parallelism)."""
from __future__ import annotations

from ctypes import byref, c_size_t, c_void_p
from dataclasses import dataclass

from ._lib import DQError, check, lib


@dataclass(frozen=True)
class TensorParallel:
    """Rank `rank` of `world_size` tensor-parallel ranks (dq_plan_tensor_parallel).

    Column-parallel weights (attn_q/k/v, ffn_gate/up, output, token_embd) are cut along their
    first torch dimension (output features, ggml's ne[1]); row-parallel ones (attn_output,
    ffn_down) along their last (input features, ggml's ne[0], at whole quantization blocks);
    the rest (norms, ...) is loaded whole by every rank. Shards are as even as the blocks
    allow. `dim_of(name, whole_shape, shard_shape)` tells the caller which dimension was cut.
    """

    rank: int
    world_size: int

    def __post_init__(self):
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise DQError(f"tensor_parallel: rank {self.rank} of a world of {self.world_size}")

    @staticmethod
    def dim_of(whole_shape, shard_shape):
        """The torch dimension a shard was cut along, or None for a whole (replicated) one."""
        whole, shard = tuple(whole_shape), tuple(shard_shape)
        if whole == shard:
            return None
        return 0 if shard[0] != whole[0] else len(whole) - 1


def tensor_parallel(rank: int, world_size: int) -> TensorParallel:
    """The shard of rank `rank` in a tensor-parallel group of `world_size` (torch.distributed's
    rank and world size): load_file(..., shard=tensor_parallel(rank, world)) loads only it."""
    return TensorParallel(int(rank), int(world_size))


class _Plan:
    """A dq_load_plan alive for one load: its parts point at names the plan owns."""

    def __init__(self, ctx, model, path: str, shard: TensorParallel):
        if not hasattr(lib, "dq_plan_tensor_parallel"):
            raise DQError("shard=: this libdq-core has no placements (dq_plan_tensor_parallel)")
        self.handle = c_void_p()
        check(lib.dq_plan_tensor_parallel(ctx, model.handle, shard.world_size, shard.rank,
                                          byref(self.handle)), ctx, path)
        n = c_size_t()
        self.parts = lib.dq_load_plan_parts(self.handle, byref(n))
        self.n_parts = n.value

    def close(self):
        if self.handle:
            lib.dq_load_plan_free(self.handle)
            self.handle = c_void_p()

    __del__ = close


def set_shard(opts, ctx, model, path: str, shard, names, rows) -> _Plan | None:
    """Fills opts.parts from `shard` (None: nothing); the plan must outlive dq_load."""
    if shard is None:
        return None
    if not isinstance(shard, TensorParallel):
        raise DQError(f"shard must come from tensor_parallel(rank, world_size), not {shard!r}")
    if names is not None or rows:
        raise DQError("shard= chooses the slices itself: give it without names= or rows=")
    plan = _Plan(ctx, model, path, shard)
    opts.parts = plan.parts
    opts.n_parts = plan.n_parts
    return plan
