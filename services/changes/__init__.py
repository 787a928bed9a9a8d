"""QuickBooks' own changes, seen within a minute instead of once a day.

- ``webhooks``: Intuit's notifications (``POST /qbo/webhooks``): the signature and both body forms;
- ``receive``: a verified delivery kept once per notification, the companies it names marked due;
- ``feed``: ``ChangeFeed.catch_up`` — change data capture since the point reached per company (every
  synced invoice read back only the first time, or after 30 days away);
- ``apply``: what the changed objects mean for the loads (deleted, voided, edited, paid; a customer or
  item gone from QuickBooks blocking the loads still to sync);
- ``notices``: the short message the channel gets for the problems found, grouped.

The scheduler's ``qbo_changes`` job (``services.scheduler.changes``) runs the catch-ups and posts the
notices; the digest's reconcile is a catch-up too.
"""
