"""The demo company and the walk through it that ``qbsync demo`` runs: the TMS and QuickBooks data of a
small drayage company (``data``), the scripted week of problems and fixes against the emulator
(``walkthrough``), the clerk who handles each reason (``clerk``), where it runs (``environment``) and
where the story goes (``narrator``)."""
