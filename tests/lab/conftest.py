"""Lab kernels for the tests that boot guests: from the cache, or built once per session."""

from __future__ import annotations

import pytest

from labhelpers import lab_build


@pytest.fixture(scope="session")
def vanilla_kernel() -> dict:
    return lab_build("--vanilla")


@pytest.fixture(scope="session")
def patched_kernel() -> dict:
    return lab_build()


@pytest.fixture(scope="session")
def debug_kernel() -> dict:
    return lab_build("--debug")
