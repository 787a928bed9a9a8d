"""The QuickBooks adapter: the only package that imports ``quickbooks`` and ``intuitlib``."""

from services.quickbooks.api import QuickBooksApi, RetryPolicy, TokenSource
from services.quickbooks.auth import IntuitAuth, TokenSet
from services.quickbooks.errors import Kind, NotConnected, QboError

__all__ = [
    "IntuitAuth",
    "Kind",
    "NotConnected",
    "QboError",
    "QuickBooksApi",
    "RetryPolicy",
    "TokenSet",
    "TokenSource",
]
