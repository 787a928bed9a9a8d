"""The modals that carry a fix's human choice. Each opens at once as "Looking up…" (a trigger_id lives
3 s), is filled when QuickBooks has answered, and sends its choice back with the load and fix in
``private_metadata``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot import ids
from bot.views.blocks import (
    MODAL_TITLE,
    OPTION_TEXT,
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
from services.fixes.choice import ChoiceKind, Offer

DOC_NUMBER_MAX = 21
OPTIONS_MAX = 100  # options in a menu, or in an answer to its options request
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


INACTIVE = " (inactive)"
LIKELY_LABEL = "Likely"
OTHERS_LABEL = "Others"


def picker(action_id: str, placeholder: str) -> dict[str, Any]:
    """A menu searched as the person types (``external_select``): Slack asks the app for its options
    (``block_suggestion``) when it opens (``min_query_length`` 0: the likely ones show at once) and
    at each keystroke; see :func:`options_answer`. Nothing is chosen in advance."""
    return {
        "type": "external_select",
        "action_id": action_id,
        "placeholder": plain(placeholder, 150),
        "min_query_length": 0,
    }


def _entry(o: Any) -> dict[str, Any]:
    label = o.label if getattr(o, "active", True) else cut(o.label, OPTION_TEXT - len(INACTIVE)) + INACTIVE
    return option(label, o.value, o.detail)


def options_answer(likely: list[Any], others: list[Any]) -> dict[str, Any]:
    """The answer to an options request: a "Likely" group first when there are likely ones, then the
    others (at most 100 options in all); inactive ones are marked."""
    likely = likely[:OPTIONS_MAX]
    others = others[: OPTIONS_MAX - len(likely)]
    if not likely:
        return {"options": [_entry(o) for o in others]}
    groups = [{"label": plain(LIKELY_LABEL, OPTION_TEXT), "options": [_entry(o) for o in likely]}]
    if others:
        groups.append({"label": plain(OTHERS_LABEL, OPTION_TEXT), "options": [_entry(o) for o in others]})
    return {"option_groups": groups}


def _input(block_id: str, label: str, element: dict[str, Any], hint: str | None = None) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element}
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def customer_modal(load_number: str, customer_name: str, likely: list[Any], meta: str) -> dict[str, Any]:
    """Which QuickBooks customer the TMS customer is: a searched menu (:func:`picker`) over every
    customer; ``likely`` are the look-alikes it lists first (none is chosen in advance)."""
    block_id, action_id = ids.CUSTOMER_INPUT
    hint = (
        "Customers whose name or email look like the TMS's are listed first (Likely); "
        "type a name or email to search them all."
        if likely
        else "No QuickBooks customer looks like this one: type a name or email to search them all."
    )
    blocks = [
        section(f"Which QuickBooks customer is *{escape(customer_name)}* (load *{escape(load_number)}*)?"),
        _input(block_id, "QuickBooks customer", picker(action_id, "Type a name or email"), hint),
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
                picker(ids.ITEM_ACTION, "Type an item's name"),
                f"{problem.capitalize()}. "
                + ("Likely items are listed first. " if choice.options else "")
                + "Items: Products and Services.",
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


# -- a fix's choice (``services.fixes.choice``): its modal, and its answers read back -----------------

# The one input of each kind of choice that asks one question; an item is asked per charge code.
INPUTS: dict[ChoiceKind, tuple[str, str]] = {
    ChoiceKind.CUSTOMER: ids.CUSTOMER_INPUT,
    ChoiceKind.EMAIL: ids.EMAIL_INPUT,
    ChoiceKind.DOC_NUMBER: ids.DOC_NUMBER_INPUT,
    ChoiceKind.REASON: ids.DISMISS_INPUT,
}


# How each kind of choice is asked, from what its fix's offer looked up.
MODALS: dict[ChoiceKind, Callable[[str, Offer, str], dict[str, Any]]] = {
    ChoiceKind.CUSTOMER: lambda load, offer, meta: customer_modal(load, offer.subject, offer.options, meta),
    ChoiceKind.EMAIL: lambda load, offer, meta: email_modal(
        load, offer.subject, offer.current, offer.options, meta
    ),
    ChoiceKind.ITEM: lambda load, offer, meta: item_modal(load, offer.questions, meta),
    ChoiceKind.DOC_NUMBER: lambda load, offer, meta: doc_number_modal(load, offer.current, meta),
    ChoiceKind.REASON: lambda load, offer, meta: dismiss_modal(load, meta),
}


def answers(kind: ChoiceKind, values: dict[str, Any]) -> dict[str, str | None]:
    """What a submitted choice modal answers, by question: ``""`` for its one question, the charge
    code for each item."""
    if kind in INPUTS:
        return {"": selected(values, *INPUTS[kind])}
    prefix = ids.ITEM_INPUT_PREFIX
    return {
        block_id[len(prefix) :]: selected(values, block_id, ids.ITEM_ACTION)
        for block_id in values or {}
        if block_id.startswith(prefix)
    }


def input_block(kind: ChoiceKind, question: str) -> str:
    """The block id of a question's input (where its error shows)."""
    return INPUTS[kind][0] if kind in INPUTS else f"{ids.ITEM_INPUT_PREFIX}{question}"


def picker_question(kind: ChoiceKind, action_id: Any, block_id: Any) -> str | None:
    """Which question of a choice modal an options request is for: ``""`` for the customer, the charge
    code for an item; None when the request fits no picker of that kind of modal."""
    if kind is ChoiceKind.CUSTOMER and action_id == ids.CUSTOMER_INPUT[1]:
        return ""
    prefix = ids.ITEM_INPUT_PREFIX
    if (
        kind is ChoiceKind.ITEM
        and action_id == ids.ITEM_ACTION
        and isinstance(block_id, str)
        and block_id.startswith(prefix)
        and len(block_id) > len(prefix)
    ):
        return block_id[len(prefix) :]
    return None


def selected(values: dict[str, Any], block_id: str, action_id: str) -> str | None:
    """The value a person entered or chose in one input of a submitted modal."""
    entry = ((values or {}).get(block_id) or {}).get(action_id) or {}
    if entry.get("selected_option"):
        return entry["selected_option"].get("value")
    value = entry.get("value")
    return value.strip() if isinstance(value, str) else None
