"""`exact-bill mapping`: see the mapping, and override it where names or numbers differ."""

from __future__ import annotations

import csv
from pathlib import Path

import click

from exact_bill_pipeline.cli.context import Operator
from exact_bill_pipeline.domain.mapping import Override
from exact_bill_pipeline.domain.vat import NO_VAT, VatRule
from exact_bill_pipeline.domain.vendors import VendorMatch
from exact_bill_pipeline.services.mapping import sync_mapping
from exact_bill_pipeline.state import mappings
from exact_bill_pipeline.state.failures import FailureQueue

KINDS = click.Choice(["account", "department"])


@click.group()
def mapping() -> None:
    """Which BILL account, department and vendor means which Exact GL account, cost center and supplier."""


@mapping.command("list")
@click.option("--unmapped", is_flag=True, help="Only what maps to nothing (or to something Exact blocked).")
def list_rows(unmapped: bool) -> None:
    """Show the mapping as last computed, and the overrides."""
    store = Operator().store
    with store.transaction() as conn:
        rows = sorted(mappings.stored_mapping(conn).values(), key=lambda r: (r.kind, r.bill_label))
        overrides = mappings.override_rows(conn)
        vat_rules = mappings.vat_rule_rows(conn)
    for row in rows:
        if unmapped and row.status == "mapped":
            continue
        click.echo(f"{row.kind:10} {row.bill_label[:45]:45} -> {row.exact_code or '-':8} {row.status:9} "
                   f"{row.source or ''}")
    for override in overrides:
        click.echo(f"override   {override['kind']} {override['bill_key']} -> {override['exact_code']} "
                   f"(by {override['created_by']}{': ' + override['note'] if override['note'] else ''})")
    for rule in vat_rules:
        click.echo(f"vat        GL {rule['gl_code']} -> {rule['vat_code']} "
                   f"({'includes' if rule['amounts_include_vat'] else 'excludes'} VAT; by {rule['created_by']}"
                   f"{': ' + rule['note'] if rule['note'] else ''})")


@mapping.command()
@click.argument("kind", type=KINDS)
@click.argument("bill_key")
@click.argument("exact_code")
@click.option("--note", default=None, help="Why, for the audit log.")
@click.option("--no-apply", is_flag=True, help="Only record it; the next reference sync applies it.")
def override(kind: str, bill_key: str, exact_code: str, note: str | None, no_apply: bool) -> None:
    """Map a BILL account (ID or number) or department (ID or short name) to an Exact code.

    Applied at once (the mapping is recomputed against BILL), so `exact-bill failures replay` can follow.
    """
    operator = Operator()
    with operator.store.transaction() as conn:
        mappings.set_override(conn, Override(kind, bill_key, exact_code), actor=operator.actor, note=note)  # type: ignore[arg-type]
    click.echo(f"Override stored: BILL {kind} {bill_key} -> Exact {exact_code}.")
    _apply(operator, no_apply)


@mapping.command()
@click.argument("gl_code")
@click.option("--code", "vat_code", default=None, help="The Exact VAT code to send for this GL account.")
@click.option("--no-vat", is_flag=True, help="No VAT applies (a no-VAT code is sent where the account has one).")
@click.option("--amounts-exclude-vat", is_flag=True, help="BILL's amounts on this account leave the VAT out.")
@click.option("--remove", is_flag=True, help="Forget this account's rule: the default applies again.")
@click.option("--note", default=None, help="Why, for the audit log.")
def vat(gl_code: str, vat_code: str | None, no_vat: bool, amounts_exclude_vat: bool, remove: bool,
        note: str | None) -> None:
    """Say which VAT applies to an Exact GL account (`exact-bill mapping list` shows the rules)."""
    operator = Operator()
    with operator.store.transaction() as conn:
        if remove:
            if not mappings.remove_vat_rule(conn, gl_code, actor=operator.actor):
                raise click.ClickException(f"there is no VAT rule for GL account {gl_code}")
            click.echo(f"VAT rule of GL account {gl_code} removed; the default applies.")
            return
        if no_vat == (vat_code is not None):
            raise click.UsageError("give either --code CODE or --no-vat")
        rule = VatRule(NO_VAT if no_vat else vat_code.strip(), not amounts_exclude_vat)  # type: ignore[union-attr]
        mappings.set_vat_rule(conn, gl_code.strip(), rule, actor=operator.actor, note=note)
    click.echo(f"GL account {gl_code}: VAT {rule.code}, BILL's amounts "
               f"{'include' if rule.amounts_include_vat else 'exclude'} it. Replay waiting bills to apply it.")


@mapping.command("remove-override")
@click.argument("kind", type=KINDS)
@click.argument("bill_key")
def remove_override(kind: str, bill_key: str) -> None:
    """Forget an override."""
    operator = Operator()
    with operator.store.transaction() as conn:
        removed = mappings.remove_override(conn, kind, bill_key, actor=operator.actor)
    if not removed:
        raise click.ClickException(f"there is no override for BILL {kind} {bill_key}")
    click.echo(f"Override for BILL {kind} {bill_key} removed.")


@mapping.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-apply", is_flag=True, help="Only record them; the next reference sync applies them.")
def import_overrides(path: Path, no_apply: bool) -> None:
    """Load overrides from a CSV with the columns kind, bill_key, exact_code and (optional) note."""
    operator = Operator()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"kind", "bill_key", "exact_code"} - set(reader.fieldnames or [])
        if missing:
            raise click.ClickException(f"{path} lacks the column(s) {', '.join(sorted(missing))}")
        rows = list(reader)
    problems = [f"line {n + 2}: kind must be account or department, not {row['kind']!r}"
                for n, row in enumerate(rows) if row["kind"] not in {"account", "department"}]
    problems += [f"line {n + 2}: bill_key and exact_code are required" for n, row in enumerate(rows)
                 if not (row["bill_key"] or "").strip() or not (row["exact_code"] or "").strip()]
    if problems:
        raise click.ClickException("nothing was imported:\n  " + "\n  ".join(problems))
    with operator.store.transaction() as conn:
        for row in rows:
            mappings.set_override(conn, Override(row["kind"], row["bill_key"].strip(), row["exact_code"].strip()),  # type: ignore[arg-type]
                                  actor=operator.actor, note=(row.get("note") or None))
    click.echo(f"Imported {len(rows)} override(s) from {path}.")
    _apply(operator, no_apply)


@mapping.command()
@click.argument("vendor_id")
@click.argument("supplier_id")
def vendor(vendor_id: str, supplier_id: str) -> None:
    """Decide which Exact supplier a BILL vendor is (for an ambiguous or blocked match)."""
    operator = Operator()
    with operator.store.transaction() as conn:
        known = mappings.vendor_match_rows(conn).get(vendor_id)
        if known is None:
            raise click.ClickException(f"BILL vendor {vendor_id} is unknown here; run the reference sync first")
        mappings.save_vendor_match(conn, VendorMatch(vendor_id, "matched", "override", supplier_id),
                                   known["vendor_name"], actor=operator.actor)
    FailureQueue(operator.store).resolve("vendor", vendor_id, actor=operator.actor, note=f"supplier {supplier_id}")
    click.echo(f"BILL vendor {known['vendor_name']} is Exact supplier {supplier_id}. "
               f"`exact-bill failures replay --all` posts its waiting bills.")


def _apply(operator: Operator, no_apply: bool) -> None:
    if no_apply:
        return
    report = sync_mapping(operator.bill, operator.store, actor=operator.actor)
    click.echo(f"Mapping recomputed: {report.mapped} mapped, {len(report.unmapped)} unmapped, "
               f"{len(report.changed)} row(s) changed.")
