"""`exact-bill auth exact`: consent once in Exact Online and store the token pair, encrypted."""

from __future__ import annotations

import secrets

import click

from exact_bill_pipeline.config import EXACT_SETTINGS, exact_client


@click.group()
def auth() -> None:
    """Connect the pipeline to Exact Online (BILL needs no consent: it logs in with its settings)."""


@auth.command()
@click.option("--redirect-url", default=None,
              help="The URL Exact redirected to after consent (or just its code); asked for when left out.")
def exact(redirect_url: str | None) -> None:
    """Print the consent URL, take the redirect back, and store the tokens encrypted.

    Settings come from the environment: EXACT_BASE_URL, EXACT_CLIENT_ID, EXACT_CLIENT_SECRET,
    EXACT_REDIRECT_URI and EXACT_DIVISION, with EXACT_BILL_VAULT_KEY to encrypt the tokens.
    """
    client = exact_client()
    api = client.api()
    state = secrets.token_urlsafe(16)
    click.echo("1. Open this URL in a browser and give consent:\n")
    click.echo(f"   {api.auth.authorize_url(state)}\n")
    click.echo(f"2. Exact redirects to {client.redirect_uri}?code=...; copy that whole URL.")
    # A redirect pasted at the prompt must come from the URL above; one given as an option came from a
    # consent made elsewhere, whose state this run cannot know.
    expected_state = None
    if redirect_url is None:
        redirect_url = click.prompt("3. Paste it here (or just the code)", hide_input=True)
        expected_state = state
    api.auth.exchange(redirect_url, expected_state=expected_state)
    click.echo("Consent stored, encrypted, in the state database.")
    me = api.me()
    click.echo(f"Signed in as {me.full_name or me.user_name}; Exact's current division is {me.current_division}"
               f" ({me.division_customer_name or 'no name'}).")
    if me.current_division != client.division:
        click.echo(f"The pipeline is pinned to division {client.division} ({EXACT_SETTINGS['division'].env}); "
                   f"to use the current division instead, set {EXACT_SETTINGS['division'].env}={me.current_division}.")
    else:
        click.echo(f"The pipeline is pinned to division {client.division}, the current one.")
