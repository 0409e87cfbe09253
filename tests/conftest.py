"""Shared fixtures: real data locations and small real samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data_dir(name: str) -> Path:
    """Return ``../shared/data/<name>`` or skip the test with a visible reason."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"real-data folder {path} is absent on this machine")
    return path


@pytest.fixture(scope="session")
def ptbxl_subset_dir() -> Path:
    return shared_data_dir("ptbxl_subset")


@pytest.fixture(scope="session")
def cinc2021_dir() -> Path:
    return shared_data_dir("cinc2021_sample")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
