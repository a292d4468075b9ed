import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shots(tmp_path_factory) -> Path:
    """Where the browser tests' screenshots go: docs/ when `make screenshot` asks (with
    EVENTLY_SCREENSHOTS), else a temporary directory."""
    wanted = os.environ.get("EVENTLY_SCREENSHOTS")
    return ROOT / wanted if wanted else tmp_path_factory.mktemp("screenshots")
