"""dq.torch.load_file(shard=tensor_parallel(rank, world)): two ranks started by torchrun on
the CPU (gloo) each load only their slice; the all-gather of the slices equals the whole
tensor (tp_worker.py does the check in each rank)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NO_TESTDATA, TESTDATA

torch = pytest.importorskip("torch", reason="torch is not installed (scripts/install-python.sh "
                                            "--test installs it)")
dist = pytest.importorskip("torch.distributed")

WORKER = Path(__file__).with_name("tp_worker.py")


def run_ranks(model: Path, n: int = 2, backend: str = "gloo") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    # NVLink multicast stays off (the multi-GPU machine's notes say why); harmless on the CPU.
    env.update(NCCL_NVLS_ENABLE="0", TORCH_SYMM_MEM_DISABLE_MULTICAST="1",
               NVSHMEM_DISABLE_NVLS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={n}", str(WORKER), str(model), backend]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(TESTDATA is None, reason=NO_TESTDATA)
@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="torch.distributed with gloo is not available")
@pytest.mark.parametrize("name", ["stories260K-q4_k_m.gguf"])
def test_two_gloo_ranks_all_gather_equals_whole(name):
    model = TESTDATA / name
    if not model.is_file():
        pytest.skip(f"{model} is missing")
    r = run_ranks(model)
    assert r.returncode == 0, f"torchrun failed ({r.returncode}):\n{r.stdout}\n{r.stderr[-4000:]}"
    assert "tp ok: 2 ranks (gloo, cpu)" in r.stdout, r.stdout
    # Most weights are split: a rank that loaded everything would report 0 split tensors.
    split = int(r.stdout.split(" split,")[0].rsplit(" ", 1)[-1])
    assert split > 20, r.stdout


def test_shard_arguments_are_checked():
    import dq
    import dq.torch
    with pytest.raises(dq.DQError, match="rank 2 of a world of 2"):
        dq.torch.tensor_parallel(2, 2)
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    with pytest.raises(dq.DQError, match="without names= or rows="):
        dq.torch.load_file(TESTDATA / "stories260K.gguf", device="cpu", names=["output.weight"],
                           shard=dq.torch.tensor_parallel(0, 2))
    # A split that cannot cut whole blocks is refused naming the tensor and the block size.
    with pytest.raises(dq.DQError, match=r"attn_output.weight.*block size 256"):
        dq.torch.load_file(TESTDATA / "mini-llama-q4_k_m.gguf", device="cpu",
                           shard=dq.torch.tensor_parallel(0, 2))
