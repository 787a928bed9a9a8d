"""Domain errors. Entry points (CLI, Slack, HTTP) turn them into one clear message each."""

from __future__ import annotations


class QbsyncError(Exception):
    """A failure of qbsync or of a dependency (CLI exit 1)."""

    exit_code = 1


class UserInputError(QbsyncError):
    """Bad input or usage: nothing was changed (CLI exit 2)."""

    exit_code = 2


class ConfigurationError(QbsyncError):
    """The environment is missing or has a wrong setting."""


class SettingsError(ValueError):
    """The environment does not describe a usable configuration; the message says which variable."""
