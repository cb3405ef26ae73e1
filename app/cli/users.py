"""`smm users`: console accounts. The first admin is created here."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from app.auth.roles import Role
from app.cli.console import fail, out
from app.cli.database import database
from app.cli.options import organization_ids

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.accounts.models import User

cli = typer.Typer(help="Create, list, disable and reset console users.", no_args_is_help=True)

_STDIN_HELP = "Read the password from standard input (one line) instead of making a random one."


def _changed(user: str, change: Callable[[Session, User], User], action: str) -> str:
    """Apply ``change`` to the user named by email or id, audited as ``action``; their
    address."""
    from app.accounts.service import find_user
    from app.config import get_settings

    with database(get_settings()) as db:
        found = change(db.session, find_user(db.session, user))
        address = found.email
        db.audit(action, "user", found.id)
    return address


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set and whether it was made here (then it is printed once)."""
    from app.accounts.service import new_password

    if not from_stdin:
        return new_password(), True
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        fail("No password on standard input.")
    return line, False


@cli.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The user's email address (they sign in with it).")],
    name: Annotated[str, typer.Option(help="The user's full name.")],
    role: Annotated[Role, typer.Option(help="admin or consultant.")] = Role.CONSULTANT,
    org: Annotated[
        list[str] | None, typer.Option("--org", help="Organization id to grant (repeat).")
    ] = None,
    password_stdin: Annotated[bool, typer.Option(help=_STDIN_HELP)] = False,
    no_password: Annotated[
        bool, typer.Option(help="No password: the user signs in through the identity provider.")
    ] = False,
) -> None:
    """Create a console user; a password made here is printed once, alone on the last line."""
    from app.accounts.service import create_user
    from app.config import get_settings

    granted = organization_ids(org or [])
    password, made = (None, False) if no_password else _password(password_stdin)
    with database(get_settings()) as db:
        user = create_user(
            db.session,
            email=email,
            name=name,
            role=role,
            organization_ids=granted,
            password=password,
        )
        user_id, address = user.id, user.email
        db.audit("user.create", "user", user_id, role=role.value)
    out.print(f"Created {role.value} {address} (id {user_id}).")
    if made:
        out.print("Their password is shown only once; they can change it by a reset:")
        sys.stdout.flush()
        print(password)


@cli.command("list")
def users_list() -> None:
    """List users: email, name, role, organizations, last sign-in, state."""
    from rich.table import Table

    from app.accounts.service import list_accounts
    from app.config import get_settings

    table = Table()
    for column in ("email", "name", "role", "organizations", "last sign-in", "state"):
        table.add_column(column)
    with database(get_settings()) as db:
        for account in list_accounts(db.session):
            user = account.user
            table.add_row(
                user.email,
                user.name,
                account.role.value,
                "all"
                if account.role is Role.ADMIN
                else "\n".join(map(str, account.organization_ids)),
                f"{user.last_sign_in_at:%Y-%m-%d %H:%M}" if user.last_sign_in_at else "never",
                account.state,
            )
    out.print(table)


@cli.command("disable")
def users_disable(
    user: Annotated[str, typer.Argument(help="The user's email or id.")],
) -> None:
    """Stop a user signing in and sign them out everywhere, at once."""
    from app.accounts.service import disable_user

    address = _changed(user, disable_user, "user.disable")
    out.print(f"Disabled {address}; every session they had is ended.")


@cli.command("enable")
def users_enable(
    user: Annotated[str, typer.Argument(help="The user's email or id.")],
) -> None:
    """Let a disabled user sign in again."""
    from app.accounts.service import enable_user

    address = _changed(user, enable_user, "user.enable")
    out.print(f"Enabled {address}.")


@cli.command("reset")
def users_reset(
    user: Annotated[str, typer.Argument(help="The user's email or id.")],
    password_stdin: Annotated[bool, typer.Option(help=_STDIN_HELP)] = False,
) -> None:
    """Set a new password, clear a lock-out and end the user's sessions; a password made
    here is printed once, alone on the last line."""
    from app.accounts.service import reset_password

    password, made = _password(password_stdin)
    address = _changed(
        user, lambda session, found: reset_password(session, found, password), "user.reset"
    )
    out.print(f"Reset the password of {address}; their sessions are ended.")
    if made:
        sys.stdout.flush()
        print(password)
