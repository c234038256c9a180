"""Fresh processes for the redaction tests: an entry point loads the stored secrets, then they are logged."""

from __future__ import annotations

import json
import logging
import sys

import dagster as dg
import requests

from exact_bill_pipeline.clients.bill.resource import BillClient
from exact_bill_pipeline.clients.exact_online.resource import ExactOnlineClient

CHILD_LOGGERS = ("exact_bill_pipeline.clients.exact_online.auth.child", "some_library.deep.child")


def log_everywhere(name: str, value: str, exact_url: str) -> None:
    """The secret through child loggers, and through urllib3 (it logs the request line, query included)."""
    for logger in CHILD_LOGGERS:
        logging.getLogger(logger).warning("the %s is %s", name, value)
    requests.get(f"{exact_url}/api/v1/current/Me", params={"x": value}, timeout=10)


def after_the_command_line(secrets: dict[str, str], exact_url: str) -> None:
    from exact_bill_pipeline.cli import main

    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)  # a user who wants to see everything
    main(["webhooks", "list"], standalone_mode=False)  # loads the Exact tokens, the BILL session and keys
    for name, value in secrets.items():
        log_everywhere(name, value, exact_url)


def in_a_dagster_run(secrets: dict[str, str], exact_url: str) -> None:
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    from exact_bill_pipeline.definitions import defs  # what Dagster's processes import

    @dg.asset
    def leaky(context, exact: ExactOnlineClient, bill: BillClient) -> None:
        exact.api().me()  # the run loads the Exact tokens from the vault
        bill.api().vendors()  # and the BILL session
        for name, value in secrets.items():
            context.log.info(f"the {name} is {value}")
            log_everywhere(name, value, exact_url)

    instance = dg.DagsterInstance.ephemeral()
    resources = {name: defs.resources[name] for name in ("exact", "bill")}
    result = dg.materialize([leaky], resources=resources, instance=instance)
    for entry in instance.all_logs(result.run_id):
        print(entry.user_message)  # what the Dagster UI shows


if __name__ == "__main__":
    given = json.loads(sys.stdin.read())
    {"cli": after_the_command_line, "dagster": in_a_dagster_run}[sys.argv[1]](given["secrets"], given["exact_url"])
