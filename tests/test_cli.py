"""The `smm` command, run the way people run it: as a real process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import httpx
import pytest

from app.auth.service import KEY_PATTERN
from app.config import PROJECT_ROOT
from tests.support.cli import SMM, run_smm
from tests.support.servers import free_port, running_server

__all__ = ["SMM", "run_smm", "running_server"]  # also imported from here

EXAMPLES = PROJECT_ROOT / "examples"


def test_keys_create_prints_the_key_alone_on_the_last_line(env):
    result = run_smm("keys", "create", "--role", "admin", "--name", "ops", env=env)

    last = result.stdout.strip().splitlines()[-1]
    assert KEY_PATTERN.match(last)
    listing = run_smm("keys", "list", env=env).stdout
    assert KEY_PATTERN.match(last)["prefix"] in listing
    assert last not in listing


def test_keys_create_with_unknown_organization_fails_clearly(env):
    result = run_smm(
        "keys",
        "create",
        "--role",
        "partner",
        "--org",
        "00000000-0000-4000-8000-000000000000",
        env=env,
        check=False,
    )

    assert result.returncode == 1
    assert "no organization" in result.stderr
    bad = run_smm("keys", "create", "--role", "partner", "--org", "lakeside", env=env, check=False)
    assert bad.returncode == 1
    assert "not an organization id" in bad.stderr


def test_score_prints_each_dimension_level_and_reason(env):
    result = run_smm("score", str(EXAMPLES / "community-hospital.json"), env=env)

    assert "Presence" in result.stdout
    assert "2 Developing" in result.stdout
    assert "1 Initial" in result.stdout
    assert "To reach level 2" in result.stdout
    assert "Overall: level 1 (Initial)" in result.stdout


def test_score_json_gives_the_full_result(env):
    result = run_smm("score", "--json", str(EXAMPLES / "academic-medical-center.json"), env=env)

    payload = json.loads(result.stdout)
    assert {d["dimension_id"]: d["level"] for d in payload["dimensions"]} == {
        "presence": 4,
        "consistency": 3,
        "security": 4,
    }


def test_score_rejects_invalid_answers_naming_the_question(env, tmp_path):
    document = json.loads((EXAMPLES / "community-hospital.json").read_text())
    document["answers"][0]["value"] = "carrier_pigeon"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))

    result = run_smm("score", str(path), env=env, check=False)

    assert result.returncode == 1
    assert f"answers[0].value: {document['answers'][0]['question_id']}" in result.stderr


def test_questionnaires_check_reports_file_line_and_path(env, tmp_path):
    assert "ok" in run_smm("questionnaires", "check", env=env).stdout
    root = tmp_path / "questionnaires"
    shutil.copytree(PROJECT_ROOT / "questionnaires", root)
    path = root / "hospital-social-media" / "v1.yaml"
    path.write_text(path.read_text().replace("weight: 1.5", "weight: 1.5\n    colour: blue", 1))

    result = run_smm(
        "questionnaires", "check", env={**env, "SMM_QUESTIONNAIRES_DIR": str(root)}, check=False
    )

    assert result.returncode == 1
    assert (
        "hospital-social-media/v1.yaml:88: dimensions[2].colour: unknown key 'colour'"
        in result.stderr
    )


@pytest.fixture
def server_env(fresh_database_url: str, env: dict[str, str]) -> dict[str, str]:
    return {**env, "SMM_DATABASE_URL": fresh_database_url}


def test_readme_walk_through_from_key_to_levels(server_env, tmp_path):
    key = (
        run_smm("keys", "create", "--role", "admin", env=server_env).stdout.strip().splitlines()[-1]
    )
    headers = {"Authorization": f"Bearer {key}"}
    with (
        running_server(server_env, tmp_path / "serve.log") as base,
        httpx.Client(base_url=base, headers=headers, timeout=30) as api,
    ):
        org = api.post(
            "/v1/organizations",
            json={
                "name": "Lakeside Community Hospital",
                "type": "community_hospital",
                "licensed_beds": 60,
                "state": "MN",
            },
        ).json()
        questionnaire = api.get("/v1/questionnaires/hospital-social-media").json()
        document = json.loads((EXAMPLES / "community-hospital.json").read_text())
        created = api.post("/v1/assessments", json={"organization_id": org["id"], **document})
        fetched = api.get(f"/v1/assessments/{created.json()['id']}").json()

    assert questionnaire["version"] >= document["questionnaire"]["version"] == 1
    assert created.status_code == 201
    dimensions = {d["dimension_id"]: d for d in fetched["scores"]["dimensions"]}
    assert {k: d["level"] for k, d in dimensions.items()} == {
        "presence": 2,
        "consistency": 1,
        "security": 2,
    }
    assert all(d["summary"] and d["next_level"]["summary"] for d in dimensions.values())


def test_serve_refuses_to_start_when_a_published_version_was_edited(server_env, tmp_path):
    root = tmp_path / "questionnaires"
    shutil.copytree(PROJECT_ROOT / "questionnaires", root)
    edited_env = {**server_env, "SMM_QUESTIONNAIRES_DIR": str(root)}
    with running_server(edited_env, tmp_path / "first.log"):
        pass  # the first start publishes v1
    path = root / "hospital-social-media" / "v1.yaml"
    path.write_text(path.read_text().replace("weight: 1.5", "weight: 2", 1))

    result = run_smm("serve", "--port", str(free_port()), env=edited_env, check=False)

    assert result.returncode == 1
    assert "Published versions are immutable" in result.stderr
    assert "v2.yaml" in result.stderr


def test_roadmap_prints_the_plan_with_prices_for_the_band(env):
    result = run_smm("roadmap", str(EXAMPLES / "community-hospital.json"), "--beds", "250", env=env)

    assert "100-299 beds" in result.stdout
    assert "First 90 days" in result.stdout
    assert "Total $" in result.stdout
    as_json = json.loads(
        run_smm("roadmap", "--json", str(EXAMPLES / "community-hospital.json"), env=env).stdout
    )
    assert as_json["targets"] == {"presence": 3, "consistency": 2, "security": 3}


def test_roadmap_rejects_a_malformed_target(env):
    result = run_smm(
        "roadmap",
        str(EXAMPLES / "community-hospital.json"),
        "--target",
        "security",
        env=env,
        check=False,
    )

    assert result.returncode == 1
    assert "dimension=level" in result.stderr


def test_report_writes_the_same_pdf_as_the_service_would(env, tmp_path):
    from pypdf import PdfReader

    output = tmp_path / "roadmap.pdf"
    run_smm(
        "report",
        str(EXAMPLES / "community-hospital.json"),
        "-o",
        str(output),
        "--beds",
        "250",
        "--organization",
        "Lakeside Community Hospital",
        "--target",
        "security=4",
        "--budget",
        "60000",
        "--date",
        "2026-11-02",
        env=env,
    )

    reader = PdfReader(output)
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Lakeside Community Hospital" in text
    assert "100-299 beds" in text
    assert "Level 4" in text
    assert reader.metadata.title


def test_version_prints_the_package_version(env):
    from app import __version__

    result = run_smm("--version", env=env)

    assert result.stdout.strip() == f"smm-assess {__version__}"


def test_help_loads_neither_the_database_layer_nor_the_renderer(env):
    probe = (
        "import sys\n"
        "from app.cli import cli\n"
        "try:\n"
        "    cli(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'sqlalchemy', 'weasyprint', 'fastapi', 'app.db', 'app.reports.service'}\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
        check=True,
    )

    assert "org" in result.stdout  # the help itself
    assert "LOADED []" in result.stdout


def test_org_create_prints_the_id_alone_and_org_list_shows_it(env):
    created = run_smm(
        "org",
        "create",
        "Lakeside Community Hospital",
        "--type",
        "community_hospital",
        "--beds",
        "120",
        "--state",
        "wi",
        env=env,
    )
    organization_id = created.stdout.strip().splitlines()[-1]

    listed = json.loads(run_smm("org", "list", "--json", env=env).stdout)
    table = run_smm("org", "list", env=env).stdout

    assert listed == [
        {
            "id": organization_id,
            "name": "Lakeside Community Hospital",
            "type": "community_hospital",
            "licensed_beds": 120,
            "state": "WI",
            "created_at": listed[0]["created_at"],
        }
    ]
    assert organization_id in table
    assert "Lakeside Community Hospital" in table


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--type", "spaceship", "--type"),
        ("--state", "ZZ", "--state"),
        ("--state", "Minnesota", "--state"),
        ("--beds", "-1", "--beds"),
    ],
)
def test_org_create_refuses_what_the_api_refuses_naming_the_option(env, option, value, named):
    fields = {"--type": "community_hospital", "--beds": "120", "--state": "MN", option: value}

    result = run_smm(
        "org", "create", "Lakeside", *[x for kv in fields.items() for x in kv], env=env, check=False
    )

    assert result.returncode != 0
    assert named in result.stderr
    assert json.loads(run_smm("org", "list", "--json", env=env).stdout) == []


def _organization(env) -> str:
    created = run_smm(
        "org", "create", "Lakeside", "--type", "clinic", "--beds", "20", "--state", "MN", env=env
    )
    return created.stdout.strip().splitlines()[-1]


def test_invite_links_to_the_port_and_host_the_server_runs_on(env):
    organization_id = _organization(env)

    by_flag = run_smm("invite", organization_id, "--port", "9123", env=env).stdout
    by_env = run_smm("invite", organization_id, env={**env, "SMM_PORT": "8765"}).stdout
    public = run_smm(
        "invite", organization_id, env={**env, "SMM_PUBLIC_URL": "https://assess.example.org/"}
    ).stdout

    assert by_flag.strip().splitlines()[-1].startswith("http://127.0.0.1:9123/i/")
    assert by_env.strip().splitlines()[-1].startswith("http://127.0.0.1:8765/i/")
    assert public.strip().splitlines()[-1].startswith("https://assess.example.org/i/")


def test_invite_with_a_malformed_id_names_the_argument_it_has(env):
    result = run_smm("invite", "lakeside", env=env, check=False)

    assert result.returncode == 1
    assert "ORGANIZATION 'lakeside' is not an organization id" in result.stderr
    assert "--org" not in result.stderr
    assert "smm org list" in result.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [("--state", "ZZ"), ("--state", "M"), ("--type", "spaceship"), ("--organization", " ")],
)
def test_report_refuses_the_organization_details_the_api_refuses(env, tmp_path, option, value):
    output = tmp_path / "roadmap.pdf"

    result = run_smm(
        "report",
        str(EXAMPLES / "community-hospital.json"),
        "-o",
        str(output),
        option,
        value,
        env=env,
        check=False,
    )

    assert result.returncode == 1
    assert option in result.stderr
    assert not output.exists()


def test_serve_warns_loudly_when_it_connects_as_a_superuser(server_env, tmp_path):
    log = tmp_path / "serve.log"
    with running_server(server_env, log):
        pass

    text = log.read_text()
    if server_env["SMM_DATABASE_URL"].startswith("sqlite"):
        assert "SECURITY WARNING" not in text
    else:  # the test server's `postgres` role is a superuser
        assert "SECURITY WARNING" in text
        assert "a superuser" in text
        assert "application role" in text


def test_only_the_application_role_is_trusted_with_the_audit_trail(fresh_database_url):
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from app.db import database_role_warning, make_engine
    from app.migrate import upgrade

    if fresh_database_url.startswith("sqlite"):
        engine = make_engine(fresh_database_url)
        assert database_role_warning(engine) is None
        engine.dispose()
        return
    admin = make_engine(fresh_database_url)
    upgrade(admin)
    suffix = uuid.uuid4().hex[:8]
    owner, application = f"smm_owner_{suffix}", f"smm_app_{suffix}"
    url = make_url(admin.url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE ROLE {owner} LOGIN"))
            connection.execute(text(f"CREATE ROLE {application} LOGIN"))
            connection.execute(text(f"ALTER TABLE audit_events OWNER TO {owner}"))
            connection.execute(text(f"GRANT SELECT, INSERT ON audit_events TO {application}"))
        as_owner = make_engine(url.set(username=owner).render_as_string(hide_password=False))
        as_application = make_engine(
            url.set(username=application).render_as_string(hide_password=False)
        )
        try:
            owner_warning = database_role_warning(as_owner)
            application_warning = database_role_warning(as_application)
        finally:
            as_owner.dispose()
            as_application.dispose()
    finally:
        with admin.begin() as connection:
            for role in (owner, application):
                connection.execute(text(f"REASSIGN OWNED BY {role} TO CURRENT_USER"))
                connection.execute(text(f"DROP OWNED BY {role}"))
                connection.execute(text(f"DROP ROLE {role}"))
        admin.dispose()

    assert owner_warning is not None
    assert f"{owner}, the owner of the audit trail" in owner_warning
    assert application_warning is None


V2_CRITICAL_ACCESS = EXAMPLES / "v2-critical-access-hospital.json"


def test_roadmap_capacity_options_change_the_plan_and_its_footer(env):
    default = run_smm("roadmap", str(V2_CRITICAL_ACCESS), "--beds", "25", env=env).stdout
    options = ["--staff-hours-per-month", "80", "--concurrent-actions", "4"]
    roomy = run_smm("roadmap", str(V2_CRITICAL_ACCESS), "--beds", "25", *options, env=env).stdout
    as_json = json.loads(
        run_smm(
            "roadmap", str(V2_CRITICAL_ACCESS), "--beds", "25", "--json", *options,
            "--hourly-rate", "60", "--budget-scope", "everything",
            env=env,
        ).stdout
    )  # fmt: skip

    assert "80 staff hours a month, 4 actions at once" in roomy
    assert "80 staff hours a month" not in default
    assert "year 1 $" in default
    assert "year 2 $" in default
    assert roomy.splitlines()[-1] != default.splitlines()[-1]
    assert as_json["capacity"]["staff_hours_per_month"] == 80
    assert as_json["capacity"]["concurrent_actions"] == 4
    assert as_json["capacity"]["hourly_rate"] == 60
    assert as_json["budget_scope"] == "everything"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--staff-hours-per-month", "0"),
        ("--staff-hours-per-month", "10001"),
        ("--concurrent-actions", "21"),
        ("--hourly-rate", "-1"),
        ("--budget-scope", "staff"),
    ],
)
def test_roadmap_and_report_refuse_capacity_out_of_range_naming_the_option(
    env, tmp_path, option, value
):
    output = tmp_path / "roadmap.pdf"

    planned = run_smm("roadmap", str(V2_CRITICAL_ACCESS), option, value, env=env, check=False)
    reported = run_smm(
        "report", str(V2_CRITICAL_ACCESS), "-o", str(output), option, value, env=env, check=False
    )

    for result in (planned, reported):
        assert result.returncode == 1
        assert f"{option}:" in result.stderr
    assert not output.exists()


def test_report_takes_the_capacity_options_for_a_file_but_not_with_all(env, tmp_path):
    from pypdf import PdfReader

    output = tmp_path / "roadmap.pdf"
    run_smm(
        "report", str(V2_CRITICAL_ACCESS), "-o", str(output), "--beds", "25",
        "--staff-hours-per-month", "80", "--hourly-rate", "60", "--budget-scope", "everything",
        env=env,
    )  # fmt: skip
    refused = run_smm(
        "report", "--all", "-o", str(tmp_path / "all"), "--concurrent-actions", "3",
        env=env, check=False,
    )  # fmt: skip

    assert PdfReader(output).pages
    assert refused.returncode == 1
    assert "--concurrent-actions: only for one answers file" in refused.stderr


def test_org_settings_store_the_capacity_and_change_only_what_is_given(server_env):
    organization_id = _organization(server_env)
    run_smm("org", "settings", organization_id, "--budget", "5000", env=server_env)

    stored = run_smm(
        "org", "settings", organization_id,
        "--staff-hours-per-month", "30", "--concurrent-actions", "2",
        "--hourly-rate", "55", "--budget-scope", "everything",
        env=server_env,
    ).stdout  # fmt: skip
    later = run_smm("org", "settings", organization_id, "--hourly-rate", "70", env=server_env)

    assert "staff hours a month: 30" in stored
    assert "actions at once: 2" in stored
    assert "hourly rate: $55" in stored
    assert "budget caps: everything" in stored
    assert "budget: $5,000" in stored
    assert "staff hours a month: 30" in later.stdout
    assert "hourly rate: $70" in later.stdout
    assert "budget caps: everything" in later.stdout
    cleared = run_smm("org", "settings", organization_id, "--clear", env=server_env).stdout
    assert "staff hours a month: default" in cleared
    assert "budget caps: center_fees" in cleared


@pytest.mark.parametrize(
    ("option", "value"),
    [("--staff-hours-per-month", "0"), ("--concurrent-actions", "0"), ("--budget-scope", "all")],
)
def test_org_settings_refuse_capacity_out_of_range_and_store_nothing(server_env, option, value):
    organization_id = _organization(server_env)

    result = run_smm(
        "org", "settings", organization_id, option, value, "--budget", "100",
        env=server_env, check=False,
    )  # fmt: skip
    shown = run_smm("org", "settings", organization_id, env=server_env).stdout

    assert result.returncode == 1
    assert f"{option}:" in result.stderr
    assert "budget: none" in shown
    assert "staff hours a month: default" in shown
