"""`smm keys`: create, list, grant and revoke API keys."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from app.auth.roles import Role
from app.cli.console import out
from app.cli.database import database
from app.cli.options import organization_ids

cli = typer.Typer(help="Create, list, grant and revoke API keys.", no_args_is_help=True)


@cli.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="admin, consultant or partner.")],
    org: Annotated[
        list[str] | None, typer.Option("--org", help="Organization id to grant (repeat).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A label, e.g. the partner's name.")] = None,
) -> None:
    """Create an API key and print it once, alone on the last line."""
    from app.auth.service import create_key
    from app.config import get_settings

    granted = organization_ids(org or [])
    with database(get_settings(), refusals=(ValueError,)) as db:
        issued = create_key(db.session, role, granted, name)
        key_id, prefix = issued.key.id, issued.key.prefix
        db.audit("api_key.create", "api_key", key_id, role=role.value)
    grants = f", organizations: {', '.join(map(str, granted))}" if granted else ""
    out.print(f"Created {role.value} key {prefix} (id {key_id}){grants}. It is shown only once:")
    sys.stdout.flush()
    print(issued.token)


@cli.command("list")
def keys_list() -> None:
    """List keys: prefix, role, name, grants, created, last used, revoked."""
    from rich.table import Table

    from app.auth.service import list_keys
    from app.config import get_settings

    table = Table()
    for column in (
        "prefix",
        "id",
        "role",
        "name",
        "organizations",
        "created",
        "last used",
        "revoked",
    ):
        table.add_column(column)
    with database(get_settings()) as db:
        for key, grants in list_keys(db.session):
            table.add_row(
                key.prefix,
                str(key.id),
                key.role,
                key.name or "",
                "\n".join(map(str, grants)),
                f"{key.created_at:%Y-%m-%d %H:%M}",
                f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never",
                f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
            )
    out.print(table)


@cli.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's prefix, id or token.")]) -> None:
    """Revoke a key; requests with it get 401 from now on."""
    from app.auth.service import revoke_key
    from app.config import get_settings

    with database(get_settings()) as db:
        revoked = revoke_key(db.session, key)
        prefix = revoked.prefix
        db.audit("api_key.revoke", "api_key", revoked.id)
    out.print(f"Revoked key {prefix}.")


@cli.command("grant")
def keys_grant(
    key: Annotated[str, typer.Argument(help="The key's prefix, id or token.")],
    org: Annotated[list[str], typer.Option("--org", help="Organization id to grant (repeat).")],
) -> None:
    """Let a consultant or partner key work on more organizations."""
    from app.auth.service import grant
    from app.config import get_settings

    granted = organization_ids(org)
    with database(get_settings(), refusals=(ValueError,)) as db:
        key_row = grant(db.session, key, granted)
        prefix = key_row.prefix
        for organization_id in granted:
            db.audit("api_key.grant", "api_key", key_row.id, organization_id)
    out.print(f"Key {prefix} may now work on {', '.join(map(str, granted))}.")
