"""Who may do what: fixers and administrators and the polite, audited refusal (``roles``), and whether
Slack still accepts the app after an uninstall or a token revocation (``workspace``). Stands on ``store/``."""
