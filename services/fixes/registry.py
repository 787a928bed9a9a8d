"""Every fix, one object per fix code (:data:`REGISTRY`), in the catalogue's order. A new fix is a
:class:`~services.fixes.base.Fix` in its family's module, listed here."""

from __future__ import annotations

from services.catalogue import ADMIN_ONLY
from services.fixes.base import Fix
from services.fixes.charge_codes import MapChargeCode, ResyncChargeCodes
from services.fixes.connection import Connect, Retry
from services.fixes.customers import CreateCustomer, LinkCustomer, PushCustomerChange, UpdateCustomerEmail
from services.fixes.dismissal import Dismiss, Undismiss
from services.fixes.invoices import AdoptQbInvoice, ClearQbId, PushInvoiceUpdate
from services.fixes.numbers import EnableCustomTxnNumbers, SetDocNumber

FIXES: tuple[Fix, ...] = (
    Connect(),
    LinkCustomer(),
    CreateCustomer(),
    UpdateCustomerEmail(),
    ResyncChargeCodes(),
    MapChargeCode(),
    PushCustomerChange(),
    PushInvoiceUpdate(),
    AdoptQbInvoice(),
    ClearQbId(),
    SetDocNumber(),
    EnableCustomTxnNumbers(),
    Dismiss(),
    Undismiss(),
    Retry(),
)
REGISTRY: dict[str, Fix] = {fix.code: fix for fix in FIXES}


def admin_only(code: str) -> bool:
    """Whether ``code`` is for administrators: the fix says so; ``disconnect``, not a fix of a load,
    by the catalogue's words."""
    fix = REGISTRY.get(code)
    return fix.admin_only if fix is not None else code in ADMIN_ONLY
