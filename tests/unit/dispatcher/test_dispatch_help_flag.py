"""Help and the `help-dashboard-link` flag: the dashboard line appears only when it is on."""

from __future__ import annotations

import pytest

from jeeves.dispatcher.domain.replies import dashboard_line, help_text

pytestmark = pytest.mark.unit


def test_help_names_the_dashboard_only_when_asked() -> None:
    plain = help_text({})
    assert "dashboard" not in plain
    linked = help_text({}, dashboard="http://localhost:8413")
    assert linked.endswith(dashboard_line("http://localhost:8413"))
    assert "<http://localhost:8413|the Jeeves dashboard>" in linked
    assert help_text({}, dashboard="").endswith("in the Jeeves dashboard")
