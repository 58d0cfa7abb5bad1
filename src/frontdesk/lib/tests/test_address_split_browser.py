"""The registration page splits a one-line address in the browser too
(patients/static/patients/address_split.js): it must split exactly the lines the server
splits, the same way, or the fields would fill with what the read-back then changes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from frontdesk.lib.addresses import address_split, address_split_shapes
from frontdesk.lib.tests.test_addresses import LEFT_AS_TYPED, SPLIT

SCRIPT = Path(__file__).parents[2] / "patients" / "static" / "patients" / "address_split.js"
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_the_browser_splits_the_same_lines_as_the_server_the_same_way() -> None:
    cases = [(line, country) for line, country, _ in SPLIT] + LEFT_AS_TYPED
    program = (
        f"const {{ split }} = require({json.dumps(str(SCRIPT))});"
        f"const shapes = {json.dumps(address_split_shapes())};"
        f"const cases = {json.dumps(cases)};"
        "const parts = cases.map(([line, c]) => split(line, shapes[c.toUpperCase()]));"
        "console.log(JSON.stringify(parts));"
    )
    assert NODE is not None
    run = subprocess.run(  # noqa: S603 (a fixed program on our own file)
        [NODE, "-e", program], capture_output=True, text=True, check=True, timeout=30
    )
    in_browser = json.loads(run.stdout)
    on_server = [list(parts) if (parts := address_split(*case)) else None for case in cases]
    assert in_browser == on_server
    assert sum(parts is not None for parts in in_browser) == len(SPLIT)
