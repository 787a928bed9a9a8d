"""The composition root: builds what every entry point needs from the settings (``services``). The ways
in — ``cli/``, ``web/``, ``bot/`` and ``commands/`` — take what they need from here; nothing in
``services/`` imports it."""
