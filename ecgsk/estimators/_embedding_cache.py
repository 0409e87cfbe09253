"""The on-disk embedding cache of :class:`ECGEmbedder`: one ``.npz`` per encoder.

Each file maps 16-byte ECG digests (``keys``) to embedding rows (``values``).
A file that cannot be read (truncated by a crash, a full disk, a bad copy) is
discarded with a warning naming it, so that its embeddings are computed again
instead of failing every later ``transform``.
"""

from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np


def _read(path: Path) -> dict[bytes, np.ndarray]:
    # np.load leaves the file open when the zip directory is unreadable: open it ourselves.
    with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as saved:
        keys, values = saved["keys"], saved["values"]
    if keys.dtype != np.dtype("S16") or keys.ndim != 1:
        raise ValueError(f"keys have dtype {keys.dtype} and shape {keys.shape}, expected S16 (n,)")
    if values.ndim != 2 or values.shape[0] != keys.shape[0]:
        raise ValueError(f"values of shape {values.shape} do not match {keys.shape[0]} keys")
    if not np.issubdtype(values.dtype, np.floating):
        raise ValueError(f"values have dtype {values.dtype}, expected floats")
    return {bytes(k): v for k, v in zip(keys, values, strict=True)}


def load_store(path: Path, n_features: int | None = None) -> dict[bytes, np.ndarray]:
    """Read a cache file; a missing one is empty, an unreadable one is discarded with a warning.

    Parameters
    ----------
    path : Path
        The ``.npz`` file.
    n_features : int, optional
        Expected embedding size; a file holding another size is discarded too.

    Returns
    -------
    dict of bytes to ndarray
        ECG digest -> embedding.

    Examples
    --------
    >>> import tempfile, warnings, numpy as np
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "embeddings.npz"
    >>> save_store(path, {b"0" * 16: np.ones(3, np.float32)})
    >>> load_store(path)[b"0" * 16].tolist()
    [1.0, 1.0, 1.0]
    >>> _ = path.write_bytes(path.read_bytes()[:40])  # truncated
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     store = load_store(path)
    >>> store, "embeddings.npz" in str(caught[0].message), path.exists()
    ({}, True, False)
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        store = _read(path)
        if n_features is not None and store:
            size = next(iter(store.values())).shape[0]
            if size != n_features:
                raise ValueError(f"embeddings of size {size}, expected {n_features}")
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        warnings.warn(
            f"embedding cache file {path} is unreadable ({type(exc).__name__}: {exc}); "
            "discarding it: its embeddings are computed again",
            UserWarning,
            stacklevel=4,
        )
        try:
            path.unlink()
        except OSError:
            pass  # replaced on the next save anyway
        return {}
    return store


def save_store(path: Path, store: dict[bytes, np.ndarray]) -> None:
    """Write ``store`` to ``path`` atomically (a parallel reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = np.array(list(store), dtype="S16")
    values = np.stack(list(store.values()))
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, keys=keys, values=values)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
