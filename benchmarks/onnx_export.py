"""Benchmark: CPU inference of an exported ONNX file (onnxruntime) against torch.

For each model (by default "deepecg-sl" and "deepecg-ssl-small", both at the DeepECG input
(12, 2500)), a classifier is fitted for one epoch on a few ECGs (the weights do not matter for
speed), written with ``ECGClassifier.to_onnx`` and timed against the loop a user would write in
torch around the same trained network (``torch.inference_mode``, sigmoid, numpy out):

- onnxruntime ``CPUExecutionProvider`` with ``intra_op_num_threads`` = the torch thread count;
- batch sizes 1 (one ECG per call, the serving case) and 64 (batch scoring);
- the two engines are timed alternately (the order flips every repeat) after a warm-up, and the
  ratio is the median of the per-repeat ratios ``t_torch / t_onnx`` (above 1: ONNX is faster).

The ECGs are the real PTB-XL records bundled with ecgsk (500 Hz), brought to (12, 2500) by
``make_deepecg_preprocessing(500)``. Before timing, the two engines' outputs are compared
(largest absolute difference of the probabilities, reported in the table).

Usage::

    python benchmarks/onnx_export.py                              # both models, 1 and 2 threads
    python benchmarks/onnx_export.py --models deepecg-sl --threads 1 --repeats 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import machine_line, print_table, time_pair  # noqa: E402

from ecgsk.datasets import load_ptbxl_sample  # noqa: E402
from ecgsk.estimators import ECGClassifier  # noqa: E402
from ecgsk.preprocessing import make_deepecg_preprocessing  # noqa: E402

MODELS = ("deepecg-sl", "deepecg-ssl-small")


def torch_predict(module, X, batch_size):
    """What a user would write: eval mode, inference_mode, batches, sigmoid, numpy out."""
    module.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(X), batch_size):
            out.append(torch.sigmoid(module(torch.from_numpy(X[i:i + batch_size]))).numpy())
    return np.concatenate(out)


def onnx_predict(session, X, batch_size):
    out = [session.run(None, {"ecg": X[i:i + batch_size]})[0]
           for i in range(0, len(X), batch_size)]
    return np.concatenate(out)


def make_session(path, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def bench(module, session, X, batch_size, repeats):
    """Median ECGs/s of torch and onnxruntime, and the median per-repeat ratio."""
    torch_predict(module, X[:batch_size], batch_size)  # warm-up of both engines
    onnx_predict(session, X[:batch_size], batch_size)
    t_torch, t_onnx = time_pair(lambda: torch_predict(module, X, batch_size),
                                lambda: onnx_predict(session, X, batch_size), repeats)
    n = len(X)
    return n / np.median(t_torch), n / np.median(t_onnx), float(np.median(t_torch / t_onnx))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--batch-sizes", default="1,64")
    parser.add_argument("--n-single", type=int, default=16,
                        help="ECGs per timing at batch size 1 (one call each)")
    parser.add_argument("--repeats", type=int, default=3, help="timed pairs per configuration")
    parser.add_argument("--out-dir", type=Path, help="keep the .onnx files here")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*single class in the training targets")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    threads = [int(t) for t in args.threads.split(",")]
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]

    data = load_ptbxl_sample()
    X = make_deepecg_preprocessing(data.sfreq).fit_transform(data.signals)
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = data.labels.to_numpy().astype(np.float32)
    header = machine_line(packages=("torch", "onnxruntime"))
    print(f"ONNX export benchmark: {header}", flush=True)
    out_dir = args.out_dir or Path(tempfile.mkdtemp(prefix="ecgsk-onnx-bench-"))

    rows = []
    for name in models:
        torch.set_num_threads(max(threads))
        clf = ECGClassifier(name, max_epochs=1, batch_size=16, validation=None, threshold=0.5,
                            device="cpu", random_state=0, progress_bar=False, verbose=0)
        clf.fit(X[:16], y[:16])
        t0 = time.perf_counter()
        path = clf.to_onnx(out_dir / f"{name}.onnx")
        export_s = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
        print(f"  {name}: exported in {export_s:.1f} s ({size_mb:.1f} MB)", flush=True)
        module = clf.module_
        for n_threads in threads:
            torch.set_num_threads(n_threads)
            session = make_session(path, n_threads)
            for batch_size in batch_sizes:
                n = args.n_single if batch_size == 1 else batch_size
                Xb = X[:n]
                diff = float(np.abs(onnx_predict(session, Xb, batch_size)
                                    - torch_predict(module, Xb, batch_size)).max())
                torch_s, onnx_s, ratio = bench(module, session, Xb, batch_size, args.repeats)
                rows.append((name, n_threads, batch_size, torch_s, onnx_s, ratio, diff))
                print(f"  {name}, {n_threads} thread(s), batch {batch_size}: torch "
                      f"{torch_s:.2f} ECGs/s, onnxruntime {onnx_s:.2f} ECGs/s, ratio "
                      f"{ratio:.2f}, max |diff| {diff:.1e}", flush=True)

    print()
    print(f"`python benchmarks/onnx_export.py --models {','.join(models)} --threads "
          f"{args.threads} --batch-sizes {args.batch_sizes} --n-single {args.n_single} "
          f"--repeats {args.repeats}`")
    print(header + "; real PTB-XL ECGs at (12, 2500), 5 outputs, predict_proba graph.")
    print()
    print_table(["model", "threads", "batch", "torch (ECGs/s)", "onnxruntime (ECGs/s)",
                 "ratio onnx / torch (median of pairs)", "max abs diff"],
                [(name, n_threads, batch_size, f"{torch_s:.2f}", f"{onnx_s:.2f}", f"{ratio:.2f}",
                  f"{diff:.1e}")
                 for name, n_threads, batch_size, torch_s, onnx_s, ratio, diff in rows])


if __name__ == "__main__":
    main()
