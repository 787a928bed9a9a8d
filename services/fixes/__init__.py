"""Fixing what does not sync: one object per fix code (:mod:`registry`, the fixes grouped by family in
``connection``, ``customers``, ``charge_codes``, ``invoices``, ``numbers`` and ``dismissal``; what each
declares in ``base``, what it is given in ``context``, what it answers in ``outcome``), the runner
that claims, audits, retries and diagnoses (``fixer``), the choices a fix needs from a person
(``choice``: what is asked; ``choices``: the company's lists the pickers search) and the pure matching
of TMS records to QuickBooks entities (``matching``). Stands on ``sync/``, ``diagnosis/``,
``connect/`` and ``store/``."""
