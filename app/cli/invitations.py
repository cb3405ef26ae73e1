"""`smm invite`: an invitation link to the web form for an organization's staff."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from app.cli.console import err, fail, out
from app.cli.database import database, organization_of
from app.cli.options import organization_ids


def _address(value: str | None) -> str | None:
    """The --email value, if it is one plain address (a usage error otherwise)."""
    if value is None:
        return None
    from app.addresses import email_address

    try:
        return email_address(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def invite(
    organization: Annotated[str, typer.Argument(help="The organization's id.")],
    questionnaire: Annotated[
        str | None, typer.Option(help="Questionnaire id (default: the only one served).")
    ] = None,
    days: Annotated[
        int | None, typer.Option(min=1, max=365, help="Days the link works (default 30).")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Where staff reach the service, e.g. https://assess.example.org "
            "(default SMM_PUBLIC_URL, else http://HOST:PORT)."
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(help="The address `smm serve` listens on (default SMM_HOST)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="The port `smm serve` listens on (default SMM_PORT)."),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            callback=_address,
            help="Also e-mail the link to this address, through SMM_SMTP_HOST "
            "(sent by the running service or `smm worker`).",
        ),
    ] = None,
) -> None:
    """Make an invitation link to the web form; the link alone is on the last line.

    The link starts with --base-url, else SMM_PUBLIC_URL, else the address `smm serve`
    listens on: give the same --host/--port (or SMM_HOST/SMM_PORT) as to `smm serve`.
    With --email it is also queued for e-mail; the API's invitation shows how that went.
    """
    from app.auth.service import Principal
    from app.config import get_settings
    from app.invitations.service import create_invitation
    from app.mail import service as mail

    organization_id = organization_ids([organization], given_as="ORGANIZATION")[0]
    settings = get_settings()
    if email is not None and not settings.sends_email:
        raise fail(
            "--email: this service cannot send e-mail: no SMTP server is configured "
            "(SMM_SMTP_HOST). Leave out --email and send the link yourself."
        )
    base = _link_base(base_url or settings.public_url, host or settings.host, port or settings.port)
    with database(settings, questionnaires=True) as db:
        target = organization_of(db, organization_id)
        issued = create_invitation(
            db.session,
            db.registry,
            Principal.system(),
            target,
            key=settings.signing_key(),
            questionnaire_id=questionnaire,
            days=days or settings.invitation_days,
        )
        name, expires = target.name, issued.invitation.expires_at
        link = f"{base.rstrip('/')}/i/{issued.token}"
        db.audit("invitation.create", "invitation", issued.invitation.id, target.id)
        if email is not None:
            message = mail.queue_invitation_email(
                db.session, settings, issued.invitation, link, email, invited_by=None
            )
            if settings.uses_job_queue:
                from app.jobs import queue

                client = queue.client_app(settings.database_url)
                queue.dispatch_email(client, db.session, message.id)
    queued = f" It is queued for e-mail to {email}." if email is not None else ""
    out.print(
        f"Invitation for {name}, valid until {expires:%Y-%m-%d %H:%M} UTC.{queued} The link:",
        markup=False,
    )
    sys.stdout.flush()
    print(link)


def _link_base(public_url: str | None, host: str, port: int) -> str:
    """The start of a link: the public URL, else where `smm serve` listens."""
    if public_url:
        return public_url.rstrip("/")
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - "every address" cannot be browsed to
        import socket

        host = socket.getfqdn()
        err.print(
            f"note: the server listens on every address; the link uses {host}. Set "
            "SMM_PUBLIC_URL or --base-url to the address staff reach.",
            markup=False,
        )
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{port}"
