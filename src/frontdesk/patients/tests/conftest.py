from __future__ import annotations

from frontdesk.flow.tests.conftest import (  # noqa: F401  (fixtures shared with the flow tests)
    frozen,
    make_appointment,
    schedule,
    visit_type,
)
