"""Every id the Slack app puts on a surface and listens for: actions, blocks, views, and the slash
command. Handlers and views import them from here, so a renamed id cannot leave a dead button."""

from __future__ import annotations

import re

COMMAND = "/qbsync"

# -- actions (buttons and selects) -------------------------------------------------------------------
FIX_PREFIX = "fix."  # the contract: a fix button's action_id is "fix.<fix code>"
FIX_ACTION = re.compile(r"^fix\.([a-z_]+)$")
DIAGNOSE = "qbsync.diagnose"  # value: a load number; "qbsync.diagnose.<n>" where a block has several
DIAGNOSE_ACTION = re.compile(r"^qbsync\.diagnose(\.\d+)?$")
RETRY_ALL = "qbsync.retry_all"  # value: a reason code
PROBLEMS_PAGE = "qbsync.problems_page"  # ".prev" / ".next"; value: the page to show
PROBLEMS_PAGE_ACTION = re.compile(r"^qbsync\.problems_page\.(prev|next)$")
CONNECT = "fix.connect"  # an action button: the click makes a single-use Connect link (admins only)
CONNECT_CONTINUE = "qbsync.connect_continue"  # the connect modal's link button to /qbo/connect?ticket=…
DISCONNECT = "qbsync.disconnect"  # the danger button of /qbsync disconnect (admins only, confirmed)

# -- blocks ------------------------------------------------------------------------------------------
HEADER = "header"
STATE = "state"
CONTEXT = "context"
NEAR = "near_matches"
PAGER = "pager"
MORE = "more"  # the buttons that apply to the load as a whole (retry, dismiss, restore)
FIX_RESULT = "fix_result"
FIX_BY = "fix_by"
PROGRESS = "progress"
PROGRESS_BY = "progress_by"
HELP = "help"
CONNECTION = "connection"
CONNECT_BLOCK = "connect"
NUMBERS = "numbers"
BY_REASON = "by_reason"
LOADING = "loading"
NOTICE = "notice"

# -- modal inputs (block_id, action_id) --------------------------------------------------------------
# The customer and item pickers are external selects: their action ids are also what Slack's options
# requests (block_suggestion) name, answered by commands.choices.
CUSTOMER_INPUT = ("customer", "customer_id")
EMAIL_INPUT = ("email", "email")
DOC_NUMBER_INPUT = ("doc_number", "doc_number")
DISMISS_INPUT = ("dismiss_reason", "reason")
ITEM_INPUT_PREFIX = "item:"  # one block per charge code: "item:<code>", action_id "item_id"
ITEM_ACTION = "item_id"

# -- views -------------------------------------------------------------------------------------------
CHOICE_VIEW = "qbsync.choice"  # callback_id of every modal that carries a fix's human choice
HOME_VIEW = "qbsync.home"
CONNECT_VIEW = "qbsync.connect"  # the modal holding an administrator's single-use Connect link
HOME_DIAGNOSIS_VIEW = "qbsync.home_diagnosis"  # a Diagnose click on the Home: the diagnosis, read only


def diagnose_action(index: int) -> str:
    return f"{DIAGNOSE}.{index}"


def fix_action(fix: str) -> str:
    return f"{FIX_PREFIX}{fix}"


def reason_block(code: str) -> str:
    return f"reason:{code}"


def actions_block(code: str) -> str:
    return f"fixes:{code}"


def group_block(code: str) -> str:
    return f"group:{code}"


# The administrators' Settings in the App Home (distribution mode).
SETTINGS_BLOCK = "settings"
SETTINGS_FIELDS = "settings_fields"
SETTINGS_ACTIONS = "settings_actions"
SETTINGS_EDIT = "qbsync.settings.edit"
SETTINGS_TMS = "qbsync.settings.tms"
SETTINGS_VIEW = "qbsync.settings"
SETTINGS_TMS_VIEW = "qbsync.settings.tms_secret"
SETTINGS_VALUE = "value"
SETTINGS_CHANNEL_INPUT = "digest_channel"
SETTINGS_TIME_INPUT = "digest_time"
SETTINGS_ZONE_INPUT = "timezone"
SETTINGS_FIXERS_INPUT = "fixers"
SETTINGS_ADMINS_INPUT = "admins"
