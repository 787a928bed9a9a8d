"""The fixes of a load's charge codes: ``resync_charge_codes`` (link each to its one active QuickBooks
item: create, reactivate or link it; ask when several could be meant) and ``map_charge_code`` (to the
item a person chooses); with how the item choice is offered."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from services import catalogue
from services.errors import UserInputError
from services.fixes import choices
from services.fixes.base import Fix
from services.fixes.choice import Choice, ChoiceKind, Offer
from services.fixes.context import FixContext, Options, qb_id
from services.fixes.matching import is_active, item_brief, match_item
from services.fixes.outcome import Outcome, applied, failed, needs_choice, nothing_to_do, refused
from services.store.models import ChargeCode, ChargeCodeState
from services.store.storage import write_session
from services.sync import LoadView, SyncEngine
from services.sync.company import ALL_STATES


def offer_items(sync: SyncEngine, load: str) -> Offer:
    """Every QuickBooks item to search, and each charge code of the load still to map."""
    items, questions = choices.item_list(sync, load)
    return Offer(questions=questions, searched=items)


class ResyncChargeCodes(Fix):
    code = "resync_charge_codes"

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        items = ctx.api.query_all("Item", ALL_STATES)
        changes: dict[str, Any] = {}
        to_choose: list[dict[str, Any]] = []
        for code, charge in sorted(view.codes.items()):
            match = match_item(charge.name, charge.qb_item_id, items)
            if match.item is not None:
                if charge.qb_item_id != match.item["Id"]:
                    changes[code] = {"linked": match.item["Id"]}
                ctx.link_code(code, match.item["Id"])
            elif match.problem == "duplicate":
                to_choose.append({"code": code, "name": charge.name, "qb_items": match.candidates})
                set_code_state(ctx, code, ChargeCodeState.DUPLICATE)
            elif match.problem == "inactive" and len(match.candidates) == 1:
                item = ctx.api.read("Item", match.candidates[0]["id"])
                item = ctx.sparse_update("Item", item, {"Active": True}, scope=ctx.scope(view))
                ctx.link_code(code, item["Id"])
                changes[code] = {"reactivated": item["Id"]}
            elif match.problem == "inactive":
                to_choose.append({"code": code, "name": charge.name, "qb_items": match.candidates})
            else:
                item = create_item(ctx, code, charge.name)
                if isinstance(item, Outcome):
                    return item
                items.append(item)
                ctx.link_code(code, item["Id"])
                changes[code] = {"created": item_brief(item)}
        if to_choose:
            words = catalogue.charge_codes_to_choose([(c["name"], len(c["qb_items"])) for c in to_choose])
            return needs_choice(words, to_choose, changes)
        if not changes:
            return nothing_to_do("Every charge code of this load is linked to one active QuickBooks item.")
        return applied(describe_code_changes(changes, view), changes)


class MapChargeCode(Fix):
    code = "map_charge_code"
    choice = Choice(
        ChoiceKind.ITEM,
        "item_id",
        offer_items,
        str,
        per_code=True,
        missing="Choose an item for at least one charge code.",
    )

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        code = (options.code or "").strip()
        if not code:
            raise UserInputError("map_charge_code needs --code (the TMS charge code) and --item-id")
        item_id = qb_id(options.item_id, "map_charge_code needs --item-id (a QuickBooks item id)")
        with Session(ctx.engine) as session:
            charge = session.get(ChargeCode, code)
        if charge is None:
            raise UserInputError(f"there is no charge code {code!r} in the TMS")
        item = ctx.api.read("Item", item_id)
        if item is None:
            return refused(f"QuickBooks has no item {item_id}.")
        if not is_active(item):
            return refused(f"QuickBooks item {item_id} ({item.get('FullyQualifiedName')}) is inactive.")
        if charge.qb_item_id == item_id and charge.sync_state == ChargeCodeState.SYNCED:
            return nothing_to_do(f"{code} is already mapped to QuickBooks item {item_id}.")
        ctx.link_code(code, item_id)
        full_name = item.get("FullyQualifiedName") or item.get("Name")
        return applied(
            f"Mapped {code} ({charge.name}) to QuickBooks item {item_id} ({full_name}).",
            {code: {"from": charge.qb_item_id, "to": item_id}},
        )


def create_item(ctx: FixContext, code: str, name: str) -> dict[str, Any] | Outcome:
    """A new service item for the charge code, on the income account (failed when there is none)."""
    accounts = ctx.api.query("SELECT * FROM Account WHERE AccountType = 'Income'").get("Account", [])
    if not accounts:
        return failed("QuickBooks has no income account to put new Products and Services on.")
    preferred = [a for a in accounts if (a.get("Name") or "").casefold() == "services"]
    account = (preferred or accounts)[0]
    body = {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": account["Id"]}}
    return ctx.api.create("Item", body, request_id=ctx.request_id("create_item", code))


def set_code_state(ctx: FixContext, code: str, state: ChargeCodeState) -> None:
    with write_session(ctx.engine) as session:
        charge = session.get(ChargeCode, code)
        charge.sync_state = state


def describe_code_changes(changes: dict[str, Any], view: LoadView) -> str:
    """What Resync charge codes did, naming each charge code as the TMS names it."""
    entries = []
    for code, change in changes.items():
        charge = view.codes.get(code)
        name = charge.name if charge is not None and charge.name else code
        if "created" in change:
            entries.append(("created", name, change["created"]["id"]))
        elif "reactivated" in change:
            entries.append(("reactivated", name, change["reactivated"]))
        else:
            entries.append(("linked", name, change["linked"]))
    return catalogue.charge_codes_resynced(entries)
