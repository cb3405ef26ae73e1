"""`smm org settings`: show and change an organization's roadmap settings from the shell."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.db import make_engine
from app.migrate import upgrade
from app.organizations.models import Organization
from tests.support.cli import run_smm


@pytest.fixture
def organization(env: dict[str, str]) -> str:
    engine = make_engine(env["SMM_DATABASE_URL"])
    upgrade(engine)
    try:
        with Session(engine) as session:
            row = Organization(
                name="Lakeside Community Hospital",
                type="community_hospital",
                licensed_beds=60,
                state="MN",
            )
            session.add(row)
            session.commit()
            return str(row.id)
    finally:
        engine.dispose()


def test_options_change_the_settings_and_later_options_change_only_their_field(
    env, organization, tmp_path: Path
):
    notes = tmp_path / "notes.txt"
    notes.write_text("Start with the policy.\n[bold]not markup[/bold]", encoding="utf-8")
    empty = run_smm("org", "settings", organization, env=env)
    assert f"Roadmap settings of Lakeside Community Hospital ({organization})" in empty.stdout
    assert "targets: one level up in every dimension" in empty.stdout
    assert "budget: none" in empty.stdout

    first = run_smm(
        "org", "settings", organization,
        "--target", "security=4", "--budget", "50000",
        "--exclude", "annual_conference", "--notes-file", str(notes),
        env=env,
    )  # fmt: skip
    second = run_smm("org", "settings", organization, "--target", "presence=3", env=env)

    assert "targets: security=4" in first.stdout
    assert "budget: $50,000" in first.stdout
    assert "excluded services: annual_conference" in first.stdout
    assert "[bold]not markup[/bold]" in first.stdout
    assert "targets: presence=3, security=4" in second.stdout
    assert "budget: $50,000" in second.stdout
    shown = run_smm("org", "settings", organization, env=env).stdout
    assert shown == second.stdout


def test_clear_empties_the_settings_before_applying_the_rest(env, organization):
    run_smm("org", "settings", organization, "--target", "security=4", "--budget", "9", env=env)

    result = run_smm("org", "settings", organization, "--clear", "--notes", "Fresh start", env=env)

    assert "targets: one level up in every dimension" in result.stdout
    assert "budget: none" in result.stdout
    assert "notes: Fresh start" in result.stdout


BAD_OPTIONS = [
    (["--target", "marketing=3"], "'marketing' is not a dimension"),
    (["--target", "security=7"], "is not dimension=level"),
    (["--exclude", "yoga_retreat"], "'yoga_retreat' is not a service"),
    (["--notes", "a", "--notes-file", "README.md"], "not both"),
]


def test_bad_options_fail_clearly_and_change_nothing(env, organization):
    before = run_smm("org", "settings", organization, "--budget", "700", env=env).stdout

    for arguments, message in BAD_OPTIONS:
        result = run_smm("org", "settings", organization, *arguments, env=env, check=False)
        assert result.returncode != 0, arguments
        assert message in result.stderr, result.stderr

    assert run_smm("org", "settings", organization, env=env).stdout == before


def test_an_unknown_organization_is_an_error(env, organization):
    missing = str(uuid.uuid4())

    result = run_smm("org", "settings", missing, env=env, check=False)

    assert result.returncode != 0
    assert f"there is no organization {missing}" in result.stderr
