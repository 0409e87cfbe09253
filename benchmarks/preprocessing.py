"""Throughput and memory of ``make_deepecg_preprocessing`` against a neurokit2 loop.

Prints a markdown table: ECGs per second of the ecgsk pipeline on 10 s,
500 Hz, 12-lead float32 ECGs (real PTB-XL records, tiled), of the loop a user
would write today (neurokit2 ``ecg_clean`` then ``signal_resample``, lead by
lead, ECG by ECG) on the same records, their ratio, and the peak memory of
``transform`` on a large batch as a multiple of the input size (measured
with ``tracemalloc`` and ``ru_maxrss`` in a fresh subprocess).

Everything runs in one thread (thread-pool environment variables are set
before numpy is imported, and ``threadpoolctl`` limits them again).

Usage::

    python benchmarks/preprocessing.py --n 2000 --n-loop 20 --n-memory 10000
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from ecgsk.preprocessing import make_deepecg_preprocessing  # noqa: E402

SFREQ = 500
N_TIMES = 5000
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ptbxl_subset"


def load_records(data_dir: Path, n: int) -> np.ndarray:
    """Real PTB-XL 500 Hz records (up to 200 distinct), tiled to ``n`` ECGs."""
    import wfdb

    headers = sorted((data_dir / "records500").glob("*/*_hr.hea"))[:200]
    if not headers:
        raise SystemExit(f"no PTB-XL 500 Hz records under {data_dir}/records500 (use --data)")
    signals = np.stack([wfdb.rdsamp(str(h.with_suffix("")))[0].T for h in headers]).astype(np.float32)
    reps = -(-n // len(signals))
    return np.ascontiguousarray(np.tile(signals, (reps, 1, 1))[:n])


def time_call(func, repeats: int) -> tuple[float, float]:
    """Best wall-clock and CPU time (s) over ``repeats`` calls."""
    wall, cpu = np.inf, np.inf
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        func()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def neurokit_loop(X: np.ndarray) -> np.ndarray:
    """What a user writes today: clean and resample each lead of each ECG."""
    import neurokit2 as nk

    out = np.empty((len(X), X.shape[1], N_TIMES // 2), dtype=np.float32)
    for i, ecg in enumerate(X):
        for j, lead in enumerate(ecg):
            clean = nk.ecg_clean(lead, sampling_rate=SFREQ)
            out[i, j] = nk.signal_resample(clean, sampling_rate=SFREQ, desired_sampling_rate=SFREQ // 2)
    return out


def memory_child(data_dir: Path, n: int) -> None:
    """Run in a subprocess: peak memory of ``transform`` on ``n`` ECGs, as JSON."""
    X = load_records(data_dir, n)
    pipe = make_deepecg_preprocessing(SFREQ).fit(X[:2])
    pipe.transform(X[:64])  # warm-up: imports, FFT plans
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    Y = pipe.transform(X)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "input_bytes": X.nbytes,
        "output_bytes": Y.nbytes,
        "traced_peak_bytes": peak,
        "rss_before_bytes": rss_before,
        "rss_peak_bytes": rss_after,
    }))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="ECGs timed through ecgsk")
    parser.add_argument("--n-loop", type=int, default=20, help="ECGs timed through the neurokit2 loop")
    parser.add_argument("--n-memory", type=int, default=10000, help="ECGs for the memory measurement (0: skip)")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats (best is kept)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="PTB-XL folder with records500/")
    parser.add_argument("--memory-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_child:
        with threadpool_limits(1):
            memory_child(args.data, args.memory_child)
        return

    load = os.getloadavg()
    with threadpool_limits(1):
        X = load_records(args.data, max(args.n, args.n_loop))
        pipe = make_deepecg_preprocessing(SFREQ).fit(X[:2])
        pipe.transform(X[:64])  # warm-up
        fast_wall, fast_cpu = time_call(lambda: pipe.transform(X[:args.n]), args.repeats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            neurokit_loop(X[:2])  # warm-up
            slow_wall, slow_cpu = time_call(lambda: neurokit_loop(X[:args.n_loop]), max(1, args.repeats - 1))

    fast_rate, slow_rate = args.n / fast_wall, args.n_loop / slow_wall
    fast_cpu_rate, slow_cpu_rate = args.n / fast_cpu, args.n_loop / slow_cpu

    mem = None
    if args.n_memory:
        result = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(args.n_memory), "--data", str(args.data)],
            capture_output=True, text=True, check=True,
        )
        mem = json.loads(result.stdout.strip().splitlines()[-1])

    import neurokit2

    print(f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
          f"CPU: {cpu_model()}; nproc: {os.cpu_count()}; threads: 1; "
          f"load average at the start: {load[0]:.2f}; "
          f"numpy {np.__version__}, scipy {scipy.__version__}, neurokit2 {neurokit2.__version__}")
    print("Input: real PTB-XL records, 10 s, 500 Hz, 12 leads, float32; output (n, 12, 2500) at 250 Hz.\n")
    print("| method | ECGs timed | ECGs/s (wall) | ECGs/s (CPU time) | ms per ECG (wall) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| ecgsk `make_deepecg_preprocessing(500).transform` | {args.n} | {fast_rate:,.0f} | "
          f"{fast_cpu_rate:,.0f} | {1e3 / fast_rate:.3f} |")
    print(f"| neurokit2 loop (`ecg_clean` + `signal_resample` per lead) | {args.n_loop} | "
          f"{slow_rate:,.1f} | {slow_cpu_rate:,.1f} | {1e3 / slow_rate:.1f} |")
    print(f"| **ratio ecgsk / neurokit2** | | **{fast_rate / slow_rate:,.0f}x** | "
          f"**{fast_cpu_rate / slow_cpu_rate:,.0f}x** | |")
    if mem:
        gib = mem["input_bytes"] / 2**30
        traced = (mem["input_bytes"] + mem["traced_peak_bytes"]) / mem["input_bytes"]
        rss = mem["rss_peak_bytes"] / mem["input_bytes"]
        print(f"\nPeak memory of `transform` on {args.n_memory:,} ECGs (input {gib:.2f} GiB), "
              "as a multiple of the input size:\n")
        print("| measure | multiple of input |")
        print("|---|---:|")
        print(f"| tracemalloc: input + peak traced allocations during `transform` | {traced:.2f}x |")
        print(f"| of which the output array | {mem['output_bytes'] / mem['input_bytes']:.2f}x |")
        print(f"| ru_maxrss of the whole subprocess (interpreter, libraries, input, output) | {rss:.2f}x |")


if __name__ == "__main__":
    main()
