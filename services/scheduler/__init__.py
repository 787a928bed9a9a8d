"""The work that runs by itself: pushing ready loads and retrying the ones whose reasons pass by
themselves (``autosync``). Stands on ``sync/``, ``connect/`` and ``store/``."""
