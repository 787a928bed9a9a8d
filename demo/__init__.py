"""The demo company and the walk through it that ``qbsync demo`` runs: the TMS and QuickBooks data of a
small drayage company (``data``) and the scripted week of problems and fixes against the emulator
(``walkthrough``)."""
