from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings

from app.main import create_app


@pytest.fixture(scope="session")
def client() -> TestClient:
    return TestClient(create_app())


# Every property test is derandomised: a failure reproduces on every machine and in CI.
settings.register_profile("bitmesh", derandomize=True, database=None, deadline=None)
settings.load_profile("bitmesh")
