"""The page's Block Kit renderer: every block and element type qbsync's views use is drawn, mrkdwn reads
as Slack reads it and never lets text become markup, and anything unknown is a labelled placeholder."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playground import render
from playground.mrkdwn import mrkdwn_html

NAMES = render.Names(users={"U0ALEX001": "Alex Rivera"}, bot_user="U0BOT0001")
VIEWS = Path(__file__).resolve().parents[2] / "bot" / "views"


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def md(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def option(text: str, value: str) -> dict:
    return {"text": plain(text), "value": value}


CONFIRM = {
    "title": plain("Adopt the manual invoice?"),
    "text": plain("It becomes this load's invoice."),
    "confirm": plain("Adopt invoice"),
    "deny": plain("Cancel"),
    "style": "danger",
}

EVERY_BLOCK = [
    {"type": "header", "text": plain("⚠️ Load M2611-0412"), "block_id": "header"},
    {
        "type": "section",
        "block_id": "state",
        "text": md("*M2611-0412* does not sync\n• _item_ `STOR` <https://example.com|Products> <@U0ALEX001>"),
        "accessory": {
            "type": "button",
            "text": plain("Diagnose"),
            "action_id": "qbsync.diagnose",
            "value": "L1",
        },
    },
    {"type": "section", "fields": [md("*Loads*\n18"), md("*Open problems*\n10 · $11,025.85")]},
    {
        "type": "section",
        "text": md("Pick"),
        "accessory": {
            "type": "static_select",
            "action_id": "pick",
            "placeholder": plain("Choose"),
            "option_groups": [
                {"label": plain("Likely"), "options": [option("Storage", "7")]},
                {"label": plain("All"), "options": [option("Accessorials:Storage", "9")]},
            ],
            "initial_option": option("Storage", "7"),
        },
    },
    {
        "type": "context",
        "elements": [md("Checked <!date^1764120000^{date_short_pretty} {time}|2025-11-26 01:20 UTC>")],
    },
    {
        "type": "context",
        "elements": [{"type": "image", "image_url": "/files/F1", "alt_text": "logo"}, plain("x")],
    },
    {"type": "divider"},
    {"type": "image", "image_url": "/files/F2", "alt_text": "chart", "title": plain("Open problems")},
    {
        "type": "actions",
        "block_id": "fixes:duplicate_load_number",
        "elements": [
            {
                "type": "button",
                "text": plain("Adopt"),
                "action_id": "fix.adopt_qb_invoice",
                "value": "L1",
                "style": "primary",
                "confirm": CONFIRM,
            },
            {
                "type": "button",
                "text": plain("Clear QuickBooks ID"),
                "action_id": "fix.clear_qb_id",
                "value": "L1",
                "style": "danger",
            },
            {"type": "static_select", "action_id": "choose", "options": [option("One", "1")]},
        ],
    },
]

MODAL = {
    "id": "V1",
    "type": "modal",
    "title": plain("Map charge code"),
    "submit": plain("Map"),
    "close": plain("Cancel"),
    "blocks": [
        {
            "type": "input",
            "block_id": "doc_number",
            "label": plain("Invoice number"),
            "element": {
                "type": "plain_text_input",
                "action_id": "doc_number",
                "max_length": 21,
                "initial_value": "M26110417",
            },
        },
        {
            "type": "input",
            "block_id": "email",
            "label": plain("QuickBooks email"),
            "hint": plain("On the profile"),
            "element": {
                "type": "email_text_input",
                "action_id": "email",
                "placeholder": plain("ap@x.example"),
            },
        },
        {
            "type": "input",
            "block_id": "item:STOR",
            "label": plain("STOR (Storage)"),
            "optional": True,
            "element": {"type": "static_select", "action_id": "item_id", "options": [option("Storage", "7")]},
        },
    ],
}


def test_every_block_and_element_is_drawn():
    html = render.blocks_html(EVERY_BLOCK, NAMES)
    assert "bk-unknown" not in html
    for kind in ("header", "section", "context", "divider", "image", "actions"):
        assert f"bk-{kind}" in html
    assert '<div class="bk-header">⚠️ Load M2611-0412</div>' in html
    assert "<b>M2611-0412</b>" in html and "<i>item</i>" in html and "<code>STOR</code>" in html
    assert '<a href="https://example.com" target="_blank" rel="noopener noreferrer">Products</a>' in html
    assert '<span class="mention">@Alex Rivera</span>' in html
    assert 'class="sdate" data-ts="1764120000" data-format="{date_short_pretty} {time}"' in html
    assert html.count('class="bk-field"') == 2
    assert 'class="bk-accessory"' in html and 'data-action-id="qbsync.diagnose"' in html
    assert '<optgroup label="Likely"><option value="7" selected>Storage</option></optgroup>' in html
    assert 'src="/files/F2"' in html and "Open problems" in html
    assert 'class="bk-button primary"' in html and 'class="bk-button danger"' in html
    confirm = (
        re.search(r'data-confirm="([^"]+)"', html).group(1).replace("&quot;", '"').replace("&#x27;", "'")
    )
    assert json.loads(confirm) == {
        "title": "Adopt the manual invoice?",
        "text": "It becomes this load's invoice.",
        "confirm": "Adopt invoice",
        "deny": "Cancel",
        "style": "danger",
    }


def test_a_modal_with_inputs_values_and_errors():
    state = render.InputState(
        values={"email": {"email": {"type": "email_text_input", "value": "ap at x"}}},
        errors={"email": "That is not an email address."},
    )
    html = render.modal_html(MODAL, NAMES, state)
    assert "bk-unknown" not in html
    assert 'data-view-id="V1"' in html and "Map charge code" in html
    assert 'type="text"' in html and 'maxlength="21"' in html and 'value="M26110417"' in html
    assert 'type="email"' in html and 'value="ap at x"' in html, "the submitted value is kept"
    assert 'role="alert">That is not an email address.</div>' in html
    assert "On the profile" in html and "(optional)" in html
    assert "data-submit>Map</button>" in html and "data-close>Cancel</button>" in html


def test_unknown_blocks_and_elements_are_labelled_placeholders():
    html = render.blocks_html(
        [
            {"type": "rich_text", "elements": []},
            {"type": "actions", "elements": [{"type": "datepicker", "action_id": "d"}]},
            {"type": "section", "text": md("x"), "accessory": {"type": "overflow", "action_id": "o"}},
            "not a block",
        ],
        NAMES,
    )
    for kind in ("rich_text", "datepicker", "overflow", "?"):
        assert f'data-unknown="{kind}"' in html
    assert "Unsupported block: <code>rich_text</code>" in html


def test_every_type_the_views_use_is_drawn():
    """A type added to bot/views must be drawn here too (or the page would show a placeholder)."""
    known = {
        *render.BLOCK_TYPES,
        *render.ELEMENT_TYPES,
        *render.TEXT_TYPES,
        *render.SURFACE_TYPES,
    }
    used = set()
    for path in VIEWS.glob("*.py"):
        used |= set(re.findall(r'"type":\s*"([a-z_]+)"', path.read_text()))
        used |= set(re.findall(r"\b(header|section|context|divider|actions|button)\(", path.read_text()))
    assert used, "the views were read"
    assert used <= known, f"not drawn: {sorted(used - known)}"


def test_the_settings_modal_inputs_offer_the_workspaces_channel_people_and_time():
    from bot import ids
    from bot.views.settings import settings_modal
    from services.settings import load_settings

    names = render.Names(
        users={"U0ALEX001": "Alex Rivera", "U0BOT0001": "qbsync"},
        bot_user="U0BOT0001",
        channels={"C0BILLING1": "billing"},
    )
    chosen = load_settings(DATABASE_URL="sqlite:///x.db").model_copy(
        update={"digest_channel": "C0BILLING1", "digest_time": "08:30", "admins": ("U0ALEX001",)}
    )
    html = render.modal_html(settings_modal(chosen), names)
    assert 'type="time"' in html and 'value="08:30"' in html and 'data-kind="timepicker"' in html
    channel = re.search(r'<select[^>]*data-kind="conversations_select".*?</select>', html, re.S).group(0)
    assert '<option value="C0BILLING1" selected>#billing</option>' in channel
    people = re.findall(r'<select[^>]*data-kind="multi_users_select".*?</select>', html, re.S)
    assert len(people) == 2 and all("multiple" in p and "qbsync" not in p for p in people)
    assert '<option value="U0ALEX001" selected>Alex Rivera</option>' in people[1], "the administrators"
    assert "selected" not in people[0], "who may fix: nobody chosen, everyone may"
    assert "bk-unknown" not in html

    state = render.InputState(
        values={
            ids.SETTINGS_TIME_INPUT: {ids.SETTINGS_VALUE: {"type": "timepicker", "selected_time": "07:15"}},
            ids.SETTINGS_FIXERS_INPUT: {
                ids.SETTINGS_VALUE: {"type": "multi_users_select", "selected_users": ["U0ALEX001"]}
            },
        },
        errors={ids.SETTINGS_ZONE_INPUT: "Not a time zone"},
    )
    again = render.modal_html(settings_modal(chosen), names, state)
    assert 'value="07:15"' in again, "the time last submitted"
    fixers = re.findall(r'<select[^>]*data-kind="multi_users_select".*?</select>', again, re.S)[0]
    assert '<option value="U0ALEX001" selected>' in fixers, "the people last submitted"
    assert "Not a time zone" in again


def test_channel_mentions_carry_the_channels_name():
    names = render.Names(channels={"C0BILLING1": "billing"})
    html = render.blocks_html([{"type": "section", "text": md("Digest to <#C0BILLING1>")}], names)
    assert '<span class="mention">#billing</span>' in html
    assert "#C0OTHER" in mrkdwn_html("<#C0OTHER>"), "an unknown channel shows its id"


def test_mrkdwn_never_becomes_markup():
    assert mrkdwn_html("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co") == (
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    )
    assert mrkdwn_html("<javascript:alert(1)|click>") == "click"
    assert mrkdwn_html('<https://x.example/"onmouseover=1|x>').startswith('<a href="https://x.example/&quot;')
    assert mrkdwn_html("<img src=x onerror=alert(1)>") == "img src=x onerror=alert(1)", "not a link: its text"


def test_mrkdwn_reads_as_slack_reads_it():
    assert mrkdwn_html("snake_case_name and 2*3*4") == "snake_case_name and 2*3*4"
    assert mrkdwn_html("`*not bold*` *bold* ~gone~") == "<code>*not bold*</code> <b>bold</b> <s>gone</s>"
    assert mrkdwn_html("```a\n*b*```") == "<pre>a\n*b*</pre>"
    assert mrkdwn_html("&gt; quoted\nnext") == '<span class="quote">quoted</span><br>next'
    assert mrkdwn_html("<!date^1764120000^{date}|Nov 26>").endswith(">Nov 26</time>")
    assert mrkdwn_html("<#C0BILLING1|billing> <!here> <mailto:a@b.example|mail>") == (
        '<span class="mention">#billing</span> <span class="mention">@here</span> '
        '<a href="mailto:a@b.example" target="_blank" rel="noopener noreferrer">mail</a>'
    )


def test_messages_name_the_bot_and_mark_ephemeral_ones():
    bot = render.Shown(ts="1764120000.000100", text="hello", blocks=[], user="U0BOT0001", ephemeral=True)
    html = render.message_html(bot, NAMES)
    assert "qbsync" in html and "APP" in html and "Only visible to you" in html
    person = render.Shown(ts="1764120001.000100", text="/qbsync help", blocks=[], user="U0ALEX001")
    html = render.message_html(person, NAMES)
    assert "Alex Rivera" in html and "Only visible to you" not in html and ">AR<" in html
    replaced = render.Shown(
        ts="1764120002.000100",
        text="",
        blocks=[],
        user="U0BOT0001",
        replaced=1,
        files=[{"id": "F9", "name": "chart.png", "title": "Open problems", "mimetype": "image/png"}],
    )
    html = render.message_html(replaced, NAMES)
    assert "(edited)" in html and '<img src="/files/F9"' in html


def test_images_load_only_from_this_machine():
    html = render.blocks_html(
        [{"type": "image", "image_url": "https://cdn.example/x.png", "alt_text": "x"}], NAMES
    )
    assert "<img" not in html and "bk-image-remote" in html
