"""Everything one BILL sandbox holds, handed to its route builders."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from exact_bill_pipeline.sandbox.ap_seed import ApDocuments
from exact_bill_pipeline.sandbox.bill.ap_preload import preload
from exact_bill_pipeline.sandbox.bill.limits import SESSION_STATE_KEY, Limits
from exact_bill_pipeline.sandbox.bill.listing import PageTokens
from exact_bill_pipeline.sandbox.bill.sessions import Session, SessionBook
from exact_bill_pipeline.sandbox.bill.store import BillStore
from exact_bill_pipeline.sandbox.bill.webhooks import Webhooks
from exact_bill_pipeline.sandbox.clock import SandboxClock
from exact_bill_pipeline.sandbox.seed import Firm, iso_ms
from exact_bill_pipeline.sandbox.settings import BillSandboxSettings, SandboxSettings


@dataclass
class BillSandbox:
    settings: SandboxSettings
    clock: SandboxClock
    store: BillStore
    sessions: SessionBook
    limits: Limits
    tokens: PageTokens
    hooks: Webhooks

    @classmethod
    def build(cls, settings: SandboxSettings, clock: SandboxClock, firm: Firm) -> BillSandbox:
        store = BillStore(firm)
        if settings.ap_documents:
            preload(store, ApDocuments(firm))
        return cls(
            settings=settings,
            clock=clock,
            store=store,
            sessions=SessionBook(clock, settings.bill.session_idle_seconds),
            limits=Limits(settings.bill, clock),
            tokens=PageTokens(),
            hooks=Webhooks(settings.bill, clock),
        )

    @property
    def bill(self) -> BillSandboxSettings:
        return self.settings.bill

    def now_iso(self) -> str:
        return iso_ms(self.clock.now_ms())

    @staticmethod
    def session(request: Request) -> Session:
        """The session the gate admitted this request with."""
        return request.scope["state"][SESSION_STATE_KEY]
