"""``qbsync playground``: a page on localhost that behaves like a Slack channel, with the real qbsync app
behind it, the QuickBooks emulator behind that, and a company in which every reason occurs."""
