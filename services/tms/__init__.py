"""The TMS side of each invoice: load numbers (``loadnumbers``), import files read one record at a time
(``stream``), the all-or-nothing import (``importer``, which runs ``reading``, ``records``, ``checking``,
``writing`` over ``tables``, and reports with ``problems`` and ``summary``) and signed TMS events
(``events``). Stands on ``store/``; ``events`` hands what it wrote to ``sync/``."""
