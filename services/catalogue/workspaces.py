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

# -- Settings (App Home, administrators only) -------------------------------------------------------------
SETTINGS_TITLE = "Settings"
SETTINGS_HEADING = "*Settings* (administrators only)"
SETTINGS_EDIT = "Edit settings"
SETTINGS_TMS_ROTATE = "New TMS webhook secret"
SETTINGS_TMS_CONFIRM = (
    "The TMS will need the new URL and secret: the old ones stop working at once. Make a new secret?"
)
SETTINGS_DIGEST_CHANNEL = "Digest channel"
SETTINGS_DIGEST_TIME = "Digest time"
SETTINGS_TIMEZONE = "Time zone"
SETTINGS_TIMEZONE_HINT = "An IANA time zone, like America/Chicago or Europe/London."
SETTINGS_FIXERS = "Who may run fixes"
SETTINGS_FIXERS_HINT = "Leave empty to let every member of the workspace run fixes."
SETTINGS_ADMINS = "Administrators"
SETTINGS_ADMINS_HINT = "They connect QuickBooks, run the destructive fixes and change these settings."
SETTINGS_SAVE = "Save"
SETTINGS_NO_CHANNEL = "not set: no digest"
SETTINGS_EVERYONE = "everyone"
SETTINGS_TMS = "TMS webhook"
SETTINGS_TMS_NONE = "not set up: press New TMS webhook secret"
SETTINGS_BAD_TIMEZONE = "{zone} is not a time zone qbsync knows; try America/Chicago."
SETTINGS_NO_ADMINS = "Keep at least one administrator."
SETTINGS_ADMINS_ONLY = "Only administrators change the settings."
SETTINGS_SAVED = "Settings saved."
SETTINGS_TMS_TITLE = "TMS webhook"
SETTINGS_TMS_SHOWN_ONCE = (
    "Give these to your TMS. The secret is shown only this once; qbsync keeps it encrypted.\n"
    "*URL:* `{url}`\n*Secret:* `{secret}`"
)
SETTINGS_TMS_NOT_SERVED = "The TMS webhook needs qbsync's public address (QBSYNC_PUBLIC_URL)."

# -- Intuit's app URLs of a listed QuickBooks app (launch, disconnect, reconnect) --------------------------
LAUNCH_TITLE = "qbsync works in Slack"
LAUNCH = (
    "qbsync keeps your TMS invoices in sync with QuickBooks and fixes the ones that fail, from Slack. "
    "Add it to your Slack workspace, then an administrator presses Connect QuickBooks in qbsync's Home tab."
)
LAUNCH_SINGLE = (
    "qbsync keeps your TMS invoices in sync with QuickBooks and fixes the ones that fail, from Slack. "
    "An administrator connects QuickBooks from qbsync's Home tab in Slack."
)
DISCONNECTED_TITLE = "qbsync is disconnected from QuickBooks"
DISCONNECTED = (
    "Invoices stop syncing to this QuickBooks company. To connect again, an administrator presses Connect "
    "QuickBooks in qbsync's Home tab in Slack."
)
RECONNECT_TITLE = "Connect QuickBooks again"
RECONNECT = (
    "For your security, connecting starts in Slack: an administrator opens qbsync's Home tab and presses "
    "Connect QuickBooks."
)
ADD_TO_SLACK = "Add to Slack"
