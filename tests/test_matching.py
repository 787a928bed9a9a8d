"""What is offered as "likely" is likely: look-alike names and the same email or company domain, not
whatever happens to be nearest."""

from __future__ import annotations

from services.fixes.matching import (
    LIKELY_SCORE,
    closest_by_name,
    likely_customers,
    likely_items,
    match_customer,
    similarity,
)


def customer(cid: str, name: str, email: str | None = None, active: bool = True) -> dict:
    found = {"Id": cid, "DisplayName": name, "Active": active}
    if email:
        found["PrimaryEmailAddr"] = {"Address": email}
    return found


LOOK_ALIKES = [
    customer("1", "Sierra Fresh Produce", "ap@sierrafresh.example"),
    customer("2", "Golden Gate Grocery", "billing@ggrocery.example"),
    customer("3", "Green Valley", "ar@greenvalley.example"),
    customer("4", "Golden Gate Grocers Inc", "ap@goldengate.example"),
    customer("5", "Gate City Grocers"),
    customer("6", "Gold Coast Groceries"),
    customer("7", "Golden Gate Bridge Tolls"),
    customer("8", "Grocers"),
]


def names(found) -> list[str]:
    return [c["DisplayName"] for _, c in found]


def test_only_look_alike_names_are_likely():
    found = likely_customers("Golden Gate Grocers", None, LOOK_ALIKES)
    assert names(found) == ["Golden Gate Grocers Inc", "Golden Gate Grocery"]
    assert all(score >= LIKELY_SCORE for score, _ in found)


def test_an_unrelated_company_has_no_likely_customer():
    assert likely_customers("Harbor Cold Storage", "ap@harborcold.example", LOOK_ALIKES) == []
    assert closest_by_name("Harbor Cold Storage", LOOK_ALIKES) == []


def test_the_same_email_comes_first_and_a_company_domain_counts():
    found = likely_customers("Pacific Produce Co", "AP@GoldenGate.example ", LOOK_ALIKES)
    assert names(found) == ["Golden Gate Grocers Inc"], "the very email, whatever the name"
    assert found[0][0] == 100
    domain = likely_customers("Pacific Produce Co", "payables@greenvalley.example", LOOK_ALIKES)
    assert names(domain) == ["Green Valley"], "another mailbox at the same company domain"


def test_a_mailbox_provider_is_not_a_company():
    shared = [customer("1", "Bob's Diner", "bob@gmail.com")]
    assert (
        similarity("Harbor Cold Storage", "ap.harbor@gmail.com", "Bob's Diner", "bob@gmail.com")
        < LIKELY_SCORE
    )
    assert likely_customers("Harbor Cold Storage", "ap.harbor@gmail.com", shared) == []


def test_inactive_customers_are_never_likely():
    found = likely_customers("Acme Foods", None, [customer("1", "Acme Foods", active=False)])
    assert found == []


def test_a_typo_and_punctuation_still_read_alike():
    typo = names(likely_customers("Goldn Gate Grocers", None, LOOK_ALIKES))
    assert sorted(typo) == ["Golden Gate Grocers Inc", "Golden Gate Grocery"]
    assert (
        names(likely_customers("GOLDEN GATE GROCERS, INC.", None, LOOK_ALIKES))[0]
        == "Golden Gate Grocers Inc"
    )


def test_closest_customers_in_the_evidence_are_look_alikes_only():
    match = match_customer("Golden Gate Grocers", "ap@ggg.example", None, LOOK_ALIKES)
    assert [c["name"] for c in match.evidence["candidates"]] == [
        "Golden Gate Grocers Inc",
        "Golden Gate Grocery",
    ]
    assert "Golden Gate Grocers Inc" in match.problem
    lonely = match_customer("Harbor Cold Storage", "ap@harborcold.example", None, LOOK_ALIKES)
    assert lonely.evidence["candidates"] == [] and "closest" not in lonely.problem


def test_likely_items_read_by_name_or_full_name():
    items = [
        {"Id": "1", "Name": "Fuel Surcharge", "FullyQualifiedName": "Accessorials:Fuel Surcharge"},
        {
            "Id": "2",
            "Name": "Fuel surcharge (old)",
            "FullyQualifiedName": "Fuel surcharge (old)",
            "Active": False,
        },
        {"Id": "3", "Name": "Detention", "FullyQualifiedName": "Detention"},
        {"Id": "4", "Name": "Lumper Fee", "FullyQualifiedName": "Lumper Fee"},
    ]
    assert [i["Id"] for _, i in likely_items("Fuel Surcharge", items)] == ["1", "2"]
    assert likely_items("Chassis", items) == []


def test_the_pickers_search_name_email_and_parent_child():
    from services.fixes.choices import ChoiceList, customer_entry

    sub = {
        "Id": "9",
        "DisplayName": "Oakland DC",
        "FullyQualifiedName": "Bay Foods:Oakland DC",
        "PrimaryEmailAddr": {"Address": "ap@bayfoods.example"},
    }
    found = ChoiceList(
        "customer", "L-1", [customer_entry(sub), customer_entry(customer("2", "Oak Hill Farms"))]
    )
    assert [o.label for o in found.answer("", "bay foods:oak")[1]] == ["Bay Foods:Oakland DC"]
    assert [o.label for o in found.answer("", "AP@BAYFOODS")[1]] == ["Bay Foods:Oakland DC"]
    assert [o.label for o in found.answer("", "oak")[1]] == ["Oak Hill Farms", "Bay Foods:Oakland DC"]
