"""The modals that carry a fix's human choice. Each opens at once as "Looking up…" (a trigger_id lives
3 s), is filled when QuickBooks has answered, and sends its choice back with the load and fix in
``private_metadata``."""

from __future__ import annotations

import json
from typing import Any

from bot import ids
from bot.views.blocks import (
    MODAL_TITLE,
    PRIVATE_METADATA,
    VIEW_BLOCKS,
    Block,
    actions,
    button,
    check_surface,
    context,
    cut,
    escape,
    option,
    plain,
    section,
)
from services.catalogue import CONNECT_CONTINUE, CONNECT_LINK_WORDS, CONNECT_MODAL_TITLE, fix_label

DOC_NUMBER_MAX = 21
DISMISS_REASON_MAX = 200


def metadata(**values: Any) -> str:
    text = json.dumps({k: v for k, v in values.items() if v is not None}, separators=(",", ":"))
    if len(text) > PRIVATE_METADATA:
        raise ValueError("private_metadata too long")
    return text


def read_metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _modal(fix: str, blocks: list[Block], meta: str, submit: str | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": ids.CHOICE_VIEW,
        "title": plain(cut(fix_label(fix), MODAL_TITLE), MODAL_TITLE),
        "close": plain("Cancel", MODAL_TITLE),
        "private_metadata": meta,
        "blocks": check_surface(blocks, VIEW_BLOCKS),
    }
    if submit:
        view["submit"] = plain(submit, MODAL_TITLE)
    return view


def loading_modal(fix: str, load_number: str, meta: str) -> dict[str, Any]:
    text = f"⏳ Looking up QuickBooks for load *{escape(load_number)}*…"
    return _modal(fix, [section(text, block_id=ids.LOADING)], meta, None)


def notice_modal(fix: str, text: str, meta: str) -> dict[str, Any]:
    return _modal(fix, [section(escape(text), block_id=ids.NOTICE)], meta, None)


def connect_modal(link: str, user: str) -> dict[str, Any]:
    """An administrator's Connect link, shown only to them after they pressed Connect QuickBooks: one
    link button to ``/qbo/connect?ticket=…`` (single-use, ten minutes)."""
    blocks = [
        section(CONNECT_LINK_WORDS.format(who=f"<@{escape(user)}>"), block_id=ids.CONNECT_BLOCK),
        actions(
            [button(CONNECT_CONTINUE, ids.CONNECT_CONTINUE, "continue", style="primary", url=link)],
            block_id=ids.CONNECT_CONTINUE,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": ids.CONNECT_VIEW,
        "title": plain(CONNECT_MODAL_TITLE, MODAL_TITLE),
        "close": plain("Close", MODAL_TITLE),
        "blocks": check_surface(blocks, VIEW_BLOCKS),
    }


def _select(action_id: str, options: list[Any], placeholder: str) -> dict[str, Any]:
    suggested = [o for o in options if o.suggested]
    others = [o for o in options if not o.suggested]

    def entry(o: Any) -> dict[str, Any]:
        return option(o.label, o.value, o.detail)

    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": plain(placeholder, 150),
    }
    if suggested and others:
        element["option_groups"] = [
            {"label": plain("Likely", 75), "options": [entry(o) for o in suggested]},
            {"label": plain("All", 75), "options": [entry(o) for o in others]},
        ]
    else:
        element["options"] = [entry(o) for o in options]
    if len(suggested) == 1:
        element["initial_option"] = entry(suggested[0])
    return element


def _input(block_id: str, label: str, element: dict[str, Any], hint: str | None = None) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element}
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def customer_modal(load_number: str, customer_name: str, options: list[Any], meta: str) -> dict[str, Any]:
    if not options:
        return notice_modal(
            "link_customer", "QuickBooks has no active customer to link. Create the customer instead.", meta
        )
    block_id, action_id = ids.CUSTOMER_INPUT
    blocks = [
        section(f"Which QuickBooks customer is *{escape(customer_name)}* (load *{escape(load_number)}*)?"),
        _input(
            block_id,
            "QuickBooks customer",
            _select(action_id, options, "Type a name or email"),
            "The customers whose name or email match the TMS come first.",
        ),
    ]
    return _modal("link_customer", blocks, meta, "Link")


def email_modal(load_number: str, customer_name: str, current: str, options: list[Any], meta: str):
    block_id, action_id = ids.EMAIL_INPUT
    initial = options[0].value if options else current
    element: dict[str, Any] = {
        "type": "email_text_input",
        "action_id": action_id,
        "placeholder": plain("ap@customer.example", 150),
    }
    if initial:
        element["initial_value"] = initial
    hint = "The email on the customer's QuickBooks profile (Sales > Customers)."
    if options:
        hint += " In QuickBooks: " + ", ".join(f"{o.value} ({o.detail})" for o in options[:5])
    blocks = [
        section(
            f"The TMS's QuickBooks email for *{escape(customer_name)}* is "
            f"{escape(current) if current else '_empty_'}. Load *{escape(load_number)}*."
        ),
        _input(block_id, "QuickBooks email", element, hint),
    ]
    return _modal("update_customer_email", blocks, meta, "Save")


def item_modal(load_number: str, choices: list[Any], meta: str) -> dict[str, Any]:
    if not choices:
        return notice_modal(
            "map_charge_code", "Every charge code of this load is linked to one active QuickBooks item.", meta
        )
    blocks: list[Block] = [
        section(f"Which QuickBooks item does each charge code of load *{escape(load_number)}* mean?")
    ]
    for choice in choices[:20]:
        problem = {"duplicate": "more than one item has this name", "inactive": "its item is inactive"}.get(
            choice.problem, "not linked"
        )
        blocks.append(
            _input(
                f"{ids.ITEM_INPUT_PREFIX}{choice.code}",
                f"{choice.code} ({choice.name})",
                _select(ids.ITEM_ACTION, choice.options, "Choose a QuickBooks item"),
                f"{problem.capitalize()}. Items: Products and Services.",
            )
        )
        blocks[-1]["optional"] = len(choices) > 1
    return _modal("map_charge_code", blocks, meta, "Map")


def doc_number_modal(load_number: str, suggestion: str, meta: str) -> dict[str, Any]:
    block_id, action_id = ids.DOC_NUMBER_INPUT
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": action_id,
        "max_length": DOC_NUMBER_MAX,
    }
    if suggestion:
        element["initial_value"] = suggestion
    blocks = [
        section(
            f"Load *{escape(load_number)}* has {len(load_number)} characters; QuickBooks invoice numbers "
            f"hold {DOC_NUMBER_MAX}. The load keeps its number in the TMS; its QuickBooks invoice gets "
            "this one."
        ),
        _input(
            block_id,
            "QuickBooks invoice number",
            element,
            "At most 21 characters, not used by another invoice.",
        ),
    ]
    return _modal("set_doc_number", blocks, meta, "Set number")


def dismiss_modal(load_number: str, meta: str) -> dict[str, Any]:
    block_id, action_id = ids.DISMISS_INPUT
    element = {
        "type": "plain_text_input",
        "action_id": action_id,
        "max_length": DISMISS_REASON_MAX,
        "placeholder": plain("invoiced by hand, cancelled load…", 150),
    }
    blocks = [
        section(
            f"Load *{escape(load_number)}* will not be synced: it leaves the problem list, the digest and "
            "automatic retries until someone restores it."
        ),
        _input(block_id, "Why?", element),
        context("Everyone sees who dismissed it, when and why."),
    ]
    return _modal("dismiss", blocks, meta, "Dismiss")


def selected(values: dict[str, Any], block_id: str, action_id: str) -> str | None:
    """The value a person entered or chose in one input of a submitted modal."""
    entry = ((values or {}).get(block_id) or {}).get(action_id) or {}
    if entry.get("selected_option"):
        return entry["selected_option"].get("value")
    value = entry.get("value")
    return value.strip() if isinstance(value, str) else None
