"""The apps form layers, from the bottom: `lib`, `audit`, `accounts`, `clinic`; then `patients`;
then `scheduling`, `billing`, `messaging`; then `flow`, `playbooks`; then `demo`. An app imports
its own layer or those below, never one above, and no two apps import each other in a circle,
even within one layer (docs/architecture.md, "Layers").

The project's own modules (settings, urls, wsgi, serve, middleware, errors, __main__) are
the top layer: they may import any app, and no app imports them. Tests and migrations are
outside the layers.

Import Linter checks the contracts kept in pyproject.toml (`[tool.importlinter]`), where the
imports still running the wrong way are listed one by one: a new one fails here, and so does a
listed one that no longer exists, so the list only shrinks."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "frontdesk"


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_no_app_imports_a_higher_layer_or_another_app_in_a_circle() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603 - our own virtual environment's linter, fixed arguments
        [str(linter), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # The report names each import the wrong way: importing module -> imported module (line).
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_app_has_its_place_in_the_layers() -> None:
    apps = {path.parent.name for path in PACKAGE.glob("*/apps.py")} | {"lib"}
    (layers,) = [c for c in _contracts() if c["type"] == "layers"]
    assert isinstance(layers["layers"], list)
    placed = {
        name.strip() for layer in layers["layers"] for name in layer.replace("|", ":").split(":")
    }
    assert apps - placed == set(), "an app outside the layers is checked by nothing"
