"""The domain of qbsync: everything it knows about loads, QuickBooks and fixing what does not sync.

Rooms, from the bottom up as the imports run (none of them imports Slack, the web layer, the CLI, the
emulators, the playground or the composition root, and no module imports one that imports it back):

- ``errors``, ``logsafe``, ``crashpoints``, ``catalogue/``: shared ground — the error types, what logs
  may show, the named points where a test may kill a process, and every word a person reads.
- ``store/``: the database — models, engine and sessions, migrations, named locks with leases, worker
  identity, tokens encrypted at rest; ``settings``: the settings from the environment.
- ``tms/``: the TMS side — import files, signed TMS events, load numbers.
- ``access/``: who may run which fix, and whether Slack still accepts the app.
- ``quickbooks/``: the QuickBooks Online and Intuit OAuth adapter (the only code that imports their clients).
- ``sync/``: pushing loads' invoices to QuickBooks exactly once and naming the reason for every failure.
- ``connect/``: the company's QuickBooks connection — stored tokens and their refresh, the one company
  qbsync syncs to, the OAuth flow, Connect tickets and states, connecting in the browser.
- ``diagnosis/``: one load's reasons checked afresh, the problem list, the status and the App Home's numbers.
- ``fixes/``: the fixes, one object per fix code, and the choices some of them need.
- ``digest/``: the daily digest, its history, and posting it exactly once (Slack behind a small port).
- ``scheduler/``: the jobs that run by themselves — automatic sync, retries, the digest.

The composition root (``wiring/``) builds these from the settings; ``bot/``, ``commands/``, ``web/`` and
``cli/`` are the ways in.
"""
