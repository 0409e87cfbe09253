"""Benchmark: scoring a cohort larger than memory, and converting a folder of records.

- **predict from a .npy on disk**: ``--n`` ECGs (default 100,000) of 12 x 1000 (10 s at
  100 Hz: the real PTB-XL 100 Hz records of ``../shared/data/ptbxl_records100``, tiled to
  ``--n`` rows) written as one float32 ``.npy`` (4.8 GB at 100,000), scored by
  ``ECGClassifier("xresnet1d50-tiny").predict_proba(ECGDataset(npy, sfreq=100))`` in a fresh
  subprocess. Its peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is the
  figure to keep under 2 GB; the RSS after loading the model, before predicting, is shown too.
- **in memory vs lazy** on the first ``--n-memory`` ECGs (default 10,000), which fit in
  memory: the same ``predict_proba`` on an array loaded with ``np.load`` and on an
  ``ECGDataset`` over a ``.npy`` of those rows, each in its own subprocess, alternated
  ``--repeats`` times; ECGs/s (median) and the ratio lazy / in memory (median of the
  per-pair ratios, as the load of a shared machine drifts between pairs).
- **convert**: records/s of ``ecgsk.io.convert`` on a folder of real WFDB records (PTB-XL
  500 Hz, ``../shared/data/ptbxl_subset/records500``, copied ``--copies`` times into
  subfolders), with 1 and 2 joblib workers, without and with ``make_deepecg_preprocessing(500)``
  (the workers' one-time start-up is timed apart).

The file is read through the page cache (it was just written), so the figures are those of a
warm cache: the cost measured is ecgsk's, not the disk's.

Usage::

    python benchmarks/scale.py                      # 100,000 ECGs (4.8 GB of temporary disk)
    python benchmarks/scale.py --n 20000 --n-memory 5000 --copies 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import interleaved, machine_line, print_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
MODEL = "xresnet1d50-tiny"


# --------------------------------------------------------------------------- data
def load_real_100hz(data_dir: Path) -> tuple[np.ndarray, str]:
    """Real PTB-XL ECGs at 100 Hz, (n, 12, 1000) float32 mV, and where they come from."""
    path = data_dir / "ptbxl_records100" / "ptbxl100.npz"
    if path.is_file():
        with np.load(path) as z:
            return (z["signal"].astype(np.float32) / float(z["adc_gain"]),
                    f"{len(z['signal'])} PTB-XL records ({path.name})")
    from ecgsk.datasets import load_ptbxl_sample

    sample = load_ptbxl_sample(sfreq=100)
    return sample.signals, "the 200 records of the bundled PTB-XL sample, resampled to 100 Hz"


def write_tiled_npy(path: Path, base: np.ndarray, n: int) -> float:
    """Write ``n`` rows, cycling through ``base``, as one .npy; return the seconds taken."""
    t0 = time.perf_counter()
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                    shape=(n, *base.shape[1:]))
    for start in range(0, n, len(base)):
        stop = min(start + len(base), n)
        out[start:stop] = base[: stop - start]
    out.flush()
    del out
    return time.perf_counter() - t0


def child_prepare(args) -> None:
    """Run in a fresh process: write the two .npy files and a fitted model; print JSON."""
    import joblib
    import torch

    from ecgsk import ECGClassifier

    torch.set_num_threads(args.threads)
    base, origin = load_real_100hz(Path(args.data_dir))
    workdir = Path(args.workdir)
    write_s = write_tiled_npy(workdir / "cohort.npy", base, args.n)
    write_tiled_npy(workdir / "subset.npy", base, args.n_memory)
    peak = np.abs(base[:256]).max(axis=(1, 2))
    high = peak > np.median(peak)  # a learnable 2-label target; only the fitted network matters
    clf = ECGClassifier(MODEL, max_epochs=1, batch_size=64, validation=None, threshold=0.5,
                        device="cpu", random_state=0, progress_bar=False, verbose=0)
    clf.fit(base[:256], np.column_stack([high, ~high]).astype(np.float32))
    joblib.dump(clf, workdir / "model.pkl")
    print(json.dumps({"origin": origin, "write_seconds": write_s}))


# --------------------------------------------------------------------------- children
def child_predict(args) -> None:
    """Run in a fresh process: load the model, predict, print timings and peak RSS as JSON."""
    import resource

    import joblib
    import torch

    torch.set_num_threads(args.threads)
    clf = joblib.load(args.model)
    clf.set_params(batch_size=args.batch_size, num_workers=args.num_workers)
    if args.source == "memory":
        X = np.load(args.npy)  # the whole array in memory
        warm = X[:args.batch_size]
    else:
        from ecgsk.datasets import ECGDataset

        X = ECGDataset(args.npy, sfreq=100)
        warm = np.stack([X[i] for i in range(args.batch_size)])
    clf.predict_proba(warm)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    proba = clf.predict_proba(X)
    seconds = time.perf_counter() - t0
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"n": len(proba), "seconds": seconds, "rss_before_mb": rss_before,
                      "rss_peak_mb": rss_peak, "worker_rss_peak_mb": children,
                      "checksum": float(np.float64(proba).sum())}))


def run_child(cmd: list[str], args) -> dict:
    """Run this file as a child; its RSS is its own (this process stays small: no torch)."""
    cmd = [sys.executable, __file__, *cmd]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- convert
def bench_convert(workdir: Path, records500: Path, copies: int) -> tuple[list, int]:
    from ecgsk.io import convert
    from ecgsk.preprocessing import make_deepecg_preprocessing

    folder = workdir / "wfdb"
    for k in range(copies):
        shutil.copytree(records500, folder / f"copy{k}")
    n_files = len(list(folder.rglob("*.hea")))
    # joblib starts its worker processes once per Python process (they are then reused):
    # time that start-up apart, with a conversion of two files.
    t0 = time.perf_counter()
    convert(sorted(folder.rglob("*.hea"))[:2], workdir / "warm-up.zarr", n_jobs=2,
            progress=False)
    print(f"  joblib worker start-up (two-file conversion, n_jobs=2): "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    rows = []
    for label, preprocessing in (("none", None),
                                 ("make_deepecg_preprocessing(500)",
                                  make_deepecg_preprocessing(500))):
        for n_jobs in (1, 2):
            dest = workdir / f"converted-{n_jobs}.zarr"
            t0 = time.perf_counter()
            report = convert(folder, dest, preprocessing=preprocessing, n_jobs=n_jobs,
                             progress=False)
            seconds = time.perf_counter() - t0
            if report.n_failed:
                raise RuntimeError(f"convert failed on {report.n_failed} real records")
            rows.append((label, n_jobs, report.n_converted, seconds))
            print(f"  convert ({label}), n_jobs={n_jobs}: {report.n_converted} records in "
                  f"{seconds:.1f} s = {report.n_converted / seconds:.0f} records/s", flush=True)
            shutil.rmtree(dest)
    return rows, n_files


# --------------------------------------------------------------------------- main
def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("_predict", "_prepare"):
        child = argparse.ArgumentParser()
        for name in ("--npy", "--model", "--source", "--data-dir", "--workdir"):
            child.add_argument(name)
        for name in ("--threads", "--batch-size", "--num-workers", "--n", "--n-memory"):
            child.add_argument(name, type=int)
        (child_predict if argv[0] == "_predict" else child_prepare)(child.parse_args(argv[1:]))
        return

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="ECGs scored from disk")
    parser.add_argument("--n-memory", type=int, default=10_000,
                        help="ECGs of the in-memory vs lazy comparison")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--num-workers", type=int, default=0, help="DataLoader workers")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--copies", type=int, default=5,
                        help="copies of the 200 WFDB records for the convert benchmark")
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    parser.add_argument("--workdir", type=Path, help="temporary folder (default: a new one)")
    parser.add_argument("--skip-convert", action="store_true")
    args = parser.parse_args(argv)
    if args.n < 1 or not 1 <= args.n_memory <= args.n:
        parser.error("need --n >= 1 and 1 <= --n-memory <= --n")

    header = machine_line(threads=args.threads)
    print(f"scale benchmark: {header}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="ecgsk-scale-", dir=args.workdir))
    try:
        prepared = run_child(["_prepare", "--data-dir", str(args.data_dir), "--workdir",
                              str(workdir), "--n", str(args.n), "--n-memory",
                              str(args.n_memory), "--threads", str(args.threads)], args)
        origin = prepared["origin"]
        big, small, model = workdir / "cohort.npy", workdir / "subset.npy", workdir / "model.pkl"
        gb = big.stat().st_size / 1e9
        print(f"  wrote {args.n} ECGs ({gb:.2f} GB) in {prepared['write_seconds']:.1f} s from "
              f"{origin}", flush=True)

        def predict(npy, source):
            return run_child(["_predict", "--npy", str(npy), "--model", str(model), "--source",
                              source, "--threads", str(args.threads), "--batch-size",
                              str(args.batch_size), "--num-workers", str(args.num_workers)],
                             args)

        full = predict(big, "lazy")
        print(f"  lazy, {full['n']} ECGs: {full['n'] / full['seconds']:.0f} ECGs/s, peak RSS "
              f"{full['rss_peak_mb']:.0f} MB", flush=True)
        memory, lazy = [], []
        for _, source in interleaved("memory", "lazy", args.repeats):
            result = predict(small, source)
            (memory if source == "memory" else lazy).append(result)
            print(f"  {source}, {result['n']} ECGs: "
                  f"{result['n'] / result['seconds']:.0f} ECGs/s, peak RSS "
                  f"{result['rss_peak_mb']:.0f} MB", flush=True)
        if not np.isclose(memory[0]["checksum"], lazy[0]["checksum"], rtol=1e-5):
            raise RuntimeError("lazy and in-memory predictions differ")
        convert_rows, n_files = ([], 0)
        records500 = args.data_dir / "ptbxl_subset" / "records500"
        if not args.skip_convert and records500.is_dir():
            convert_rows, n_files = bench_convert(workdir, records500, args.copies)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    def rate(results):
        return float(np.median([r["n"] / r["seconds"] for r in results]))

    def peak(results):
        return max(r["rss_peak_mb"] for r in results)

    print()
    print(f"`python benchmarks/scale.py --n {args.n} --n-memory {args.n_memory} --repeats "
          f"{args.repeats} --batch-size {args.batch_size} --num-workers {args.num_workers} "
          f"--threads {args.threads} --copies {args.copies}`")
    print(f"{header}; {origin}, 12 x 1000 (100 Hz), model {MODEL}, 2 outputs.")
    print()
    print_table(["input", "ECGs", "ECGs/s", "RSS before predict (MB)", "peak RSS (MB)"], [
        (f"ECGDataset over a {gb:.1f} GB .npy", full["n"], f"{full['n'] / full['seconds']:.0f}",
         f"{full['rss_before_mb']:.0f}", f"{full['rss_peak_mb']:.0f}"),
        ("in-memory array (np.load)", args.n_memory, f"{rate(memory):.0f}",
         f"{memory[0]['rss_before_mb']:.0f}", f"{peak(memory):.0f}"),
        ("ECGDataset over a .npy", args.n_memory, f"{rate(lazy):.0f}",
         f"{lazy[0]['rss_before_mb']:.0f}", f"{peak(lazy):.0f}"),
    ])
    print()
    pairs = [(m["seconds"] / m["n"]) / (lz["seconds"] / lz["n"])
             for m, lz in zip(memory, lazy, strict=True)]
    print(f"Lazy / in-memory throughput on {args.n_memory} ECGs: median of the "
          f"{args.repeats} per-pair ratios {np.median(pairs):.3f} (pairs: "
          f"{', '.join(f'{p:.2f}' for p in pairs)}). Peak RSS on {full['n']} ECGs: "
          f"{full['rss_peak_mb']:.0f} MB (target < 2048 MB: "
          f"{'met' if full['rss_peak_mb'] < 2048 else 'NOT met'}).")
    if convert_rows:
        print()
        print(f"convert: {n_files} real PTB-XL WFDB records (500 Hz, 12 x 5000; "
              f"{args.copies} copies of records500) to a zarr store.")
        print()
        print_table(["preprocessing", "n_jobs", "records", "seconds", "records/s"],
                    [(label, n_jobs, n, f"{seconds:.1f}", f"{n / seconds:.0f}")
                     for label, n_jobs, n, seconds in convert_rows])


if __name__ == "__main__":
    main()
