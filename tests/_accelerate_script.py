"""Run by tests/test_accelerate.py under ``torchrun --nproc_per_node 2`` (gloo, CPU).

Each process trains the same estimators on the bundled real PTB-XL sample and writes what the
test compares across processes to ``<out>/rank<i>.json``.
"""

import json
import sys

import numpy as np
import torch
from accelerate import Accelerator
from skorch.callbacks import Callback

from ecgsk.datasets import load_ptbxl_sample
from ecgsk.estimators import AcceleratedECGClassifier, AcceleratedECGPretrainer

QUIET = {"progress_bar": False, "verbose": 0, "random_state": 0}


class ZeroWeightsFrom(Callback):
    """From epoch ``epoch`` on, the network is all zeros (constant output, AUROC 0.5): the best
    epoch is then an earlier one, whose weights early stopping must restore at the end."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) >= self.epoch:
            with torch.no_grad():
                for param in net.module_.parameters():
                    param.zero_()
            for group in net.optimizer_.param_groups:
                group["lr"] = 0.0


def weight_sum(module):
    return float(sum(p.detach().double().sum() for p in module.parameters()))


def main(out):
    accelerator = Accelerator(cpu=True)
    sample = load_ptbxl_sample(labels="superdiagnostic")
    X = sample.signals[:, :, ::4][:, :, :250]  # 2 s at 125 Hz: small and fast
    X = X - X.mean(-1, keepdims=True)
    X = (X / (X.std(axis=(1, 2), keepdims=True) + 1e-6)).astype(np.float32)
    y = sample.labels["NORM"].to_numpy().astype(int)

    clf = AcceleratedECGClassifier(
        "xresnet1d50-tiny", accelerator=accelerator, max_epochs=5, batch_size=16, lr=3e-3,
        lr_schedule=None, validation=0.25, callbacks=[("zero", ZeroWeightsFrom(3))], **QUIET,
    ).fit(X, y)
    pre = AcceleratedECGPretrainer(
        "deepecg-ssl-tiny", accelerator=accelerator, sfreq=125, segment_seconds=1, max_epochs=2,
        batch_size=16, lr=1e-3, validation=0.25, pretext_options={"n_entries": 16, "n_negatives": 10},
        **QUIET,
    ).fit(X, groups=sample.meta["patient_id"].to_numpy())
    result = {
        "rank": accelerator.process_index,
        "world": accelerator.num_processes,
        "clf_weights": weight_sum(clf.module_),
        "clf_module": type(clf.module_).__name__,
        "clf_batches": [row["train_batch_count"] for row in clf.history],
        "clf_valid_auroc": list(clf.history[:, "valid_auroc"]),
        "clf_train_loss": list(clf.history[:, "train_loss"]),
        "clf_proba": clf.predict_proba(X[:8]).tolist(),
        "clf_best_epoch": clf.best_epoch_,
        "pre_weights": weight_sum(pre.encoder_),
        "pre_batches": [row["train_batch_count"] for row in pre.history],
        "pre_valid_loss": list(pre.history[:, "valid_loss"]),
        "pre_embedding": pre.transform(X[:4]).tolist(),
        "threads": torch.get_num_threads(),
    }
    with open(f"{out}/rank{accelerator.process_index}.json", "w") as f:
        json.dump(result, f)
    # accelerate's documented last call: without it the gloo process group's threads are still
    # running at interpreter exit, and a process may abort ("terminate called without an active
    # exception") after its work is done (seen in about 1 of 3 runs).
    accelerator.wait_for_everyone()
    accelerator.end_training()


if __name__ == "__main__":
    main(sys.argv[1])
