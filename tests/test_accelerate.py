"""Multi-process training through Hugging Face Accelerate: two CPU processes (gloo) under
``torchrun``, the way ``accelerate launch`` runs them on several GPUs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

accelerate = pytest.importorskip("accelerate")

from ecgsk.estimators import AcceleratedECGClassifier, ECGClassifier  # noqa: E402

SCRIPT = Path(__file__).with_name("_accelerate_script.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("accelerate")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_port", str(_free_port()), str(SCRIPT), str(out),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]


def test_two_processes_share_the_epochs_and_end_with_the_same_network(two_ranks):
    r0, r1 = two_ranks
    assert (r0["world"], r1["world"]) == (2, 2) and {r0["rank"], r1["rank"]} == {0, 1}
    # 150 training ECGs in batches of 16 = 10 batches per epoch, split between the two processes
    assert r0["clf_batches"] == r1["clf_batches"] == [5, 5, 5, 5, 5]
    assert r0["pre_batches"] == r1["pre_batches"] == [5, 5]
    # different shards of each epoch...
    assert r0["clf_train_loss"] != r1["clf_train_loss"]
    # ...but gradients are averaged, so the networks stay identical
    assert r0["clf_weights"] == r1["clf_weights"]
    assert r0["pre_weights"] == r1["pre_weights"]
    # the whole validation set is scored in each process: early stopping agrees everywhere
    assert r0["clf_valid_auroc"] == r1["clf_valid_auroc"]
    assert r0["pre_valid_loss"] == r1["pre_valid_loss"]
    np.testing.assert_array_equal(r0["clf_proba"], r1["clf_proba"])
    np.testing.assert_array_equal(r0["pre_embedding"], r1["pre_embedding"])
    # epochs 4-5 run on an all-zero network (AUROC 0.5), so the best epoch is 1-3: its weights,
    # snapshotted from the distributed wrapper, were restored into the bare network
    assert r0["clf_valid_auroc"][3:] == [0.5, 0.5]
    assert r0["clf_best_epoch"] == r1["clf_best_epoch"] <= 3
    assert r0["clf_valid_auroc"][r0["clf_best_epoch"] - 1] == max(r0["clf_valid_auroc"]) > 0.5
    assert r0["clf_weights"] != 0.0
    # unwrapped after training (DistributedDataParallel removed): ready to save or pickle
    assert r0["clf_module"] == "XResNet1d"
    assert all(np.isfinite(r0["pre_valid_loss"]))
    assert r0["clf_train_loss"][2] < r0["clf_train_loss"][0]  # it learns before the zeroing


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 12, 250)).astype(np.float32)
    y = np.tile([0, 1], 20)
    X[y == 1, :, 100:120] += 2.0
    return X, y


def test_single_process_accelerator_matches_the_plain_estimator(tmp_path):
    from accelerate import Accelerator

    X, y = _data()
    params = dict(max_epochs=2, batch_size=8, random_state=0, progress_bar=False, verbose=0)
    acc = AcceleratedECGClassifier(
        "xresnet1d50-tiny", accelerator=Accelerator(cpu=True), **params
    ).fit(X, y)
    plain = ECGClassifier("xresnet1d50-tiny", device="cpu", **params).fit(X, y)
    np.testing.assert_allclose(acc.predict_proba(X), plain.predict_proba(X), rtol=1e-5, atol=1e-6)
    assert "accelerator" in acc.get_params() and "_wrapped_with_accelerator" not in acc.get_params()
    loaded = ECGClassifier.load(acc.save(tmp_path / "model"), device="cpu")
    np.testing.assert_allclose(loaded.predict_proba(X), acc.predict_proba(X), rtol=1e-6)


def test_device_is_left_to_the_accelerator():
    from accelerate import Accelerator

    X, y = _data()
    with pytest.raises(ValueError, match="accelerator places the network"):
        AcceleratedECGClassifier(
            "xresnet1d50-tiny", accelerator=Accelerator(cpu=True), device="cpu", max_epochs=1
        ).fit(X, y)


def test_verbose_zero_is_silent(capsys):
    from accelerate import Accelerator

    X, y = _data()
    AcceleratedECGClassifier(
        "xresnet1d50-tiny", accelerator=Accelerator(cpu=True), max_epochs=1, verbose=0,
        progress_bar=False,
    ).fit(X, y)
    assert "train_loss" not in capsys.readouterr().out
