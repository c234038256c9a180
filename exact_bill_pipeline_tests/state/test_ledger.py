"""The posting ledger on its own, on SQLite and PostgreSQL: intents before the POST, outcomes after it."""

import uuid
from decimal import Decimal

import pytest

from exact_bill_pipeline.state import audit
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.ledger import AlreadyPosted, Intent, Outcome, PostingLedger


def intents(count: int, prefix: str = "BILL") -> list[Intent]:
    return [Intent(kind="bill", source_id=f"{prefix}{i:04d}", partition="2026-03-02", content_hash=f"h{i}",
                   journal="70", supplier_id="S1", lookup_ref=f"INV-{i}", amount=Decimal("12.50"),
                   content={"lines": [{"amount": "12.50"}]}) for i in range(count)]


def posted(batch: list[Intent]) -> list[Outcome]:
    return [Outcome(kind="bill", source_id=i.source_id, state="posted", why="Exact answered 201",
                    entry_id=str(uuid.uuid4()).upper(), entry_number=n) for n, i in enumerate(batch, start=1)]


@pytest.fixture
def ledger(state_url: str) -> PostingLedger:
    return PostingLedger(StateStore(state_url))


def test_a_batch_larger_than_a_database_page_is_finished_in_full(ledger):
    """PostgreSQL sends an executemany UPDATE 100 rows at a time; every row of every page must land."""
    batch = intents(250)
    ledger.record_intents(batch, actor="run-1")
    outcomes = posted(batch)

    ledger.finish(outcomes, actor="run-1")

    entries = {e.source_id: e for e in ledger.entries(kind="bill")}
    assert {e.state for e in entries.values()} == {"posted"}
    assert {s: (e.exact_entry_id, e.entry_number) for s, e in entries.items()} == {
        o.source_id: (o.entry_id.lower(), o.entry_number) for o in outcomes}
    with ledger.store.transaction() as conn:
        last = audit.history(conn, "bill", "BILL0249")
    assert [(row["action"], row["actor"]) for row in last] == [("posting_intent", "run-1"), ("posted", "run-1")]


def test_finishing_a_posting_whose_intent_was_never_recorded_is_refused_and_writes_nothing(ledger):
    batch = intents(3)
    ledger.record_intents(batch, actor="run-1")
    stray = posted(intents(1, prefix="NEVER"))

    with pytest.raises(KeyError, match="bill NEVER0000 has no ledger entry"):
        ledger.finish([*posted(batch), *stray], actor="run-1")

    assert {e.state for e in ledger.entries(kind="bill")} == {"posting"}
    with ledger.store.transaction() as conn:
        assert [row["action"] for row in audit.history(conn, "bill", "BILL0000")] == ["posting_intent"]


def test_an_intent_for_a_posted_bill_is_refused_for_the_whole_batch(ledger):
    first = intents(2)
    ledger.record_intents(first, actor="run-1")
    ledger.finish(posted(first), actor="run-1")

    with pytest.raises(AlreadyPosted, match=r"bill BILL000[01] is already posted as Exact entry"):
        ledger.record_intents(intents(3), actor="run-2")

    assert ledger.get("bill", "BILL0002") is None
    assert ledger.get("bill", "BILL0001").state == "posted"
