from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf_bytes(pages: int = 1) -> bytes:
    images = [Image.new("RGB", (200, 260), (255, 255 - 10 * i, 255)) for i in range(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:])
    return out.getvalue()


def picture_bytes(fmt: str = "PNG", frames: int = 1) -> bytes:
    images = [Image.new("RGB", (120, 80), (10 * i, 100, 200)) for i in range(frames)]
    out = io.BytesIO()
    if frames > 1:
        images[0].save(out, fmt, save_all=True, append_images=images[1:])
    else:
        images[0].save(out, fmt)
    return out.getvalue()
