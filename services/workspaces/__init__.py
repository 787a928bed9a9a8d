"""The workspaces (tenants) of a deployment: the registry of who is installed, and the settings each one
chose in Slack laid over the deployment's defaults."""
