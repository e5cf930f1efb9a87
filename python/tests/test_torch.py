"""torch.ops.dq.dequantize / dq.torch: bit-identical to dq.dequantize, compiles without a
graph break, fake shapes, errors; dq.torch.load_file into torch tensors. CUDA tests skip
with the reason on a machine without a GPU."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import HAVE_CUDA, NO_TESTDATA, TENSOR_FILES, TENSORS, TESTDATA, open_model, \
    same_bits

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")

import dq  # noqa: E402
import dq.torch  # noqa: E402
from dq import _types  # noqa: E402
from dq._backends import device_info  # noqa: E402

HAVE_TORCH_CUDA = torch.cuda.is_available()
requires_torch_cuda = pytest.mark.skipif(
    not (HAVE_CUDA and HAVE_TORCH_CUDA),
    reason="no CUDA: needs a GPU, torch with CUDA and dq's cuda plugin "
           f"(torch.cuda.is_available()={HAVE_TORCH_CUDA}, dq cuda backend={HAVE_CUDA})")

DTYPES = {torch.float32: np.float32, torch.float16: np.float16, torch.bfloat16: "bfloat16"}


def blocks_of(t) -> torch.Tensor:
    """A tensor's bytes as a uint8 torch tensor (a copy: the mapping is read-only)."""
    return torch.from_numpy(np.ascontiguousarray(t.data).view(np.uint8).copy())


def torch_bits(x: torch.Tensor) -> np.ndarray:
    return x.contiguous().view(torch.uint8).numpy() if x.dtype == torch.bfloat16 else \
        x.numpy().view(np.uint8)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=lambda d: str(d).split(".")[-1])
@pytest.mark.parametrize("row", TENSORS)
def test_op_is_bit_identical_to_dq_dequantize(row, dtype, ml_dtypes):
    t = open_model(row["file"])[row["tensor"]]
    if not _types.cpu_dequantizes(t.type):
        pytest.skip(f"{t.name}: {t.type_name} is kept, not dequantized")
    ours = torch.ops.dq.dequantize(blocks_of(t), t.type, list(t.shape), dtype)
    assert ours.shape == tuple(t.shape) and ours.dtype == dtype
    want = dq.dequantize(t.data, t.type, dtype=DTYPES[dtype]).reshape(t.shape)
    assert np.array_equal(torch_bits(ours).reshape(-1), np.ascontiguousarray(want).view(np.uint8)
                          .reshape(-1)), t.name


def test_wrapper_default_shape_and_names():
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    t = open_model("all-types.gguf")["t.q4_k"]
    data = blocks_of(t).reshape(t.data.shape)
    out = dq.torch.dequantize(data, "q4_K", dtype=torch.float16)
    assert out.shape == tuple(t.shape) and out.dtype == torch.float16
    assert same_bits(out.numpy(), dq.dequantize(t.data, t.type, dtype=np.float16))
    flat = dq.torch.dequantize(data.reshape(-1), t.type, shape=t.shape)
    assert same_bits(flat.numpy(), dq.dequantize(t.data, t.type))


def test_compiles_fullgraph_without_graph_break():
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    t = open_model("all-types.gguf")["t.q6_k"]
    data = blocks_of(t)

    def fn(x):
        return dq.torch.dequantize(x, "q6_K", shape=[65536], dtype=torch.float16) * 2 + 1

    torch._dynamo.reset()
    explain = torch._dynamo.explain(fn)(data)
    assert explain.graph_break_count == 0 and explain.graph_count == 1
    compiled = torch.compile(fn, fullgraph=True, backend="aot_eager")
    assert torch.equal(compiled(data), fn(data))


def test_export_keeps_a_dynamic_dimension_dynamic():
    """The fake impl's checks stay symbolic: int() on a size pinned torch.export's dynamic
    batch of blocks to its example value ("Constraints violated")."""
    class Dequantize(torch.nn.Module):
        def forward(self, x):
            return dq.torch.dequantize(x, "q8_0", dtype=torch.float16)

    blocks = torch.zeros(4, 34, dtype=torch.uint8)
    exported = torch.export.export(Dequantize(), (blocks,),
                                   dynamic_shapes={"x": {0: torch.export.Dim("rows")}})
    assert exported.module()(torch.zeros(7, 34, dtype=torch.uint8)).shape == (7, 32)


def test_fake_impl_shape_and_dtype():
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode():
        data = torch.empty(16 * 144, dtype=torch.uint8)
        out = torch.ops.dq.dequantize(data, 12, [4, 1024], torch.bfloat16)
        assert out.shape == (4, 1024) and out.dtype == torch.bfloat16
        with pytest.raises(dq.DQError, match="needs"):
            torch.ops.dq.dequantize(data, 12, [8, 1024], torch.float16)
    meta = torch.ops.dq.dequantize(torch.empty(18, dtype=torch.uint8, device="meta"), 2, [32],
                                   torch.float16)
    assert meta.device.type == "meta" and meta.shape == (32,)


@pytest.mark.parametrize("args, message", [
    ((torch.zeros(18, dtype=torch.int16), 2, [32], torch.float32), "dtype torch.int16"),
    ((torch.zeros(18, dtype=torch.uint8), 2, [32], torch.int32), "dtype torch.int32"),
    ((torch.zeros(18, dtype=torch.uint8), 2, [31], torch.float32), "not a whole number"),
    ((torch.zeros(18, dtype=torch.uint8), 2, [64], torch.float32), "has 18 bytes"),
    ((torch.zeros(19, dtype=torch.uint8), 2, [32], torch.float32), "has 19 bytes"),
    ((torch.zeros(18, dtype=torch.uint8), 99, [32], torch.float32), "type 99 is unknown"),
    ((torch.zeros(18, dtype=torch.uint8), 2, [-32], torch.float32), "negative"),
])
def test_errors_name_the_problem(args, message):
    with pytest.raises(dq.DQError, match=message):
        torch.ops.dq.dequantize(*args)


def test_unsupported_device_is_refused():
    from dq.torch import _check_call
    with pytest.raises(dq.DQError, match="device xpu is not supported"):
        _check_call(_FakeDevice(), 2, [32], torch.float32)


class _FakeDevice:
    """Stands in for a tensor on a device dq has no backend for (mps, xpu...)."""

    dtype, device = torch.uint8, torch.device("xpu")

    def numel(self):
        return 18


def test_float_qtype_is_refused_not_truncated():
    """8.7 is no type id: dq.dequantize refuses it, so the torch wrapper must not run q8_0."""
    data = torch.zeros(34, dtype=torch.uint8)
    for qtype in (8.7, 8.0, None):
        with pytest.raises(dq.DQError, match="qtype must be an int"):
            dq.torch.dequantize(data, qtype)
    assert dq.torch.dequantize(data, np.int64(8)).shape == (32,)


def test_bad_names_and_rows():
    with pytest.raises(dq.DQError, match="unknown tensor type name"):
        dq.torch.dequantize(torch.zeros(18, dtype=torch.uint8), "q9_9")
    with pytest.raises(dq.DQError, match="18-byte blocks"):
        dq.torch.dequantize(torch.zeros(20, dtype=torch.uint8), "q4_0")


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.bfloat16],
                         ids=lambda d: str(d).split(".")[-1])
@pytest.mark.parametrize("name", TENSOR_FILES)
def test_load_file_cpu_equals_dq_load_file(name, dtype, ml_dtypes):
    loaded = dq.torch.load_file(TESTDATA / name, device="cpu", dtype=dtype)
    ref = dq.load_file(TESTDATA / name, device="cpu", dtype=str(dtype).split(".")[-1],
                       progress=False)
    assert list(loaded) == list(ref)
    for key, value in loaded.items():
        assert isinstance(value, torch.Tensor) and value.is_contiguous(), key
        want = ref[key]
        assert tuple(value.shape) == want.shape, key
        assert np.array_equal(torch_bits(value).reshape(-1),
                              np.ascontiguousarray(want).view(np.uint8).reshape(-1)), key


def test_load_file_keep_feeds_the_op():
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    kept = dq.torch.load_file(TESTDATA / "mini-llama-q4_k_m.gguf", device="cpu", dtype="keep",
                              names=["blk.0.attn_q.weight", "blk.0.attn_norm.weight"])
    model = open_model("mini-llama-q4_k_m.gguf")
    q = model["blk.0.attn_q.weight"]
    assert kept["blk.0.attn_q.weight"].dtype == torch.uint8
    assert np.array_equal(kept["blk.0.attn_q.weight"].numpy(), q.data)
    assert kept["blk.0.attn_norm.weight"].dtype == torch.float32
    out = dq.torch.dequantize(kept["blk.0.attn_q.weight"], q.type)
    assert same_bits(out.numpy(), q.dequantize())


def test_load_file_errors():
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    with pytest.raises(dq.DQError, match="no-such"):
        dq.torch.load_file(TESTDATA / "all-types.gguf", device="cpu", names=["no-such"])
    with pytest.raises(dq.DQError, match="dtype"):
        dq.torch.load_file(TESTDATA / "all-types.gguf", device="cpu", dtype=torch.int8)
    with pytest.raises(dq.DQError, match="device"):
        dq.torch.load_file(TESTDATA / "all-types.gguf", device="tpu:x")


def test_rocm_torch_cuda_devices_are_dq_hip_devices(monkeypatch):
    """A ROCm build of torch calls its HIP devices "cuda": dq must reach them through its hip
    backend, never hand HIP memory to the cuda plugin."""
    monkeypatch.setattr(torch.version, "hip", None, raising=False)
    assert dq.torch.dq_backend_of_torch_gpu() == "cuda"
    monkeypatch.setattr(torch.version, "hip", "6.2.41133", raising=False)
    assert dq.torch.dq_backend_of_torch_gpu() == "hip"
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    if device_info("hip", 0) is None:
        # Refused by dq, naming the backend, before torch allocates on the device.
        with pytest.raises(dq.DQError, match="ROCm build of torch.*hip backend has no device 0"):
            dq.torch.load_file(TESTDATA / "all-types.gguf", device="cuda:0")


def test_cuda_without_index_is_torchs_current_device(monkeypatch):
    """device="cuda" is torch's current device, as for torch.empty (torchrun ranks call
    torch.cuda.set_device(local_rank)), not always device 0."""
    backend = dq.torch.dq_backend_of_torch_gpu()
    if device_info(backend, 3) is not None:
        pytest.skip("this machine has a fourth GPU")
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    for device in ("cuda", torch.device("cuda")):
        # Refused for the device it would load to, before the file is even opened.
        with pytest.raises(dq.DQError, match="backend has no device 3"):
            dq.torch.load_file("no-such-file.gguf", device=device)


def test_missing_dq_gpu_device_is_named_before_torch_allocates():
    if TESTDATA is None:
        pytest.skip(NO_TESTDATA)
    if device_info(dq.torch.dq_backend_of_torch_gpu(), 3) is not None:
        pytest.skip("this machine has a fourth GPU")
    with pytest.raises(dq.DQError, match="device 'cuda:3'.*backend has no device 3"):
        dq.torch.load_file(TESTDATA / "all-types.gguf", device="cuda:3")


# --------------------------------------------------------------------- CUDA (GPU machine)

@requires_torch_cuda
@pytest.mark.parametrize("row", TENSORS)
def test_cuda_op_equals_cpu(row):
    t = open_model(row["file"])[row["tensor"]]
    if not _types.cpu_dequantizes(t.type):
        pytest.skip(f"{t.name}: kept type")
    cpu = blocks_of(t)
    for dtype in DTYPES:
        want = torch.ops.dq.dequantize(cpu, t.type, list(t.shape), dtype)
        got = torch.ops.dq.dequantize(cpu.cuda(), t.type, list(t.shape), dtype)
        assert torch.equal(got.cpu().view(torch.uint8) if dtype == torch.bfloat16 else
                           got.cpu(), want.view(torch.uint8) if dtype == torch.bfloat16 else want)


@requires_torch_cuda
def test_cuda_graph_capture_and_compile_on_a_side_stream():
    t = open_model("all-types.gguf")["t.q4_k"]
    data = blocks_of(t).cuda()
    want = torch.ops.dq.dequantize(data, t.type, list(t.shape), torch.float16)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=stream):
            out = torch.ops.dq.dequantize(data, t.type, list(t.shape), torch.float16)
        graph.replay()
        compiled = torch.compile(lambda x: torch.ops.dq.dequantize(x, t.type, list(t.shape),
                                                                   torch.float16),
                                 fullgraph=True)
        again = compiled(data)
    stream.synchronize()
    assert torch.equal(out, want) and torch.equal(again, want)


@requires_torch_cuda
def test_cuda_op_under_rocm_torch_asks_dq_hip(monkeypatch):
    """The op sends torch's "cuda" tensors to dq's hip backend when torch is a ROCm build."""
    t = open_model("all-types.gguf")["t.q4_0"]
    data = blocks_of(t).cuda()
    monkeypatch.setattr(torch.version, "hip", "6.2.41133", raising=False)
    if device_info("hip", 0) is not None:
        pytest.skip("this machine has a dq hip device")
    with pytest.raises(dq.DQError, match="hip"):
        torch.ops.dq.dequantize(data, t.type, list(t.shape), torch.float16)


@requires_torch_cuda
def test_cuda_load_file_equals_cpu():
    name = TESTDATA / "mini-llama-q4_k_m.gguf"
    gpu = dq.torch.load_file(name, device="cuda:0", dtype=torch.float16)
    cpu = dq.torch.load_file(name, device="cpu", dtype=torch.float16)
    for key in cpu:
        assert gpu[key].device.type == "cuda" and torch.equal(gpu[key].cpu(), cpu[key]), key



def test_import_dq_does_not_import_torch():
    """numpy users never pay for torch: only `import dq.torch` / dq.integrations import it."""
    import subprocess
    import sys
    code = "import sys, dq; " \
           "assert 'torch' not in sys.modules, 'import dq imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True)
