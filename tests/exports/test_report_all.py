"""`smm report --all`: every organization's roadmap into a directory, run as a real process."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from app.auth.models import Role
from app.auth.service import Principal, create_key
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, session_factory, transaction
from app.exports.bulk import report_file_name
from app.intake.service import create_assessment
from app.intake.validation import AnswerItem
from app.main import create_app
from app.migrate import upgrade
from app.organizations.models import Organization
from app.questionnaire.registry import publish
from tests.conftest import bearer, example
from tests.support.cli import environment_without_settings, run_smm
from tests.support.questionnaires import loaded_questionnaires


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = environment_without_settings()
    environment["SMM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    environment["COLUMNS"] = "200"
    return environment


def _items(name: str) -> list[AnswerItem]:
    from app.intake.schemas import AnswerIn

    return [AnswerIn.model_validate(a) for a in example(name)["answers"]]


def arrange(url: str, organizations: dict[str, str | None]) -> dict[str, uuid.UUID]:
    """Organizations (name -> example answers submitted for it, or None) in a database."""
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    ids = {}
    with transaction(factory) as session:
        registry = publish(session, loaded_questionnaires())
        admin = create_key(session, Role.ADMIN, [])
        principal = Principal(admin.key.id, Role.ADMIN)
        for name, answers in organizations.items():
            organization = Organization(
                name=name, type="community_hospital", licensed_beds=140, state="MN"
            )
            session.add(organization)
            session.flush()
            ids[name] = organization.id
            if answers is not None:
                create_assessment(
                    session,
                    registry,
                    principal,
                    organization_id=organization.id,
                    questionnaire_id="hospital-social-media",
                    version=1,
                    status="submitted",
                    items=_items(answers),
                )
    engine.dispose()
    return ids


def _text(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def test_report_all_writes_every_latest_report_as_the_api_serves_it(
    fresh_database_url, env, tmp_path
):
    env = {**env, "SMM_DATABASE_URL": fresh_database_url}
    ids = arrange(
        fresh_database_url,
        {
            "Lakeside Community Hospital": "community-hospital",
            "St. Zoë's / University Medical Center": "academic-medical-center",
            "Pinewood Clinic": None,
        },
    )
    out = tmp_path / "reports"

    first = run_smm("report", "--all", "-o", str(out), "--workers", "2", env=env)

    lakeside = out / report_file_name(
        "Lakeside Community Hospital", ids["Lakeside Community Hospital"]
    )
    university_id = ids["St. Zoë's / University Medical Center"]
    university = out / f"st-zoe-s-university-medical-center-{university_id}.pdf"
    assert sorted(p.name for p in out.iterdir()) == sorted([lakeside.name, university.name])
    assert "Lakeside Community Hospital" in _text(lakeside)
    assert "University Medical Center" in _text(university)
    assert "2 rendered, 0 from cache, 0 failed, 1 skipped." in first.stdout
    assert "Pinewood Clinic" in first.stdout
    assert "no submitted assessment" in first.stdout

    engine = make_engine(fresh_database_url)
    try:
        app = create_app(Settings(database_url=fresh_database_url, run_report_jobs=False))
        with TestClient(app) as client, transaction(session_factory(engine)) as session:
            token = create_key(session, Role.ADMIN, []).token
            session.commit()
            assessment = client.get(
                "/v1/assessments",
                params={"organization_id": str(ids["Lakeside Community Hospital"])},
                headers=bearer(token),
            ).json()["items"][0]["id"]
            served = client.get(f"/v1/assessments/{assessment}/report.pdf", headers=bearer(token))
    finally:
        engine.dispose()
    assert served.status_code == 200
    assert served.content == lakeside.read_bytes()

    second = run_smm("report", "--all", "-o", str(out), env=env)

    assert "0 rendered, 2 from cache, 0 failed, 1 skipped." in second.stdout
    assert served.content == lakeside.read_bytes()


def test_report_all_reports_failures_with_their_reason_and_exit_code_1(env, tmp_path):
    arrange(env["SMM_DATABASE_URL"], {"Lakeside [b]Community[/b] Hospital": "community-hospital"})

    result = run_smm(
        "report",
        "--all",
        "-o",
        str(tmp_path / "reports"),
        env={**env, "SMM_RENDER_TIMEOUT_SECONDS": "0.001"},
        check=False,
    )

    assert result.returncode == 1
    assert "0 rendered, 0 from cache, 1 failed, 0 skipped." in result.stdout
    assert "rendering took longer than 0.001 s" in result.stdout
    assert "Lakeside [b]Community[/b] Hospital" in result.stdout  # shown as typed, not markup
    assert list((tmp_path / "reports").iterdir()) == []


def test_report_all_with_a_key_covers_only_what_the_key_sees(env, tmp_path):
    ids = arrange(
        env["SMM_DATABASE_URL"],
        {"Lakeside Community Hospital": "community-hospital", "Foreign Hospital": None},
    )
    created = run_smm(
        "keys",
        "create",
        "--role",
        "consultant",
        "--org",
        str(ids["Lakeside Community Hospital"]),
        env=env,
    )
    token = created.stdout.strip().splitlines()[-1]
    prefix = token.split("_")[1]

    result = run_smm(
        "report",
        "--all",
        "-o",
        str(tmp_path / "reports"),
        "--key",
        prefix,
        env={**env, "SMM_RENDER_TIMEOUT_SECONDS": "0.001"},  # what is tried matters, not PDFs
        check=False,
    )

    assert "Lakeside Community Hospital" in result.stdout
    assert "Foreign Hospital" not in result.stdout
    assert "1 failed, 0 skipped." in result.stdout
    unknown = run_smm(
        "report", "--all", "-o", str(tmp_path), "--key", "nosuchkey", env=env, check=False
    )
    assert unknown.returncode == 1
    assert "no API key" in unknown.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--all", str(PROJECT_ROOT / "examples" / "community-hospital.json")], "not both"),
        ([], "or --all"),
        (["--all", "--beds", "250"], "--beds: only for one answers file"),
        (["--all", "--target", "security=4"], "--target: only for one answers file"),
        (
            [str(PROJECT_ROOT / "examples" / "community-hospital.json"), "--workers", "2"],
            "--workers: only with --all",
        ),
    ],
)
def test_report_refuses_conflicting_arguments_clearly(env, tmp_path, arguments, message):
    result = run_smm("report", "-o", str(tmp_path / "out"), *arguments, env=env, check=False)

    assert result.returncode == 1
    assert message in result.stderr
    assert not (tmp_path / "out").exists()
