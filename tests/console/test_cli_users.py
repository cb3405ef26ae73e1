"""`smm users`, run as a real process: the first admin, and the accounts after it."""

from __future__ import annotations

from tests.support.cli import run_smm


def test_the_first_admin_is_created_at_the_command_line_and_can_sign_in(env, tmp_path):
    created = run_smm(
        "users", "create", "ada@example.org", "--name", "Ada Byron", "--role", "admin", env=env
    )
    password = created.stdout.strip().splitlines()[-1]
    assert len(password) >= 12
    listing = run_smm("users", "list", env=env).stdout
    assert "ada@example.org" in listing
    assert "admin" in listing
    assert "active" in listing
    assert password not in listing

    from app.accounts.service import check_password
    from app.db import make_engine, session_factory

    engine = make_engine(env["SMM_DATABASE_URL"])
    try:
        with session_factory(engine)() as session:
            assert check_password(session, "ADA@example.org ", password).name == "Ada Byron"
    finally:
        engine.dispose()


def test_a_password_can_come_from_standard_input_and_must_be_long(env):
    short = run_smm(
        "users",
        "create",
        "lee@example.org",
        "--name",
        "Lee",
        "--password-stdin",
        env=env,
        input="short\n",
        check=False,
    )
    assert short.returncode == 1
    assert "at least 12 characters" in short.stderr
    assert "lee@example.org" not in run_smm("users", "list", env=env).stdout

    made = run_smm(
        "users",
        "create",
        "lee@example.org",
        "--name",
        "Lee",
        "--password-stdin",
        env=env,
        input="a long enough password\n",
    )
    assert "a long enough password" not in made.stdout


def test_disable_enable_and_reset(env):
    run_smm("users", "create", "kim@example.org", "--name", "Kim", env=env)
    run_smm("users", "disable", "kim@example.org", env=env)
    assert "disabled" in run_smm("users", "list", env=env).stdout
    run_smm("users", "enable", "kim@example.org", env=env)
    reset = run_smm("users", "reset", "kim@example.org", env=env)
    assert len(reset.stdout.strip().splitlines()[-1]) >= 12
    missing = run_smm("users", "reset", "nobody@example.org", env=env, check=False)
    assert missing.returncode == 1
    assert "no user 'nobody@example.org'" in missing.stderr


def test_a_duplicate_or_malformed_email_is_refused(env):
    run_smm("users", "create", "kim@example.org", "--name", "Kim", env=env)
    again = run_smm("users", "create", "KIM@example.org", "--name", "Kim", env=env, check=False)
    assert again.returncode == 1
    assert "already a user kim@example.org" in again.stderr
    bad = run_smm("users", "create", "not-an-address", "--name", "X", env=env, check=False)
    assert bad.returncode == 1
    assert "email" in bad.stderr
