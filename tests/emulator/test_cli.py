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


def test_help_lists_the_webhook_options():
    result = CliRunner().invoke(qbsync, ["emulator", "--help"])
    assert result.exit_code == 0, result.output
    for option in (
        "--webhook-url",
        "--webhook-verifier",
        "--webhook-format",
        "--webhook-delay-ms",
        "--webhook-duplicate-rate",
        "--webhook-batch-ms",
    ):
        assert option in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--webhook-format", "xml"],
        ["--webhook-duplicate-rate", "1.5"],
        ["--webhook-delay-ms", "-1"],
        ["--webhook-url", "ftp://example.invalid/", "--port", "0"],
    ],
)
def test_bad_webhook_options_are_usage_errors(args):
    result = CliRunner().invoke(qbsync, ["emulator", *args])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
