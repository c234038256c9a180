"""Vendor matching: tax ID, then name, then e-mail; ambiguity and blocked suppliers are never guessed."""

from __future__ import annotations

import pytest

from exact_bill_pipeline.domain.names import normalize_name
from exact_bill_pipeline.domain.vendors import SupplierFacts, SupplierIndex, VendorFacts

SUPPLIERS = [
    SupplierFacts("s-acme", "ACME Cloud Services, Inc.", tax_id="12-3456789"),
    SupplierFacts("s-pinnacle", "Pinnacle Recruiting LLC", email="ap@pinnacle.example"),
    SupplierFacts("s-xds", "XDS Holdings", email="billing@xenon.example"),
    SupplierFacts("s-summit-1", "Summit Print Co."),
    SupplierFacts("s-summit-2", "SUMMIT PRINT CO"),
    SupplierFacts("s-echo", "Echo Valley Water", blocked=True),
]


@pytest.mark.parametrize(
    ("a", "b"),
    [("Acme Cloud Services", "ACME Cloud Services, Inc."), ("Pinnacle Recruiting, LLC", "Pinnacle Recruiting LLC"),
     ("Umber & Co. Printing", "Umber & Co Printing"), ("Vantage Point Travel", "Vantage-Point Travel"),
     ("Coastal IT Support", "Coastal I.T. Support"), ("Silverline Couriers", "Silverline  Couriers")],
)
def test_near_identical_names_normalize_to_the_same_key(a, b):
    assert normalize_name(a) == normalize_name(b)


def test_different_companies_stay_different():
    assert normalize_name("Xenon Data Systems") != normalize_name("XDS Holdings")


def test_tax_id_wins_even_when_the_names_differ():
    match = SupplierIndex(SUPPLIERS).match(VendorFacts("v1", "Acme Cloud", tax_id="123456789"))
    assert (match.outcome, match.method, match.supplier_id) == ("matched", "tax_id", "s-acme")


def test_name_is_tried_when_there_is_no_tax_id():
    match = SupplierIndex(SUPPLIERS).match(VendorFacts("v2", "Pinnacle Recruiting, LLC"))
    assert (match.outcome, match.method, match.supplier_id) == ("matched", "name", "s-pinnacle")


def test_email_is_tried_last():
    match = SupplierIndex(SUPPLIERS).match(VendorFacts("v3", "Xenon Data Systems", email="Billing@Xenon.example "))
    assert (match.outcome, match.method, match.supplier_id) == ("matched", "email", "s-xds")


def test_two_suppliers_with_the_same_normalized_name_are_ambiguous_and_not_guessed():
    match = SupplierIndex(SUPPLIERS).match(VendorFacts("v4", "Summit Print Co"))
    assert match.outcome == "ambiguous"
    assert match.supplier_id is None
    assert match.candidates == ("s-summit-1", "s-summit-2")
    assert "2 Exact suppliers match by name" in match.explain()


def test_a_match_on_a_blocked_supplier_only_is_reported_not_used():
    match = SupplierIndex(SUPPLIERS).match(VendorFacts("v5", "Echo Valley Water"))
    assert (match.outcome, match.supplier_id) == ("blocked", None)


def test_no_match_says_what_was_tried():
    match = SupplierIndex(SUPPLIERS).match(VendorFacts("v6", "Brand New Vendor", email="x@y.example"))
    assert match.outcome == "none"
    assert match.tried == {"name": "brand new vendor", "email": "x@y.example"}
