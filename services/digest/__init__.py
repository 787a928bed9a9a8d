"""The daily digest: what it says, from the database alone (``build``), open problems per day for its
chart (``history``), and its record per channel and day that posts it exactly once however many clocks
run (``posts``). Stands on ``diagnosis/`` and ``store/``."""
