"""ECGEmbedder's on-disk cache: a corrupt file is discarded and recomputed (issue 13, item 8)."""

from __future__ import annotations

import gc
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from ecgsk import ECGEmbedder
from ecgsk.estimators._embedding_cache import load_store, save_store
from ecgsk.nn import build_model


@pytest.fixture(scope="module")
def ecgs():
    from ecgsk.datasets import load_ptbxl_sample

    X = load_ptbxl_sample().signals[:6, :, :1250]  # real PTB-XL, 500 Hz, 2.5 s
    return np.ascontiguousarray(X, dtype=np.float32)


@pytest.fixture(scope="module")
def encoder(ecgs):
    import torch

    torch.manual_seed(0)
    return build_model("deepecg-ssl-tiny", n_times=ecgs.shape[-1], n_outputs=1)


def _open_files(path: Path) -> list[str]:
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        pytest.skip("no /proc/self/fd on this system to count open files")
    found = []
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


def _cache_file(folder: Path) -> Path:
    (path,) = folder.glob("embeddings-*.npz")
    return path


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "wrong_arrays"])
def test_corrupt_cache_is_discarded_recomputed_and_named(ecgs, encoder, tmp_path, damage):
    embedder = ECGEmbedder(encoder, device="cpu", cache=tmp_path).fit(ecgs)
    expected = embedder.transform(ecgs)
    path = _cache_file(tmp_path)
    good = path.read_bytes()
    if damage == "truncate":  # before: zipfile.BadZipFile without the path, and an open handle
        path.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        np.savez(path, keys=np.arange(3), values=np.zeros((2, 5)))
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = ECGEmbedder(encoder, device="cpu", cache=tmp_path).fit(ecgs).transform(ecgs)
    messages = [str(w.message) for w in caught if "embedding cache" in str(w.message)]
    assert len(messages) == 1 and str(path) in messages[0] and "computed again" in messages[0]
    np.testing.assert_allclose(again, expected, rtol=1e-5, atol=1e-6)
    gc.collect()
    assert _open_files(tmp_path) == []
    # the recomputed store replaced the corrupt file: the next read is silent and complete
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store = load_store(path, embedder.n_features_out_)
    assert len(store) == len(ecgs)


def test_unreadable_file_is_closed(tmp_path):
    """np.load(path) leaves the file open when the zip directory is bad (a ResourceWarning)."""
    path = tmp_path / "embeddings-z.npz"
    save_store(path, {b"k" * 16: np.ones(4, np.float32)})
    path.write_bytes(path.read_bytes()[:100])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert load_store(path, 4) == {}
        gc.collect()
    kinds = [w.category for w in caught]
    assert ResourceWarning not in kinds and kinds == [UserWarning]
    assert str(path) in str(caught[0].message)


def test_cache_of_another_embedding_size_is_discarded(tmp_path):
    path = tmp_path / "embeddings-x.npz"
    save_store(path, {b"k" * 16: np.ones(4, np.float32)})
    assert len(load_store(path, 4)) == 1
    with pytest.warns(UserWarning, match=r"embeddings-x\.npz.*size 4, expected 8"):
        assert load_store(path, 8) == {}
    assert not path.exists()


def test_save_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "sub" / "embeddings-y.npz"
    save_store(path, {b"a" * 16: np.zeros(2, np.float32), b"b" * 16: np.ones(2, np.float32)})
    assert sorted(p.name for p in path.parent.iterdir()) == ["embeddings-y.npz"]
    assert sorted(load_store(path)) == [b"a" * 16, b"b" * 16]
