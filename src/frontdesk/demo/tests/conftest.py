from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    # The demo files its morning mail (demo/documents_morning.py): never into var/media here.
    settings.MEDIA_ROOT = tmp_path / "media"
