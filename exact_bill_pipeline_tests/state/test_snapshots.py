"""Snapshots of BILL's bills, on SQLite and PostgreSQL: two runs reading the same day at once both succeed."""

import threading
import time

from exact_bill_pipeline.services.bills import save_bill_snapshots
from exact_bill_pipeline.state import snapshots
from exact_bill_pipeline.state.db import StateStore


def bills(amount: float) -> list[dict]:
    return [{"id": f"00n{i:017d}", "createdTime": "2026-03-02T10:00:00.000+00:00", "amount": amount,
             "approvalStatus": "APPROVED", "vendorId": "v1", "invoice": {"invoiceNumber": f"INV-{i}"},
             "billLineItems": [{"amount": amount}]} for i in range(30)]


def test_a_day_read_by_two_runs_at_once_is_stored_by_both_and_the_later_read_wins(state_url):
    """The second run reads the day while the first is still writing the same new bills (issue 11, finding 5)."""
    first, second = StateStore(state_url), StateStore(state_url)
    writing = threading.Event()
    errors: list[BaseException] = []

    def second_run() -> None:
        writing.wait()
        try:
            save_bill_snapshots(second, bills(20.0))
        except BaseException as error:
            errors.append(error)

    reader = threading.Thread(target=second_run)
    reader.start()
    with first.transaction() as conn:
        save_rows = [{"source_id": b["id"], "partition": "2026-03-02", "amount": b["amount"], "status": "APPROVED",
                      "archived": False, "updated_time": None, "content_hash": "first", "data": b}
                     for b in bills(10.0)]
        snapshots.save_many(conn, "bill", save_rows)
        writing.set()
        time.sleep(0.5)  # the second run reaches its write while this one has not committed
    reader.join(60)

    assert not errors, errors
    with first.transaction() as conn:
        stored = snapshots.in_partition(conn, "bill", "2026-03-02")
    assert len(stored) == 30
    assert {s.amount for s in stored} == {20}
