"""Fixing what does not sync: the fixes (``fixer``), the choices a fix needs from a person (``choices``)
and the pure matching of TMS records to QuickBooks entities (``matching``). Stands on ``sync/``,
``diagnosis/``, ``connect/`` and ``store/``."""
