"""The database: the data model (``models``), engines and sessions (``storage``), Alembic migrations
(``migrations/``), named locks with leases across processes (``locks``) and tokens encrypted at rest
(``secrets``). Imports only ``services.errors``, ``services.logsafe`` and ``services.settings``."""
