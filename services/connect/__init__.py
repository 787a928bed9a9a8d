"""The company's QuickBooks connection: stored tokens, refresh and the connected/broken state
(``connection``), the one company qbsync syncs to and switching companies (``company``), connecting
from a code or a refresh token (``flow``), Connect tickets and OAuth states (``states``), and
connecting in the browser through ``qbsync serve`` (``web``). Stands on ``store/`` and ``quickbooks/``."""
