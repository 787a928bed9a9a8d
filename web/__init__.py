"""The HTTP face of ``qbsync serve``: Slack's request URL (``app``), connecting QuickBooks in the browser
(``connect``), the TMS events (``tms``) and a health check. It hands each request to ``bot/`` (Slack)
or to ``services/``; nothing here decides anything of the domain."""
