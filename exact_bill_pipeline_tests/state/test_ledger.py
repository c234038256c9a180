"""The posting ledger on its own, on SQLite and PostgreSQL: one claim per document, intents, outcomes."""

import random
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from exact_bill_pipeline.state import audit
from exact_bill_pipeline.state.claims import Claimant, ClaimLost
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.ledger import AlreadyPosted, Intent, NotClaimed, Outcome, PostingLedger

SETTLE = timedelta(seconds=30)


def intents(count: int, prefix: str = "BILL") -> list[Intent]:
    return [Intent(kind="bill", source_id=f"{prefix}{i:04d}", partition="2026-03-02", content_hash=f"h{i}",
                   journal="70", supplier_id="S1", lookup_ref=f"INV-{i}", amount=Decimal("12.50"),
                   content={"lines": [{"amount": "12.50"}]}, payload={"YourRef": f"INV-{i}", "Supplier": "S1"})
            for i in range(count)]


def posted(batch: list[Intent]) -> list[Outcome]:
    return [Outcome(kind="bill", source_id=i.source_id, state="posted", why="Exact answered 201",
                    entry_id=str(uuid.uuid4()).upper(), entry_number=n) for n, i in enumerate(batch, start=1)]


@pytest.fixture
def ledger(state_url: str) -> PostingLedger:
    return PostingLedger(StateStore(state_url))


def claim(ledger: PostingLedger, batch: list[Intent], claimant: Claimant, actor: str = "run-1") -> dict[str, str]:
    return {sid: c.status for sid, c in ledger.claim(batch, claimant, settle=SETTLE, actor=actor).items()}


def test_a_batch_larger_than_a_database_page_is_finished_in_full(ledger):
    """PostgreSQL sends an executemany UPDATE 100 rows at a time; every row of every page must land."""
    batch = intents(250)
    with Claimant(ledger.store, "run-1") as claimant:
        assert set(claim(ledger, batch, claimant).values()) == {"free"}
        outcomes = posted(batch)
        ledger.finish(outcomes, actor="run-1", settle=SETTLE)

    entries = {e.source_id: e for e in ledger.entries(kind="bill")}
    assert {e.state for e in entries.values()} == {"posted"}
    assert {s: (e.exact_entry_id, e.entry_number) for s, e in entries.items()} == {
        o.source_id: (o.entry_id.lower(), o.entry_number) for o in outcomes}
    assert entries["BILL0249"].sent == {"YourRef": "INV-249", "Supplier": "S1"}
    with ledger.store.transaction() as conn:
        last = audit.history(conn, "bill", "BILL0249")
    assert [(row["action"], row["actor"]) for row in last] == [("posting_intent", "run-1"), ("posted", "run-1")]


def test_finishing_a_posting_whose_intent_was_never_recorded_is_refused_and_writes_nothing(ledger):
    batch = intents(3)
    with Claimant(ledger.store, "run-1") as claimant:
        claim(ledger, batch, claimant)
        stray = posted(intents(1, prefix="NEVER"))
        with pytest.raises(KeyError, match="bill NEVER0000 has no ledger entry"):
            ledger.finish([*posted(batch), *stray], actor="run-1", settle=SETTLE)

    assert {e.state for e in ledger.entries(kind="bill")} == {"posting"}
    with ledger.store.transaction() as conn:
        assert [row["action"] for row in audit.history(conn, "bill", "BILL0000")] == ["posting_intent"]


def test_a_posted_document_is_never_claimed_again_and_an_intent_for_it_is_refused(ledger):
    first = intents(2)
    with Claimant(ledger.store, "run-1") as claimant:
        claim(ledger, first, claimant)
        ledger.finish(posted(first), actor="run-1", settle=SETTLE)
    with Claimant(ledger.store, "run-2") as second:
        assert claim(ledger, intents(3), second, "run-2") == {"BILL0000": "posted", "BILL0001": "posted",
                                                              "BILL0002": "free"}
        with pytest.raises(AlreadyPosted, match=r"bill BILL0001 is already posted as Exact entry"):
            ledger.record_intents(intents(2)[1:], second, actor="run-2")
    assert ledger.get("bill", "BILL0001").state == "posted"


def test_a_live_claim_keeps_others_out_and_what_it_sent_is_kept_when_another_takes_over(ledger):
    batch = intents(3)
    first = Claimant(ledger.store, "run-1")
    claim(ledger, batch, first)
    with Claimant(ledger.store, "run-2") as second:
        assert set(claim(ledger, intents(3), second, "run-2").values()) == {"busy"}
        with pytest.raises(NotClaimed):
            ledger.record_intents(intents(1), second, actor="run-2")
        first.release()
        changed = [Intent(**{**i.__dict__, "lookup_ref": "CHANGED", "payload": {"YourRef": "CHANGED"}})
                   for i in intents(3)]
        claims = ledger.claim(changed, second, settle=SETTLE, actor="run-2")

    assert {c.status for c in claims.values()} == {"doubt"}
    # The first caller may have sent them before it stopped: they are looked up as sent, never as now.
    entry = ledger.get("bill", "BILL0000")
    assert entry.sent == {"YourRef": "INV-0", "Supplier": "S1"}
    assert entry.lookup_ref == "INV-0"
    # Exact has certainly finished with the first caller's POSTs only SETTLE after it stopped.
    assert claims["BILL0000"].settle_after >= entry.updated_at.replace(tzinfo=claims["BILL0000"].settle_after.tzinfo)


def test_a_claim_whose_lease_ran_out_is_taken_over_in_doubt_and_its_owner_stops(ledger):
    batch = intents(2)
    stale = Claimant(ledger.store, "run-dead", lease=timedelta(seconds=1), send_margin=timedelta(0))
    claim(ledger, batch, stale)
    time.sleep(1.3)
    with Claimant(ledger.store, "run-2") as second:
        claims = ledger.claim(batch, second, settle=SETTLE, actor="run-2")
    assert {c.status for c in claims.values()} == {"doubt"}
    with pytest.raises(ClaimLost):
        stale.ensure_live()


@pytest.mark.parametrize("callers", [4])
def test_callers_racing_for_the_same_documents_each_get_a_document_at_most_once(state_url, callers):
    """Real concurrency: each caller its own connection pool, all claiming 120 documents in shuffled batches."""
    batch = intents(120)
    won: dict[str, list[str]] = {}
    start = threading.Barrier(callers)
    errors: list[BaseException] = []

    def caller(name: str) -> None:
        try:
            store = StateStore(state_url)
            ledger = PostingLedger(store)
            claimant = Claimant(store, name)
            mine = random.sample(batch, len(batch))
            start.wait()
            for chunk in (mine[i:i + 15] for i in range(0, len(mine), 15)):
                statuses = claim(ledger, chunk, claimant, name)
                won[name] = won.get(name, []) + [s for s, status in statuses.items() if status == "free"]
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=caller, args=(f"run-{n}",)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    claimed = [source for sources in won.values() for source in sources]
    assert sorted(claimed) == sorted(i.source_id for i in batch)
