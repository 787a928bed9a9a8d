"""``qbsync emulator``'s options are checked before anything listens."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli.main import qbsync


@pytest.mark.parametrize("port", ["99999", "65536", "-5", "http"])
def test_a_port_outside_0_to_65535_is_a_usage_error(port):
    result = CliRunner().invoke(qbsync, ["emulator", "--port", port])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Invalid value for '--port'" in result.stderr
    assert "Traceback" not in result.output
