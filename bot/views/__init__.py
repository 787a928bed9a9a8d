"""Pure functions from domain results to Block Kit, with Slack's limits enforced where they are built."""
