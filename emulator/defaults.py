"""What a brand-new emulated QuickBooks company contains.

Like a fresh QuickBooks Online company it has a chart of accounts with income accounts
("Services", "Sales of Product Income") and Accounts Receivable, a "Services" item, company
information and preferences. ``SalesFormsPrefs.CustomTxnNumbers`` starts **true** so that invoice
numbers supplied by an app are kept; turn it off through the API or the admin seed endpoint.
"""

from __future__ import annotations

from typing import Any

DEFAULT_REALM_ID = "9341453050298551"

USD = {"value": "USD", "name": "United States Dollar"}

# (Name, AccountType, AccountSubType, Classification)
DEFAULT_ACCOUNTS: list[tuple[str, str, str, str]] = [
    ("Services", "Income", "ServiceFeeIncome", "Revenue"),
    ("Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue"),
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset"),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
]

CLASSIFICATION_BY_TYPE: dict[str, str] = {
    "Bank": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Accounts Receivable": "Asset",
    "Equity": "Equity",
    "Expense": "Expense",
    "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Long Term Liability": "Liability",
    "Other Current Liability": "Liability",
    "Income": "Revenue",
    "Other Income": "Revenue",
}


def default_preferences() -> dict[str, Any]:
    return {
        "AccountingInfoPrefs": {
            "TrackDepartments": False,
            "DepartmentTerminology": "Location",
            "ClassTrackingPerTxn": False,
            "ClassTrackingPerTxnLine": False,
            "CustomerTerminology": "Customers",
            "FirstMonthOfFiscalYear": "January",
            "UseAccountNumbers": False,
            "TaxYearMonth": "January",
        },
        "ProductAndServicesPrefs": {
            "ForSales": True,
            "ForPurchase": True,
            "QuantityWithPriceAndRate": True,
            "QuantityOnHand": True,
        },
        "SalesFormsPrefs": {
            "CustomField": [],
            "CustomTxnNumbers": True,
            "AllowDeposit": False,
            "AllowDiscount": False,
            "AllowEstimates": True,
            "AllowServiceDate": False,
            "AllowShipping": False,
            "ETransactionEnabledStatus": "NotApplicable",
            "ETransactionAttachPDF": False,
            "ETransactionPaymentEnabled": False,
            "IPNSupportEnabled": False,
            "EmailCopyToCompany": False,
            "AutoApplyCredit": True,
            "AutoApplyPayments": True,
            "UsingProgressInvoicing": False,
            "UsingPriceLevels": False,
        },
        "EmailMessagesPrefs": {
            "InvoiceMessage": {
                "Subject": "Invoice [Invoice No.] from Emulated Trucking Co",
                "Message": "Your invoice is attached. Thank you for your business.",
            }
        },
        "VendorAndPurchasesPrefs": {
            "TrackingByCustomer": False,
            "BillableExpenseTracking": False,
            "POCustomField": [],
        },
        "TimeTrackingPrefs": {
            "UseServices": True,
            "BillCustomers": False,
            "ShowBillRateToAll": False,
            "WorkWeekStartDate": "Monday",
            "MarkTimeEntriesBillable": False,
        },
        "TaxPrefs": {"UsingSalesTax": False, "PartnerTaxEnabled": False},
        "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
        "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
        "OtherPrefs": {"NameValue": [{"Name": "SalesFormsPrefs.DefaultItem", "Value": "1"}]},
    }


def default_company_info(realm_id: str) -> dict[str, Any]:
    return {
        "CompanyName": "Emulated Trucking Co",
        "LegalName": "Emulated Trucking Co LLC",
        "CompanyAddr": {
            "Id": "1",
            "Line1": "100 Harbor Way",
            "City": "Long Beach",
            "CountrySubDivisionCode": "CA",
            "PostalCode": "90802",
        },
        "Country": "US",
        "Email": {"Address": "billing@trucking.example"},
        "FiscalYearStartMonth": "January",
        "SupportedLanguages": "en",
        "CompanyStartDate": "2020-01-01",
        "NameValue": [{"Name": "CompanyType", "Value": "LLC"}, {"Name": "RealmId", "Value": realm_id}],
    }
