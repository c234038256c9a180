"""Normalising names and e-mail addresses so that near-identical spellings compare equal."""

from __future__ import annotations

import re
import unicodedata

# Legal-form words that say nothing about who a company is.
LEGAL_FORMS = frozenset({
    "inc", "incorporated", "llc", "l l c", "ltd", "limited", "co", "company", "corp", "corporation", "llp",
    "lp", "plc", "bv", "b v", "nv", "gmbh", "sa", "sarl", "the",
})
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalize_name(name: str | None) -> str:
    """'ACME Cloud Services, Inc.' and 'Acme Cloud Services' both become 'acme cloud services'."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("&", " and ")
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)  # I.T. -> IT., L.L.C. -> LLC.
    text = text.replace(".", "")
    words = [w for w in _NON_ALNUM.split(text) if w]
    while words and words[-1] in LEGAL_FORMS:
        words.pop()
    return " ".join(w for w in words if w != "the" or len(words) == 1)


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def normalize_tax_id(tax_id: str | None) -> str:
    """Tax IDs compare on their letters and digits only: '12-3456789' equals '123456789'."""
    return re.sub(r"[^0-9A-Za-z]", "", tax_id or "").upper()
