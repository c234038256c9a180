"""Sends thousands of adversarial webhook deliveries to the receiver: none may be stored, none may get a 5xx."""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import ipaddress
import json
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from exact_bill_pipeline.processes import stop_process
from exact_bill_pipeline.sandbox.bill.delivery import sign as bill_sign
from exact_bill_pipeline.sandbox.exact_online.webhooks import sign as exact_sign
from exact_bill_pipeline.state.db import StateStore
from exact_bill_pipeline.state.inbox import Inbox
from exact_bill_pipeline.state.vault import Vault, generate_key
from exact_bill_pipeline.state.webhook_keys import WebhookKeys

DIVISION = 123456
TIMEOUT = (5.0, 30.0)
JSON = "application/json"
Status = int | str  # an HTTP status, or "closed" / "timeout" / "error" when no answer came
DESCRIPTION = """By default this starts `exact-bill webhooks serve` in a separate process (so the client load here
does not starve it) over a fresh SQLite state database with one registered BILL key. With --url it fuzzes a
running receiver on a 127.x.y.z address instead: the Exact secret comes from EXACT_WEBHOOK_SECRET, the
division from EXACT_DIVISION, the BILL key from the vault of the state database (--state-url or
EXACT_BILL_STATE_URL, with EXACT_BILL_VAULT_KEY).

The receiver blocks a sender (its client IP) after repeated refusals, so requests come from many 127.x.y.z
source addresses (Linux routes all of 127.0.0.0/8 to loopback), a few requests each; one flood from a single
address then shows the blocking, and a signed Exact and a signed BILL event from that same address must still
be accepted (the block is for forgers). At the end one valid Exact and one valid BILL event from fresh addresses
must be accepted too.
Exits 1 when an adversarial request was accepted, got a 5xx or hung, or the receiver stopped answering."""


# --- the receiver under test -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    url: str
    exact_secret: str = field(repr=False)
    bill_key: str = field(repr=False)
    division: int
    state_url: str
    prefix: str = "/webhooks"
    max_body_bytes: int = 256 * 1024
    log_path: Path | None = None

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = self.url.split("//", 1)[1].rstrip("/").rsplit(":", 1)
        return host, int(port)

    def path(self, endpoint: str) -> str:
        return f"{self.prefix}/{endpoint}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def local_receiver(max_body_bytes: int) -> Iterator[Target]:
    """`exact-bill webhooks serve` in its own process, over a fresh state DB holding one BILL key."""
    with tempfile.TemporaryDirectory(prefix="fuzz-receiver-") as tmp:
        state_url, vault_key = f"sqlite:///{tmp}/state.sqlite", generate_key()
        port, bill_key, exact_secret = free_port(), secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        WebhookKeys(Vault(StateStore(state_url), vault_key)).add(
            "sub-1", bill_key, url=f"http://127.0.0.1:{port}/webhooks/bill")
        env = {**os.environ, "EXACT_BILL_STATE_URL": state_url, "EXACT_BILL_VAULT_KEY": vault_key,
               "EXACT_WEBHOOK_SECRET": exact_secret, "EXACT_DIVISION": str(DIVISION), "PYTHONUNBUFFERED": "1"}
        log_path = Path(tmp) / "receiver.log"
        command = [sys.executable, "-m", "exact_bill_pipeline.cli", "webhooks", "serve", "--host", "127.0.0.1",
                   "--port", str(port), "--max-body-bytes", str(max_body_bytes)]
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
            target = Target(f"http://127.0.0.1:{port}", exact_secret, bill_key, DIVISION, state_url,
                            max_body_bytes=max_body_bytes, log_path=log_path)
            try:
                wait_until_healthy(target, process)
                yield target
            finally:
                stop_process(process, timeout=15)


def running_receiver(url: str, state_url: str | None, prefix: str, max_body_bytes: int) -> Target:
    from exact_bill_pipeline.config import EXACT_SETTINGS, EXACT_WEBHOOK_SECRET, value

    store = StateStore(state_url, migrate=False)
    keys = WebhookKeys(Vault(store)).valid_keys()
    if not keys:
        raise SystemExit("no BILL key is registered in that state database; register one first")
    return Target(url.rstrip("/"), value(EXACT_WEBHOOK_SECRET), keys[0], int(value(EXACT_SETTINGS["division"])),
                  store.url, prefix="/" + prefix.strip("/"), max_body_bytes=max_body_bytes)


def wait_until_healthy(target: Target, process: subprocess.Popen | None = None, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = target.log_path.read_text(errors="replace")[-2000:] if target.log_path else ""
            raise SystemExit(f"the receiver exited with {process.returncode}:\n{tail}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(target.url + target.path("health"), timeout=2).ok:
                return
        time.sleep(0.2)
    raise SystemExit(f"the receiver did not answer {target.path('health')} within {seconds:.0f} s")


def inbox_count(target: Target) -> int:
    return Inbox(StateStore(target.state_url, migrate=False)).count()


# --- senders: many loopback source addresses ---------------------------------------------------------------


class SourceAdapter(HTTPAdapter):
    """Connections from one local source address, so the receiver sees a distinct client IP."""

    def __init__(self, source_ip: str) -> None:
        self.source_ip = source_ip
        super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.source_ip, 0), **kwargs)


class Addresses:
    """Hands out fresh 127.x.y.z addresses (never .0 or .255), thread-safely."""

    def __init__(self, first: str = "127.1.0.1") -> None:
        self._next = int(ipaddress.IPv4Address(first))
        self._lock = threading.Lock()
        self.handed_out = 0

    def take(self) -> str:
        with self._lock:
            while self._next % 256 in (0, 255):
                self._next += 1
            address = str(ipaddress.IPv4Address(self._next))
            self._next += 1
            self.handed_out += 1
            return address


class Sender:
    """One client thread's apparent sender: a source address used for ``budget`` requests, then a new one."""

    def __init__(self, addresses: Addresses, budget: int) -> None:
        self.addresses, self.budget = addresses, budget
        self.ip, self.used, self._session = addresses.take(), 0, None

    def next_ip(self) -> str:
        if self.used >= self.budget:
            self.rotate()
        self.used += 1
        return self.ip

    def session(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
            self._session.mount("http://", SourceAdapter(self.ip))
        return self._session

    def rotate(self) -> None:
        self.close()
        self.ip, self.used = self.addresses.take(), 0

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


# --- probes: what is sent ----------------------------------------------------------------------------------


@dataclass
class Probe:
    method: str = "POST"
    endpoint: str = "exact"  # relative to the prefix, unless it starts with "/"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": JSON})
    body: bytes | Callable[[], Iterator[bytes]] | None = None
    raw: bytes | None = None  # a whole hand-written HTTP request, sent over a plain socket
    half_close: bool = False  # stop sending (FIN) right after ``raw``, without finishing it


@dataclass(frozen=True)
class Context:
    target: Target
    rng: random.Random

    def token(self) -> str:
        return "".join(self.rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=24))

    def wrong_secret(self) -> str:
        return "not-" + self.token()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


Builder = Callable[[Context], Probe]
CATEGORIES: dict[str, tuple[Builder, frozenset[Status]]] = {}


def category(name: str, *expected: Status) -> Callable[[Builder], Builder]:
    """Registers a kind of adversarial request and the statuses a strict receiver answers it with."""

    def register(builder: Builder) -> Builder:
        CATEGORIES[name] = (builder, frozenset(expected))
        return builder

    return register


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def exact_content(ctx: Context) -> dict[str, Any]:
    return {"Topic": ctx.rng.choice(["GLAccounts", "Accounts", "PurchaseEntries"]), "ClientId": ctx.uuid(),
            "Division": ctx.target.division, "Action": ctx.rng.choice(["Create", "Update", "Delete"]),
            "Key": ctx.uuid(), "ExactOnlineEndpoint": "https://start.exactonline.nl/api/v1/x/financial/GL",
            "EventCreatedOn": "2026-11-26T10:00:00.123"}


def envelope(content: bytes, hashcode: str) -> bytes:
    return b'{"Content":' + content + b',"HashCode":"' + hashcode.encode("latin-1") + b'"}'


def wrongly_signed_exact(ctx: Context) -> bytes:
    content = compact(exact_content(ctx))
    return envelope(content, exact_sign(content, ctx.wrong_secret()))


def bill_payload(ctx: Context) -> dict[str, Any]:
    return {"metadata": {"eventId": ctx.uuid(), "subscriptionId": "sub-1", "organizationId": "00801",
                         "eventType": ctx.rng.choice(["bill.created", "bill.updated", "vendor.updated"]),
                         "version": "1"},
            "bill": {"id": f"00n02SB{ctx.rng.randrange(10**13):013d}", "amount": 12.5}}


def near_misses(right: str, candidates: list[str]) -> list[str]:
    """The candidates that differ from the right signature (an alteration can happen to give it back)."""
    return [candidate for candidate in candidates if candidate != right] or ["0" * len(right)]


def exact_probe(body: bytes) -> Probe:
    return Probe(endpoint="exact", body=body)


def bill_probe(body: bytes, signature: str | None) -> Probe:
    headers = {"Content-Type": JSON}
    if signature is not None:
        headers["x-bill-sha-signature"] = signature
    return Probe(endpoint="bill", body=body, headers=headers)


def either(ctx: Context, body: bytes, headers: dict[str, str] | None = None) -> Probe:
    """The body to a random endpoint; BILL gets a signature made with a wrong key."""
    headers = {"Content-Type": JSON} if headers is None else headers
    if ctx.rng.random() < 0.5:
        return Probe(endpoint="exact", body=body, headers=headers)
    return Probe(endpoint="bill", body=body,
                 headers={**headers, "x-bill-sha-signature": bill_sign(body, ctx.wrong_secret())})


def some_near_miss(ctx: Context) -> tuple[str, bytes, dict[str, str]]:
    """A plausible delivery to either endpoint, signed with a wrong secret or key: (endpoint, body, headers)."""
    if ctx.rng.random() < 0.5:
        return "exact", wrongly_signed_exact(ctx), {}
    body = compact(bill_payload(ctx))
    return "bill", body, {"x-bill-sha-signature": bill_sign(body, ctx.wrong_secret())}


# Exact: HashCodes that are almost right -----------------------------------------------------------------


@category("exact: HashCode wrong", 401)
def _(ctx: Context) -> Probe:
    return exact_probe(envelope(compact(exact_content(ctx)), "".join(ctx.rng.choices("0123456789ABCDEF", k=64))))


@category("exact: HashCode missing or empty", 401)
def _(ctx: Context) -> Probe:
    content = compact(exact_content(ctx))
    return exact_probe(ctx.rng.choice([b'{"Content":' + content + b"}", envelope(content, ""),
                                       b'{"Content":' + content + b',"HashCode":null}']))


@category("exact: HashCode lowercase", 401)
def _(ctx: Context) -> Probe:
    content = compact(exact_content(ctx))
    right = exact_sign(content, ctx.target.exact_secret)
    return exact_probe(envelope(content, near_misses(right, [right.lower()])[0]))


@category("exact: HashCode base64", 401)
def _(ctx: Context) -> Probe:
    content = compact(exact_content(ctx))
    digest = bytes.fromhex(exact_sign(content, ctx.target.exact_secret))
    return exact_probe(envelope(content, base64.b64encode(digest).decode()))


@category("exact: HashCode cut or padded", 401)
def _(ctx: Context) -> Probe:
    content = compact(exact_content(ctx))
    right = exact_sign(content, ctx.target.exact_secret)
    return exact_probe(envelope(content, ctx.rng.choice(near_misses(right, [
        right[:-1], right + "0", " " + right, right[1:] + "0", "sha256=" + right]))))


@category("exact: signed with a wrong secret", 401)
def _(ctx: Context) -> Probe:
    return exact_probe(wrongly_signed_exact(ctx))


@category("exact: body tampered after signing", 401)
def _(ctx: Context) -> Probe:
    content = compact(exact_content(ctx))
    hashcode = exact_sign(content, ctx.target.exact_secret)
    tampered = content.replace(b'"Action":"', b'"Action":"X', 1)
    return exact_probe(envelope(tampered, hashcode))


@category("exact: whitespace added after signing", 401)
def _(ctx: Context) -> Probe:
    fields = exact_content(ctx)
    hashcode = exact_sign(compact(fields), ctx.target.exact_secret)
    spaced = json.dumps(fields, indent=ctx.rng.choice([None, 1, 2])).encode()
    if ctx.rng.random() < 0.5:
        return exact_probe(envelope(spaced, hashcode))
    return exact_probe(b'{ "Content": ' + spaced + b', "HashCode": "' + hashcode.encode() + b'" }\n')


@category("exact: keys reordered after signing", 401)
def _(ctx: Context) -> Probe:
    fields = exact_content(ctx)
    content = compact(fields)
    hashcode = exact_sign(content, ctx.target.exact_secret)
    if ctx.rng.random() < 0.5:
        return exact_probe(envelope(compact(dict(reversed(fields.items()))), hashcode))
    wrong = exact_sign(content, ctx.wrong_secret())
    return exact_probe(b'{"HashCode":"' + wrong.encode() + b'","Content":' + content + b"}")


@category("exact: not an Exact envelope", 401)
def _(ctx: Context) -> Probe:
    content = compact(exact_content(ctx))
    hashcode = exact_sign(content, ctx.wrong_secret())
    return exact_probe(ctx.rng.choice([
        content, compact([json.loads(content)]),
        b'{"content":' + content + b',"hashcode":"' + hashcode.encode() + b'"}',
        envelope(content, hashcode)[:-1] + b',"Extra":1}', b"{}", b'"' + hashcode.encode() + b'"',
        b'{"Content":' + content + b',"HashCode":"0","HashCode":"' + hashcode.encode() + b'"}',
    ]))


@category("exact: signed Content that is no event", 400)
def _(ctx: Context) -> Probe:
    # Correctly signed on purpose: parsing what the signature covers must fail cleanly, never with a 5xx.
    content = ctx.rng.choice([b"[]", b"null", b'"GLAccounts"', b"12", b'{"Key":"k"}', b'{"Topic":"GLAccounts"}',
                              b"[" * 50 + b"]" * 50])
    return exact_probe(envelope(content, exact_sign(content, ctx.target.exact_secret)))


# BILL: signatures that are almost right ---------------------------------------------------------------


@category("bill: signed with a wrong key", 401)
def _(ctx: Context) -> Probe:
    body = compact(bill_payload(ctx))
    return bill_probe(body, bill_sign(body, ctx.wrong_secret()))


@category("bill: signature header missing or empty", 401)
def _(ctx: Context) -> Probe:
    return bill_probe(compact(bill_payload(ctx)), ctx.rng.choice([None, ""]))


@category("bill: signature prefixed, hex or altered", 401)
def _(ctx: Context) -> Probe:
    body = compact(bill_payload(ctx))
    right = bill_sign(body, ctx.target.bill_key)
    digest = base64.b64decode(right)
    altered = right[:-2] + ("E=" if right.endswith("A=") else "A=")
    return bill_probe(body, ctx.rng.choice(near_misses(right, [
        "sha256=" + right, "sha256:" + right, digest.hex(), digest.hex().upper(), right.rstrip("="),
        base64.urlsafe_b64encode(digest).decode().replace("=", "") + "-", right.lower(), altered,
        right + right, base64.b64encode(digest[:-1]).decode(), "é" + right,
    ])))


@category("bill: signature of another body (replayed)", 401)
def _(ctx: Context) -> Probe:
    return bill_probe(compact(bill_payload(ctx)), bill_sign(compact(bill_payload(ctx)), ctx.target.bill_key))


@category("bill: body tampered after signing", 401)
def _(ctx: Context) -> Probe:
    payload = bill_payload(ctx)
    body = compact(payload)
    signature = bill_sign(body, ctx.target.bill_key)
    tampered = ctx.rng.choice([body.replace(b'"amount":12.5', b'"amount":99999.5'), body + b" ", b" " + body,
                               json.dumps(payload).encode(), compact(dict(reversed(payload.items())))])
    return bill_probe(tampered, signature)


@category("bill: empty body", 400)
def _(ctx: Context) -> Probe:
    return bill_probe(b"", ctx.rng.choice([None, bill_sign(b"", ctx.wrong_secret())]))


@category("bill: JSON without metadata, unsigned or wrongly signed", 401)
def _(ctx: Context) -> Probe:
    body = compact(ctx.rng.choice([{"bill": {"id": "1"}}, {}, [], {"metadata": None}]))
    return bill_probe(body, ctx.rng.choice([None, bill_sign(body, ctx.wrong_secret())]))


@category("bill: signed JSON that is no event", 400)
def _(ctx: Context) -> Probe:
    # Correctly signed on purpose: parsing what the signature covers must fail cleanly, never with a 5xx.
    event = {"eventId": "e-1", "eventType": "bill.updated"}
    body = ctx.rng.choice([
        compact({"bill": {"id": "1"}}), compact({"metadata": "x"}), compact({"metadata": {}}), b"[]", b"null",
        b"5", compact({"metadata": {**event, "eventType": "billupdated"}}),
        compact({"metadata": {**event, "eventId": 7}}),
        compact({"metadata": {**event, "eventId": ""}}), compact(json.dumps([1])), compact("not json"),
        compact("[" * 100_000), compact('{"a":' * 5000),
    ])
    return bill_probe(body, bill_sign(body, ctx.target.bill_key))


# Bodies: too big, not JSON, odd JSON ------------------------------------------------------------------


def oversized(ctx: Context) -> bytes:
    return b'{"Content":"' + b"A" * (ctx.target.max_body_bytes + ctx.rng.randrange(1, 64 * 1024)) + b'"}'


@category("body over the limit, declared", 413)
def _(ctx: Context) -> Probe:
    return either(ctx, oversized(ctx))


@category("body over the limit, declared but never sent", 413)
def _(ctx: Context) -> Probe:
    endpoint, _body, headers = some_near_miss(ctx)
    size = ctx.target.max_body_bytes + ctx.rng.choice([1, 10**6, 10**12])
    expect = {"Expect": "100-continue"} if ctx.rng.random() < 0.5 else {}
    return raw_request(ctx, "POST", ctx.target.path(endpoint), {**headers, **expect, "Content-Type": JSON,
                                                                "Content-Length": str(size)}, b"")


@category("body over the limit, streamed in chunks", 413)
def _(ctx: Context) -> Probe:
    chunk, count = b"[" * 8192, ctx.target.max_body_bytes // 8192 + ctx.rng.randrange(2, 8)
    probe = either(ctx, b"")
    probe.body = lambda: (chunk for _ in range(count))
    return probe


@category("malformed JSON", 400)
def _(ctx: Context) -> Probe:
    return either(ctx, ctx.rng.choice([b'{"metadata": ', b"{'a': 1}", b"{a:1}", b"[1,]", b'{"a":1,}', b"}", b"nul",
                                       b'{"Content":{},"HashCode":"A"', b'"unterminated', b"--", b"<xml/>",
                                       b"undefined", b'{"a" 1}']))


@category("truncated JSON", 400)
def _(ctx: Context) -> Probe:
    _endpoint, body, _headers = some_near_miss(ctx)
    return either(ctx, body[:ctx.rng.randrange(1, len(body) - 1)])


@category("deeply nested arrays and objects", 400)
def _(ctx: Context) -> Probe:
    depth = ctx.rng.choice([10_000, 100_000, (ctx.target.max_body_bytes - 100) // 2])
    return either(ctx, ctx.rng.choice([b"[" * depth, b"[" * depth + b"]" * depth, b'{"a":' * (depth // 5) + b"1"
                                       + b"}" * (depth // 5), b'{"Content":' + b"[" * depth + b"]" * depth
                                       + b',"HashCode":"' + b"A" * 64 + b'"}']))


@category("nested, but within the parser's depth", 401)
def _(ctx: Context) -> Probe:
    return either(ctx, b"[" * 500 + b"]" * 500)


@category("huge numbers", 400, 401)
def _(ctx: Context) -> Probe:
    digits = b"9" * ctx.rng.choice([4301, 50_000, 200_000])
    return either(ctx, ctx.rng.choice([digits, b"-" + digits, b'{"Content":' + digits + b',"HashCode":"A"}',
                                       b"1e999999", b'{"Content":1e400,"HashCode":"' + b"0" * 64 + b'"}',
                                       b"[" + b"1.7976931348623157e308," * 1000 + b"0]"]))


@category("invalid UTF-8", 400)
def _(ctx: Context) -> Probe:
    return either(ctx, ctx.rng.choice([b'{"Content":"\xff\xfe","HashCode":"A"}', b'{"a":"\xc0\xaf"}',
                                       b'{"\x80":1}', b'"\xf8\x88\x80\x80\x80"', b'{"a":"\xe2\x82"}']))


@category("lone surrogates and byte-order marks", 401)
def _(ctx: Context) -> Probe:
    # Python's json decodes bytes with surrogatepass and honours BOMs, so these parse; the signature refuses them.
    return either(ctx, ctx.rng.choice([b'{"a":"\xed\xa0\x80"}', b'{"a":"\\ud800"}', b"\xef\xbb\xbf{}",
                                       b"\xfe\xff\x00{\x00}", "[1]".encode("utf-32")]))


@category("NUL bytes", 400, 401)
def _(ctx: Context) -> Probe:
    return either(ctx, ctx.rng.choice([b'{"a":"\x00"}', b"\x00" * 64, b"{}\x00", b"\x00{}",
                                       b'{"Content":{"Key":"a\\u0000b"},"HashCode":"' + b"0" * 64 + b'"}']))


@category("gzip body (Content-Encoding ignored)", 400)
def _(ctx: Context) -> Probe:
    endpoint, body, headers = some_near_miss(ctx)
    return Probe(endpoint=endpoint, body=gzip.compress(body),
                 headers={**headers, "Content-Type": JSON, "Content-Encoding": "gzip"})


@category("UTF-16 body", 401)
def _(ctx: Context) -> Probe:
    endpoint, body, headers = some_near_miss(ctx)
    return Probe(endpoint=endpoint, body=body.decode().encode("utf-16"),
                 headers={**headers, "Content-Type": "application/json; charset=utf-16"})


@category("random bytes", 400, 401)
def _(ctx: Context) -> Probe:
    return either(ctx, ctx.rng.randbytes(ctx.rng.randrange(1, 4096)))


# Headers, methods, paths ------------------------------------------------------------------------------


@category("wrong Content-Type", 415)
def _(ctx: Context) -> Probe:
    endpoint, body, headers = some_near_miss(ctx)
    content_type = ctx.rng.choice(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                   "application/xml", "application/jsonp", "json", "application/ json", "*/*",
                                   "application/json-seq", "application/problem+json", "text/html; x=application/json"])
    return Probe(endpoint=endpoint, body=body, headers={**headers, "Content-Type": content_type})


@category("missing Content-Type", 415)
def _(ctx: Context) -> Probe:
    endpoint, body, headers = some_near_miss(ctx)
    return Probe(endpoint=endpoint, body=body, headers=headers)


@category("wrong method", 405)
def _(ctx: Context) -> Probe:
    endpoint = ctx.rng.choice(["exact", "bill", "health"])
    methods = ["POST", "PUT", "DELETE", "PATCH"] if endpoint == "health" else \
        ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
    _endpoint, body, headers = some_near_miss(ctx)
    return Probe(method=ctx.rng.choice(methods), endpoint=endpoint, body=body,
                 headers={**headers, "Content-Type": JSON})


@category("unknown path", 307, 401, 404)
def _(ctx: Context) -> Probe:
    _endpoint, body, headers = some_near_miss(ctx)
    prefix = ctx.target.prefix
    path = ctx.rng.choice(["/", prefix, f"{prefix}/other", f"{prefix}/exact/x", prefix.upper() + "/exact",
                           f"{prefix}/%00", f"{prefix}/exact%2Fx", f"{prefix}/exact/", f"{prefix}//bill",
                           f"{prefix}/bill?x=1", f"{prefix}/" + "a" * 20_000, "/_sandbox/clock", "/.env"])
    return Probe(endpoint=path, body=body, headers={**headers, "Content-Type": JSON})


@category("oversized headers", 400, 401, 431)
def _(ctx: Context) -> Probe:
    endpoint, body, headers = some_near_miss(ctx)
    choice = ctx.rng.randrange(3)
    if choice == 0:
        extra = {"X-Padding": "a" * ctx.rng.choice([64 * 1024, 1024 * 1024])}
    elif choice == 1:
        extra = {f"X-H{i}": "v" * 40 for i in range(2000)}
    else:
        extra = {"x-bill-sha-signature": "A" * 100_000}
    return Probe(endpoint=endpoint, body=body, headers={**headers, "Content-Type": JSON, **extra})


def raw_request(ctx: Context, method: str, path: str, headers: dict[str, str], body: bytes,
                *, head: bytes | None = None) -> Probe:
    return Probe(raw=http_request(ctx, method, path, headers, body, head=head))


def http_request(ctx: Context, method: str, path: str, headers: dict[str, str], body: bytes,
                 *, head: bytes | None = None, close: bool = True) -> bytes:
    """A hand-written HTTP/1.1 request; ``head`` replaces the request line."""
    host, port = ctx.target.host_port
    lines = [head or f"{method} {path} HTTP/1.1".encode(), f"Host: {host}:{port}".encode()]
    lines += [b"Connection: close"] if close else []
    lines += [f"{name}: {value}".encode("latin-1") for name, value in headers.items()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@category("garbage headers and request lines", 400, "closed")
def _(ctx: Context) -> Probe:
    endpoint, body, headers = some_near_miss(ctx)
    path, length = ctx.target.path(endpoint), str(len(body))
    base = {**headers, "Content-Type": JSON}
    garbage = ctx.rng.choice([
        {"Bad Header": "x"}, {"X-Nul": "a\x00b"}, {"X-Bell": "\x07"}, {"Ümlaut": "1"}, {"": "empty name"},
        {"Content-Length": "abc"}, {"Content-Length": "-1"}, {"Content-Length": "1e3"}, {"Content-Length": "²"},
        {"Content-Length": "9" * 40}, {"Content-Length": f"{length}, {length}"}, {"Transfer-Encoding": "gzip"},
        {"Transfer-Encoding": "chunked", "Content-Length": length}, {"Content-Type": "text/plain\r\n\tjson"},
        {"X-Fold": "a\r\n b"},
    ])
    if "Content-Length" not in garbage:
        garbage = {"Content-Length": length, **garbage}
    head = ctx.rng.choice([None, None, b"FOO / HTTP/1.1", b"POST " + path.encode() + b" HTTP/9.9",
                           b"POST " + path.encode(), b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                           b"POST http://evil.example" + path.encode() + b" HTTP/1.1", b"GET /\x00 HTTP/1.1"])
    return raw_request(ctx, "POST", path, {**base, **garbage}, body, head=head)


@category("duplicate headers", 401, 415)
def _(ctx: Context) -> Probe:
    endpoint, body, headers = some_near_miss(ctx)
    doubled = {"Content-Type": JSON, "content-type": "text/plain", **headers,
               "X-Bill-Sha-Signature": bill_sign(body, ctx.wrong_secret())}
    if ctx.rng.random() < 0.5:
        doubled = {"Content-Type": "text/plain", "content-type": JSON, **headers}
    return raw_request(ctx, "POST", ctx.target.path(endpoint), {**doubled, "Content-Length": str(len(body))}, body)


@category("pipelined requests, sender hangs up after the first answer", 401)
def _(ctx: Context) -> Probe:
    pipelined = []
    for last in (False, False, True):
        endpoint, body, headers = some_near_miss(ctx)
        pipelined.append(http_request(ctx, "POST", ctx.target.path(endpoint), {
            **headers, "Content-Type": JSON, "Content-Length": str(len(body))}, body, close=last))
    return Probe(raw=b"".join(pipelined))


@category("body cut short, then the sender hangs up", "closed")
def _(ctx: Context) -> Probe:
    endpoint, body, headers = some_near_miss(ctx)
    probe = raw_request(ctx, "POST", ctx.target.path(endpoint),
                        {**headers, "Content-Type": JSON, "Content-Length": str(len(body) + 100)}, body)
    probe.half_close = True
    return probe


@category("random bytes instead of HTTP", 400, "closed")
def _(ctx: Context) -> Probe:
    return Probe(raw=ctx.rng.randbytes(ctx.rng.randrange(1, 2048)) + b"\r\n\r\n")


# --- sending -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    category: str
    status: Status
    seconds: float
    detail: str = ""


def send(target: Target, sender: Sender, probe: Probe) -> tuple[Status, str]:
    ip = sender.next_ip()
    if probe.raw is not None:
        return send_raw(target, ip, probe), ""
    path = probe.endpoint if probe.endpoint.startswith("/") else target.path(probe.endpoint)
    body = probe.body() if callable(probe.body) else probe.body
    try:
        response = sender.session().request(probe.method, target.url + path, data=body, headers=probe.headers,
                                            timeout=TIMEOUT, allow_redirects=False)
    except requests.Timeout:
        sender.rotate()
        return "timeout", ""
    except requests.RequestException as exc:
        sender.rotate()
        return "error", type(exc).__name__
    if response.status_code >= 500:
        sender.rotate()  # the server may close the connection after an error; don't count that twice
    shown = is_accepted(response.status_code) or is_server_error(response.status_code)
    return response.status_code, response.text[:200] if shown else ""


def send_raw(target: Target, ip: str, probe: Probe) -> Status:
    try:
        with socket.create_connection(target.host_port, timeout=TIMEOUT[1], source_address=(ip, 0)) as sock:
            sock.sendall(probe.raw)
            if probe.half_close:
                sock.shutdown(socket.SHUT_WR)
            return read_status(sock)
    except TimeoutError:
        return "timeout"
    except OSError:
        return "error"


def read_status(sock: socket.socket) -> Status:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    match = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    if match:
        return int(match.group(1))
    return "closed" if not data else "garbage"


def schedule(count: int, seed: int) -> list[str]:
    names = list(CATEGORIES)
    plan = [names[i % len(names)] for i in range(count)]
    random.Random(seed).shuffle(plan)
    return plan


def fuzz(target: Target, plan: list[str], clients: int, seed: int, per_sender: int,
         addresses: Addresses) -> tuple[list[Result], float]:
    results: list[Result] = []
    lock, position = threading.Lock(), iter(range(len(plan)))

    def worker() -> None:
        sender = Sender(addresses, per_sender)
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                break
            name = plan[index]
            probe = CATEGORIES[name][0](Context(target, random.Random(seed * 1_000_003 + index)))
            started = time.perf_counter()
            status, detail = send(target, sender, probe)
            result = Result(name, status, time.perf_counter() - started, detail)
            with lock:
                results.append(result)
        sender.close()

    threads = [threading.Thread(target=worker, name=f"fuzz-client-{i}") for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


# --- after the fuzz ------------------------------------------------------------------------------------


def flood_from_one_sender(target: Target, count: int, addresses: Addresses) -> tuple[Counter[Status], Sender]:
    """Bad deliveries from one address, one after another: the receiver should start refusing with 429.

    Returns the statuses and the sender, still on the flooded address.
    """
    sender = Sender(addresses, budget=count + 2)
    ctx = Context(target, random.Random(0))
    statuses = Counter(send(target, sender, exact_probe(wrongly_signed_exact(ctx)))[0] for _ in range(count))
    return statuses, sender


def valid_deliveries(target: Target) -> dict[str, Probe]:
    """One Exact and one BILL event, each signed as its sender signs it."""
    ctx = Context(target, random.Random())
    content = compact(exact_content(ctx))
    bill_body = compact(bill_payload(ctx))
    return {"valid Exact event": exact_probe(envelope(content, exact_sign(content, target.exact_secret))),
            "valid BILL event": bill_probe(bill_body, bill_sign(bill_body, target.bill_key))}


def outcome(target: Target, sender: Sender, probe: Probe, wanted: str) -> str:
    status, text = send(target, sender, probe)
    return "yes" if status == 200 and wanted in text else f"NO ({status} {text[:80]})"


def signed_after_flood(target: Target, sender: Sender) -> dict[str, str]:
    """Signed deliveries from the address the flood got blocked: the block is for forgers only."""
    try:
        return {name: outcome(target, sender, probe, '"status":"accepted"')
                for name, probe in valid_deliveries(target).items()}
    finally:
        sender.close()


def still_answering(target: Target, addresses: Addresses) -> dict[str, str]:
    """Health, one valid Exact event and one valid BILL event, each from a fresh address."""
    checks = {"health": Probe(method="GET", endpoint="health", headers={}), **valid_deliveries(target)}
    outcomes = {}
    for name, probe in checks.items():
        sender = Sender(addresses, budget=1)
        outcomes[name] = outcome(target, sender, probe, '"status":"ok"' if name == "health" else
                                 '"status":"accepted"')
        sender.close()
    return outcomes


@contextlib.contextmanager
def stalled_senders(target: Target, addresses: Addresses, count: int, seconds: float) -> Iterator[int]:
    """Connections that stop mid-headers or mid-body and stay open; yields how many the receiver closed."""
    host, port = target.host_port
    head = f"POST {target.path('bill')} HTTP/1.1\r\nHost: {host}:{port}\r\n".encode()
    partial = [head + b"Content-Ty", head + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"]
    sockets = []
    try:
        for i in range(count):
            sock = socket.create_connection(target.host_port, timeout=5, source_address=(addresses.take(), 0))
            sockets.append(sock)
            sock.sendall(partial[i % 2])
        time.sleep(seconds)
        yield sum(closed_by_peer(sock) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def closed_by_peer(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        sock.recv(1)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return True


def log_figures(target: Target) -> tuple[int, int, list[str]]:
    """Refusal warnings and unhandled exceptions in the receiver's log, with the exceptions' last lines."""
    if target.log_path is None or not target.log_path.exists():
        return 0, 0, []
    lines = target.log_path.read_text(errors="replace").splitlines()
    exceptions = [i for i, line in enumerate(lines) if "Exception in ASGI application" in line]
    kinds = Counter()
    for start in exceptions:
        following = [line for line in lines[start + 1:start + 200] if line and not line.startswith((" ", "Traceback"))]
        kinds[re.sub(r"0x[0-9a-f]+", "0x...", following[0][:160]) if following else "?"] += 1
    return sum("refused " in line for line in lines), len(exceptions), [f"{n} x {k}" for k, n in kinds.items()]


# --- report --------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))] if sorted_values else 0.0


def status_key(status: Status) -> tuple[int, str]:
    return (status, "") if isinstance(status, int) else (1000, status)


def describe(statuses: Counter[Status]) -> str:
    return ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items(), key=lambda item: status_key(item[0])))


def is_accepted(status: Status) -> bool:
    return isinstance(status, int) and 200 <= status < 300


def is_server_error(status: Status) -> bool:
    return isinstance(status, int) and status >= 500


def print_results(results: list[Result], seconds: float, clients: int, addresses: int) -> None:
    latencies = sorted(r.seconds for r in results)
    statuses = Counter(r.status for r in results)
    print(f"sent {len(results)} adversarial requests in {len(CATEGORIES)} categories from {clients} client threads"
          f" and {addresses} source addresses in {seconds:.1f} s: {len(results) / seconds:.0f} requests/s")
    print(f"latency: p50 {percentile(latencies, 0.50) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms,"
          f" max {latencies[-1] * 1000:.0f} ms")
    print(f"per status: {describe(statuses)}")
    refused = {s: n for s, n in statuses.items() if isinstance(s, int) and s >= 400}
    print(f"refused: {sum(refused.values())} ({describe(Counter(refused))}); 429 (sender blocked or too fast): "
          f"{statuses.get(429, 0)}")
    print(f"connection errors: {statuses.get('error', 0)}, timeouts (hangs): {statuses.get('timeout', 0)}, "
          f"closed without an answer: {statuses.get('closed', 0)}, garbage answers: {statuses.get('garbage', 0)}")
    print("per category (count, statuses, p99; '!' marks statuses a strict receiver would not give):")
    by_category: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_category[result.category].append(result)
    for name in CATEGORIES:
        rows = by_category.get(name, [])
        counts = Counter(r.status for r in rows)
        expected = CATEGORIES[name][1] | {429}
        marked = ", ".join(f"{'!' if s not in expected else ''}{s}: {n}"
                           for s, n in sorted(counts.items(), key=lambda item: status_key(item[0])))
        p99 = percentile(sorted(r.seconds for r in rows), 0.99) * 1000
        print(f"  {name:58} {len(rows):5}  {marked:38} p99 {p99:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-sender", type=int, default=10,
                        help="requests from one source address before the next (the receiver blocks at 20 refusals)")
    parser.add_argument("--flood", type=int, default=40, help="bad requests from one address at the end")
    parser.add_argument("--stalled", type=int, default=20, help="connections left half-sent near the end")
    parser.add_argument("--stall-seconds", type=float, default=10.0)
    parser.add_argument("--url", help="fuzz this running receiver (on a 127.x.y.z address) instead of starting one")
    parser.add_argument("--state-url", help="with --url: its state database (default: EXACT_BILL_STATE_URL)")
    parser.add_argument("--prefix", default="/webhooks")
    parser.add_argument("--max-body-bytes", type=int, default=256 * 1024)
    args = parser.parse_args()
    if args.url:
        if not re.match(r"\Ahttp://127\.\d+\.\d+\.\d+:\d+/?\Z", args.url):
            parser.error("--url must be http://127.x.y.z:PORT: requests come from other loopback addresses")
        target = running_receiver(args.url, args.state_url, args.prefix, args.max_body_bytes)
        wait_until_healthy(target)
        sys.exit(run(target, args, "running receiver"))
    with local_receiver(args.max_body_bytes) as target:
        code = run(target, args, "separate process, fresh state database")
    sys.exit(code)


def run(target: Target, args: argparse.Namespace, origin: str) -> int:
    print(f"receiver: {target.url}{target.prefix} ({origin})")
    addresses = Addresses()
    before = inbox_count(target)
    results, seconds = fuzz(target, schedule(args.requests, args.seed), args.clients, args.seed, args.per_sender,
                            addresses)
    print_results(results, seconds, args.clients, addresses.handed_out)
    after_fuzz = inbox_count(target)
    accepted = [r for r in results if is_accepted(r.status)]
    server_errors = [r for r in results if is_server_error(r.status)]
    hangs = [r for r in results if r.status == "timeout"]
    for result in (accepted + server_errors)[:10]:
        print(f"  !! {result.category}: {result.status} {result.detail}")
    print(f"accepted (2xx): {len(accepted)}; events stored by the fuzz: {after_fuzz - before}; "
          f"5xx: {len(server_errors)}")
    flood, flooded = flood_from_one_sender(target, args.flood, addresses)
    print(f"{args.flood} bad requests from one address: {describe(flood)}")
    after_flood = signed_after_flood(target, flooded)
    signed_in = all(v == "yes" for v in after_flood.values())
    print("signed deliveries from that address afterwards accepted: " + ("yes" if signed_in else "NO") + " ("
          + "; ".join(f"{name}: {v}" for name, v in after_flood.items()) + ")")
    with stalled_senders(target, addresses, args.stalled, args.stall_seconds) as closed:
        print(f"{args.stalled} senders stalled mid-headers or mid-body: the receiver closed {closed} of them within"
              f" {args.stall_seconds:.0f} s")
        outcome = still_answering(target, addresses)
    answering = all(v == "yes" for v in outcome.values())
    print("still answering: " + ("yes" if answering else "NO") + " ("
          + "; ".join(f"{name}: {v}" for name, v in outcome.items()) + ")")
    after = inbox_count(target)
    print(f"inbox count: {before} before, {after_fuzz} after the fuzz, {after} at the end (4 valid events sent)")
    warnings, unhandled, kinds = log_figures(target)
    if target.log_path is not None:
        print(f"receiver log: {warnings} refusal warnings, {unhandled} unhandled exceptions")
        for kind in kinds:
            print(f"  !! {kind}")
    failures = [text for failed, text in [
        (bool(accepted) or after_fuzz != before, "an adversarial request was accepted"),
        (bool(server_errors) or any(is_server_error(s) for s in flood), "a request got a 5xx"),
        (bool(hangs), "a request hung"),
        (not signed_in, "a signed delivery was refused after a forged burst from its address"),
        (not answering or after - before != 4, "the receiver stopped answering or storing valid events"),
    ] if failed]
    # Reported, not failed on: no client saw these, and both come from how uvicorn serves the app.
    warnings_ = [text for failed, text in [
        (unhandled > 0, "unhandled exceptions in the receiver log, which no client saw"),
        (args.stalled > 0 and closed == 0, "stalled connections stay open (uvicorn has no request read timeout)"),
    ] if failed]
    verdict = "FAIL: " + "; ".join(failures) if failures else "PASS"
    print("result: " + verdict + ("" if not warnings_ else " (WARNING: " + "; ".join(warnings_) + ")"))
    return 1 if failures else 0

if __name__ == "__main__":
    main()
