"""python -m dq.bench: gguf-py against dq, per type, in one run.

For each type: gguf.quants.dequantize (numpy, one core), dq.dequantize on 1 thread and on
all threads, f32 output, the same random blocks for both (scale fields made finite so no
path meets NaNs). Times are the best of --repeat runs after a warm-up (gguf-py: best of
--gguf-repeat, it is slow). The ratios are gguf-py time / dq time.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

from . import _types
from ._backends import backends, version
from ._dequantize import default_threads, dequantize

_F16_SCALE_OFFSETS = {  # byte offsets of f16 scale fields per block, kept finite
    "q4_0": (0,), "q4_1": (0, 2), "q5_0": (0,), "q5_1": (0, 2), "q8_0": (0,), "q8_1": (0, 2),
    "q2_k": (80, 82), "q3_k": (108,), "q4_k": (0, 2), "q5_k": (0, 2), "q6_k": (208,),
    "iq2_xxs": (0,), "iq2_xs": (0,), "iq2_s": (0,), "iq3_xxs": (0,), "iq3_s": (0,),
    "iq1_s": (0,), "iq4_nl": (0,), "iq4_xs": (0,), "tq1_0": (52,), "tq2_0": (64,),
    "q1_0": (0,), "q2_0": (0,),
}


def random_blocks(type_id: int, n_elements: int, row_elements: int, rng) -> np.ndarray:
    block_elems, block_bytes = _types.block_size(type_id)
    n_blocks = n_elements // block_elems
    data = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    name = _types.type_name(type_id).lower()
    finite = rng.uniform(-0.01, 0.01, size=n_blocks).astype(np.float16).view(np.uint8)
    finite = finite.reshape(n_blocks, 2)
    for offset in _F16_SCALE_OFFSETS.get(name, ()):
        data[:, offset:offset + 2] = finite
    if name in ("f32", "f16", "bf16"):  # plain floats: finite values in the type
        dtype = {"f32": np.float32, "f16": np.float16}.get(name)
        values = rng.standard_normal(n_elements).astype(np.float32)
        data = (values.astype(dtype) if dtype else
                (values.view(np.uint32) >> 16).astype(np.uint16)).view(np.uint8)
    # Rows of bytes, as a weight matrix reaches gguf.quants.dequantize from GGUFReader.
    row_bytes = row_elements // block_elems * block_bytes
    return data.reshape(-1, row_bytes)


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dq.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--elements", type=int, default=16 * 2**20,
                        help="elements per tensor (default 16M)")
    parser.add_argument("--row", type=int, default=4096,
                        help="elements per row of the 2-D input (default 4096)")
    parser.add_argument("--types", default="all", help="comma-separated names, or 'all'")
    parser.add_argument("--repeat", type=int, default=5, help="dq runs per measurement")
    parser.add_argument("--gguf-repeat", type=int, default=1, help="gguf-py runs per type")
    parser.add_argument("--threads", type=int, default=0,
                        help="the 'all threads' column (default: DQ_THREADS or all cores)")
    parser.add_argument("--no-gguf", action="store_true", help="skip gguf-py")
    parser.add_argument("--dq-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    gguf_quants = None
    if not args.no_gguf:
        try:
            import gguf.quants as gguf_quants
            import gguf
        except ImportError:
            print("gguf-py not installed: dq columns only (pip install gguf)", file=sys.stderr)
    all_threads = args.threads or default_threads()
    if args.types == "all":
        type_ids = [t for t in range(_types.TYPE_COUNT) if _types.cpu_dequantizes(t)]
    else:
        type_ids = [_types.resolve_qtype(int(name) if name.strip().isdigit() else name.strip())
                    for name in args.types.split(",")]

    if args.dq_only:
        gguf_quants = None
    else:
        cpu = next((b for b in backends() if b.name == "cpu"), None)
        print(f"# dq.bench {datetime.datetime.now().isoformat(timespec='seconds')}: "
              f"{machine_line()}")
        print(f"# libdq-core {version()}, cpu plugin: {cpu.description if cpu else 'absent'}; "
              f"numpy {np.__version__}; gguf-py {_gguf_version()}")
        print(f"# {args.elements:,} elements per type in rows of {args.row}, f32 output; "
              f"times: best of {args.repeat} (dq), {args.gguf_repeat} (gguf-py); "
              f"x = gguf-py time / dq time; 1 thread: a process with DQ_THREADS=1")
        print(f"{'type':8} {'gguf-py ms':>11} {'dq 1 thr ms':>12} "
              f"{'dq ' + str(all_threads) + ' thr ms':>13} {'x (1 thr)':>10} "
              f"{'x (' + str(all_threads) + ' thr)':>11} {'dq 1 thr GB/s out':>18}", flush=True)
    one_thread = {} if args.dq_only else _one_thread_times(args, type_ids)
    worst = None
    for type_id in type_ids:
        rng = np.random.default_rng(type_id)
        name = _types.type_name(type_id)
        block_elems = _types.block_size(type_id)[0]
        row = max(block_elems, args.row // block_elems * block_elems)
        n = max(row, args.elements // row * row)
        data = random_blocks(type_id, n, row, rng)
        dequantize(data[:2], type_id)  # warm-up
        tn = best_time(lambda: dequantize(data, type_id, threads=all_threads), args.repeat)
        if args.dq_only:  # the child of _one_thread_times: this process has DQ_THREADS=1
            print(json.dumps({"type": type_id, "seconds": tn}), flush=True)
            continue
        t1 = one_thread.get(type_id) or best_time(
            lambda: dequantize(data, type_id, threads=1), args.repeat)
        tg = None
        if gguf_quants is not None:
            try:
                qtype = gguf.GGMLQuantizationType(type_id)
                if qtype in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16) or \
                        qtype in gguf_quants._type_traits:
                    with np.errstate(all="ignore"):  # random scales overflow in some types
                        gguf_quants.dequantize(data[:2], qtype)  # warm-up (grids)
                        tg = best_time(lambda: gguf_quants.dequantize(data, qtype),
                                       args.gguf_repeat)
            except ValueError:
                tg = None
        if type_id == 0 and tg is not None:  # gguf-py returns a view of the input for F32
            tg = None
            gg, ratio1, ration = f"{'(a view)':>11}", f"{'-':>10}", f"{'-':>11}"
        else:
            ratio1 = f"{tg / t1:10.1f}" if tg else f"{'n/a':>10}"
            ration = f"{tg / tn:11.1f}" if tg else f"{'n/a':>11}"
            gg = f"{tg * 1e3:11.1f}" if tg else f"{'n/a':>11}"
        print(f"{name:8} {gg} {t1 * 1e3:12.2f} {tn * 1e3:13.2f} {ratio1} {ration} "
              f"{n * 4 / t1 / 1e9:18.2f}", flush=True)
        if tg and (worst is None or tg / t1 < worst[1]):
            worst = (name, tg / t1)
    if worst:
        print(f"# smallest 1-thread ratio: {worst[0]} {worst[1]:.1f}x")
    return 0


def _one_thread_times(args, type_ids) -> dict[int, float]:
    """dq's times with the library itself on one thread: a child process with DQ_THREADS=1
    (the cpu plugin reads it once, when it loads), so each tensor is one call on one thread
    with the library's full fast path (streaming stores for large outputs). Empty when the
    child fails; the caller then measures threads=1 in this process."""
    cmd = [sys.executable, "-m", "dq.bench", "--dq-only", "--elements", str(args.elements),
           "--row", str(args.row), "--repeat", str(args.repeat),
           "--types", ",".join(str(t) for t in type_ids)]
    env = dict(os.environ, DQ_THREADS="1")
    try:
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"# 1-thread child failed ({e}); measuring threads=1 in this process",
              file=sys.stderr)
        return {}
    times = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            item = json.loads(line)
            times[item["type"]] = item["seconds"]
    return times


def _gguf_version() -> str:
    try:
        from importlib.metadata import version as dist_version
        return dist_version("gguf")
    except Exception:  # noqa: BLE001 - only for the header line
        return "absent"


if __name__ == "__main__":
    sys.exit(main())
