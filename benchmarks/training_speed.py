"""Benchmark: training and inference throughput of every registry network, as a share of the
machine's own convolution and matmul throughput, and torch against onnxruntime inference.

For each model of ``ecgsk.nn.list_models()`` (full-size by default) at the DeepECG input
(12, 2500), 77 outputs:

- forward FLOPs per ECG, counted by ``torch.utils.flop_counter.FlopCounterMode`` (a training
  step counts as 3x the forward: forward, input gradient, weight gradient);
- training ECG/s: one step is forward + ``BCEWithLogitsLoss`` + backward + ``AdamW.step`` on a
  batch (64 by default), the network in train mode; median over the timed steps after a
  warm-up step. Alongside, the same network on the plain 3-D ``Conv1d`` layout
  (``model.fast_layout = False``: the same function and parameters, the layout ecgsk used before
  its channels-last layers), timed interleaved with it, and the median per-pair speed-up.
  (``ecgsk-effnet`` is the network that ``deepecg-sl`` named before it became the release's
  definition; compare it, not ``deepecg-sl``, with older tables);
- inference ECG/s: ``torch.inference_mode``, eval mode, sigmoid, one batch per call; and the same
  network exported with ``torch.onnx.export`` and run by onnxruntime's ``CPUExecutionProvider``
  (``intra_op_num_threads`` = the torch thread count), timed interleaved with torch, outputs
  compared (largest absolute probability difference);
- the machine's limits measured in the same run: a dense ``Conv1d(128, 128, 7)`` forward and
  backward on a ``(64, 128, 1000)`` input, and a float32 2048 x 2048 matmul, in GFLOP/s, each
  measured before and after the models (the median is used).

The input is the real PTB-XL records bundled with ecgsk, brought to (12, 2500) by
``make_deepecg_preprocessing(500)`` (repeated to fill a batch). Timings on a machine shared with
other work are noisy; the interleaved ratios are the robust numbers.

Usage::

    python benchmarks/training_speed.py                 # every full-size model, 2 threads
    python benchmarks/training_speed.py --quick         # tiny models, short input: a smoke run
    python benchmarks/training_speed.py --models deepecg-sl,xresnet1d50 --repeats 5
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
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import machine_line, print_table, time_pair  # noqa: E402

from ecgsk.datasets import load_ptbxl_sample  # noqa: E402
from ecgsk.nn import build_model, count_parameters, list_models  # noqa: E402
from ecgsk.preprocessing import make_deepecg_preprocessing  # noqa: E402

N_OUTPUTS = 77


def forward_flops(model, x) -> float:
    """Forward FLOPs of ``model`` on ``x`` (a multiply-add counts 2)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return float(counter.get_total_flops())


def median_seconds(fn, repeats) -> float:
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t0)
    return float(np.median(seconds))


def dense_conv_gflops(batch, repeats) -> float:
    """GFLOP/s of a dense ``Conv1d(128, 128, 7)`` forward + backward on (batch, 128, 1000)."""
    conv = torch.nn.Conv1d(128, 128, 7, padding=3, bias=False)
    x = torch.randn(batch, 128, 1000, requires_grad=True)
    flops = 3 * 2 * batch * 128 * 128 * 7 * 1000

    def step():
        conv.zero_grad()
        conv(x).sum().backward()

    step()
    return flops / median_seconds(step, repeats) / 1e9


def matmul_gflops(repeats, n=2048) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    return 2 * n ** 3 / median_seconds(lambda: a @ b, repeats) / 1e9


def make_train_step(model, x, y):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    return step


def bench_training(model, x, y, repeats):
    """ECG/s of the fast layout, of the plain 3-D layout, and the median per-pair speed-up."""
    import copy

    model.train()
    fast_step = make_train_step(model, x, y)
    fast_step()  # warm-up
    if not hasattr(model, "fast_layout"):
        return len(x) / median_seconds(fast_step, repeats), None, None
    plain = copy.deepcopy(model)
    plain.fast_layout = False
    plain_step = make_train_step(plain, x, y)
    plain_step()
    t_fast, t_plain = time_pair(fast_step, plain_step, repeats)
    return (len(x) / np.median(t_fast), len(x) / np.median(t_plain),
            float(np.median(t_plain / t_fast)))


def torch_predict(model, x):
    with torch.inference_mode():
        return torch.sigmoid(model(x)).numpy()


def onnx_session(model, x, threads, tmp):
    import onnxruntime as ort

    path = Path(tmp) / "model.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=True, input_names=["ecg"],
                          dynamic_shapes={"x": {0: torch.export.Dim("batch")}})
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def bench_inference(model, x, threads, repeats):
    """torch ECG/s, onnxruntime ECG/s (None if the export fails), their ratio, max |dp|."""
    model.eval()
    p_torch = torch_predict(model, x)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            session = onnx_session(model, x, threads, tmp)
    except Exception as exc:  # noqa: BLE001 - report, do not stop the table
        print(f"    onnx export failed: {type(exc).__name__}: {exc}"[:300], flush=True)
        return len(x) / median_seconds(lambda: torch_predict(model, x), repeats), None, None, None
    x_np = x.numpy()

    def run_onnx():
        logits = session.run(None, {session.get_inputs()[0].name: x_np})[0]
        return 1.0 / (1.0 + np.exp(-logits))

    diff = float(np.abs(run_onnx() - p_torch).max())
    t_torch, t_onnx = time_pair(lambda: torch_predict(model, x), run_onnx, repeats)
    return (len(x) / np.median(t_torch), len(x) / np.median(t_onnx),
            float(np.median(t_onnx / t_torch)), diff)


def load_input(batch, n_times):
    X = make_deepecg_preprocessing(500).fit_transform(load_ptbxl_sample().signals)
    reps = -(-batch // len(X))
    X = np.concatenate([X] * reps)[:batch, :, :n_times]
    return torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=None,
                        help="comma-separated registry names (default: every full-size model)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-times", type=int, default=2500)
    parser.add_argument("--repeats", type=int, default=3, help="timed pairs per measurement")
    parser.add_argument("--skip-onnx", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="tiny models, batch 8, 1000 samples, 2 repeats: checks the script")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch_size, args.n_times, args.repeats = 8, 1000, 2
        if args.models is None:
            args.models = ",".join(list_models(tiny=True))
    models = ([m.strip() for m in args.models.split(",") if m.strip()] if args.models
              else list_models(tiny=False))
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    header = machine_line(threads=args.threads, packages=("torch", "onnxruntime"))
    print(f"training speed: {header}", flush=True)

    x = load_input(args.batch_size, args.n_times)
    y = (torch.rand(args.batch_size, N_OUTPUTS) < 0.2).float()
    conv_ref = [dense_conv_gflops(args.batch_size, args.repeats)]
    mm_ref = [matmul_gflops(args.repeats)]
    print(f"  dense Conv1d(128,128,7) fwd+bwd {conv_ref[0]:.1f} GFLOP/s, "
          f"matmul {mm_ref[0]:.1f} GFLOP/s", flush=True)

    rows = []
    for name in models:
        model = build_model(name, n_leads=12, n_times=args.n_times, n_outputs=N_OUTPUTS)
        flops = forward_flops(model.eval(), x) / len(x)
        train_s, plain_s, speedup = bench_training(model, x, y, args.repeats)
        if args.skip_onnx:
            model.eval()
            infer = (len(x) / median_seconds(lambda m=model: torch_predict(m, x), args.repeats),
                     None, None, None)
        else:
            infer = bench_inference(model, x, args.threads, args.repeats)
        rows.append((name, count_parameters(model), flops, train_s, plain_s, speedup, *infer))
        print(f"  {name}: {flops / 1e9:.3f} GFLOP/ECG, train {train_s:.1f} ECG/s "
              f"(3-D layout {plain_s or float('nan'):.1f}), torch inference {infer[0]:.1f} "
              f"ECG/s, onnxruntime {infer[1] or float('nan'):.1f}", flush=True)
        del model

    conv_ref.append(dense_conv_gflops(args.batch_size, args.repeats))
    mm_ref.append(matmul_gflops(args.repeats))
    conv_gflops, mm_gflops = float(np.median(conv_ref)), float(np.median(mm_ref))

    def fmt(value, spec):
        return "-" if value is None else format(value, spec)

    print()
    flags = " --quick" if args.quick else ""
    print(f"`python benchmarks/training_speed.py{flags} --threads {args.threads} "
          f"--batch-size {args.batch_size} --n-times {args.n_times} --repeats {args.repeats}`")
    print(header + f"; real PTB-XL ECGs at (12, {args.n_times}), {N_OUTPUTS} outputs, batch "
          f"{args.batch_size}. Same-run limits: dense Conv1d(128, 128, 7) forward + backward "
          f"{conv_gflops:.1f} GFLOP/s (runs: {', '.join(f'{v:.1f}' for v in conv_ref)}), "
          f"matmul 2048^2 {mm_gflops:.1f} GFLOP/s.")
    print()
    print_table(
        ["model", "parameters", "GFLOP/ECG (fwd)", "train ECG/s", "train GFLOP/s",
         "share of dense conv", "train ECG/s, 3-D layout", "speed-up (pairs)",
         "inference ECG/s torch", "inference GFLOP/s", "onnxruntime ECG/s",
         "torch / onnxruntime speed", "max |dp|"],
        [(name, f"{n_params:,}", f"{flops / 1e9:.3f}", f"{train_s:.1f}",
          f"{3 * flops * train_s / 1e9:.1f}", f"{3 * flops * train_s / 1e9 / conv_gflops:.2f}",
          fmt(plain_s, ".1f"), fmt(speedup, ".2f"), f"{inf_t:.1f}",
          f"{flops * inf_t / 1e9:.1f}", fmt(inf_o, ".1f"), fmt(ratio, ".2f"), fmt(diff, ".1e"))
         for name, n_params, flops, train_s, plain_s, speedup, inf_t, inf_o, ratio, diff
         in rows])


if __name__ == "__main__":
    main()
