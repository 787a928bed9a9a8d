"""What is wrong and where: one load's reasons checked afresh against QuickBooks (``diagnoser``), the
reason value (``reasons``), the problem invoices and dismissed loads (``problems``), the sync at a glance
(``status``) and the App Home's numbers (``dashboard``). Stands on ``sync/`` and ``store/``."""
