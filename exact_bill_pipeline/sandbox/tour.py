"""A short walk through both sandboxes over plain HTTP, as the demo shows it before the pipeline runs."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlparse

import requests

from exact_bill_pipeline.sandbox.server import RunningSandboxes

TIMEOUT = (5, 30)


def run_tour(running: RunningSandboxes) -> Iterator[str]:
    """Consents in Exact, reads a few collections from both sandboxes, and says what it saw."""
    exact = running.settings.exact
    session = requests.Session()
    auth = session.get(
        f"{running.exact_url}/api/oauth2/auth",
        params={"client_id": exact.client_id, "redirect_uri": exact.redirect_uri, "response_type": "code",
                "state": "demo"},
        allow_redirects=False, timeout=TIMEOUT,
    )
    code = parse_qs(urlparse(auth.headers["Location"]).query)["code"][0]
    tokens = session.post(
        f"{running.exact_url}/api/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": exact.redirect_uri,
              "client_id": exact.client_id, "client_secret": exact.client_secret},
        timeout=TIMEOUT,
    ).json()
    yield f"Exact Online: consent given, access token valid for {tokens['expires_in']} s."
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}
    me = session.get(f"{running.exact_url}/api/v1/current/Me", headers=headers, timeout=TIMEOUT).json()
    division = me["d"]["results"][0]["CurrentDivision"]
    yield f"Exact Online: signed in as {me['d']['results'][0]['FullName']}, division {division}."
    gl_count = _count_exact(session, f"{running.exact_url}/api/v1/{division}/sync/Financial/GLAccounts?"
                            + urlencode({"$select": "ID,Code,Description", "$filter": "Timestamp gt 1L"}), headers)
    yield f"Exact Online: {gl_count} GL accounts."

    bill = running.settings.bill
    login = session.post(
        f"{running.bill_api_url}/v3/login",
        json={"username": bill.username, "password": bill.password, "organizationId": bill.organization_id,
              "devKey": bill.dev_key},
        timeout=TIMEOUT,
    ).json()
    bill_headers = {"devKey": bill.dev_key, "sessionId": login["sessionId"]}
    yield "BILL: signed in."
    for name, path in (("vendors", "vendors"), ("bills", "bills"), ("payments", "payments"),
                       ("chart-of-accounts entries", "classifications/chart-of-accounts")):
        yield f"BILL: {_count_bill(session, f'{running.bill_api_url}/v3/{path}', bill_headers)} {name}."
    session.post(f"{running.bill_api_url}/v3/logout", headers=bill_headers, timeout=TIMEOUT)


def _count_exact(session: requests.Session, url: str | None, headers: dict[str, str]) -> int:
    count = 0
    while url:
        page = session.get(url, headers=headers, timeout=TIMEOUT)
        page.raise_for_status()
        data = page.json()["d"]
        count += len(data["results"])
        url = data.get("__next")
    return count


def _count_bill(session: requests.Session, url: str, headers: dict[str, str]) -> int:
    count, token = 0, None
    while True:
        params = {"max": 100, **({"page": token} if token else {})}
        page = session.get(url, params=params, headers=headers, timeout=TIMEOUT)
        page.raise_for_status()
        data = page.json()
        count += len(data["results"])
        token = data.get("nextPage")
        if not token:
            return count
