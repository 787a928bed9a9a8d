"""The words of many workspaces: installing from "Add to Slack", a workspace qbsync does not serve, a
QuickBooks company already connected to another workspace, the command line's choice of workspace."""

NOT_INSTALLED = (
    "qbsync is not installed in this workspace, or was removed from it. An administrator can add it again "
    "from the install page."
)
INSTALLED_TITLE = "qbsync is installed"
INSTALLED = (
    "qbsync is now in {name}. In Slack, open qbsync's Home tab to connect QuickBooks and choose the digest "
    "channel, or type /qbsync help."
)
INSTALL_BROKEN_TITLE = "Installed, but not ready"
INSTALL_BROKEN = (
    "Slack installed qbsync, but qbsync could not set up this workspace. Please try Add to Slack again in a "
    "few minutes."
)
NOT_INSTALLED_TITLE = "qbsync was not installed"
INSTALL_FAILURES = {
    "access_denied": "The install was cancelled in Slack. Nothing was changed.",
    "invalid_browser": "This link was opened in another browser than the one that started the install. "
    "Start again from the install page.",
    "invalid_state": "This install link has expired or was already used. Start again from the install page.",
    "missing_code": "Slack did not finish the install. Start again from the install page.",
}
INSTALL_FAILED = "Slack did not complete the install. Start again from the install page."
REALM_TAKEN = (
    "QuickBooks company {realm} is already connected to another Slack workspace of this service. "
    "Disconnect it there first, or connect another company."
)
WORKSPACE_NEEDED = "There are {count} workspaces; name one with --workspace TEAM or QBSYNC_WORKSPACE: {teams}"
WORKSPACE_UNKNOWN = "No workspace {team} here; the workspaces are: {teams}"
NO_WORKSPACES = "No workspace has installed qbsync yet (distribution mode: Add to Slack at /slack/install)."
