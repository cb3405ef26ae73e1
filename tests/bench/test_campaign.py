"""bench/bench_campaign.py: its route templates, HTML form reading, answers and options.

The benchmark itself needs PostgreSQL, servers, workers and minutes; these are the parts
that decide what its figures mean, tested without them. ``SMM_BENCH_CAMPAIGN_SMOKE=1``
(with SMM_TEST_DATABASE_URL) also runs ``--smoke`` with tiny numbers end to end.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import bench_campaign as campaign  # noqa: E402
from benchlib import is_loopback_url, latency_summary  # noqa: E402

from tests.bench.script import run_script  # noqa: E402
from tests.conftest import example  # noqa: E402


@pytest.mark.parametrize(
    ("method", "url", "template"),
    [
        ("GET", "/i/abc.def-ghi", "GET /i/{token}"),
        ("POST", "/form/section/presence", "POST /form/section/{dimension_id}"),
        ("GET", "/form/section/presence?followup=true#q-x", "GET /form/section/{dimension_id}"),
        ("GET", "/form/roadmap.pdf", "GET /form/roadmap.pdf"),
        (
            "get",
            "http://127.0.0.1:8000/v1/reports/0b0c7a4e-5d43-4b8e-9a55-1f2f5b6f3c11/pdf",
            "GET /v1/reports/{job_id}/pdf",
        ),
        (
            "GET",
            "/v1/reports?organization_id=0b0c7a4e-5d43-4b8e-9a55-1f2f5b6f3c11",
            "GET /v1/reports",
        ),
        ("POST", "/v1/reports/batch", "POST /v1/reports/batch"),
        ("POST", "/v1/assessments/batch", "POST /v1/assessments/batch"),
        (
            "POST",
            "/v1/assessments/0b0c7a4e-5d43-4b8e-9a55-1f2f5b6f3c11/reports",
            "POST /v1/assessments/{assessment_id}/reports",
        ),
    ],
)
def test_route_templates_name_the_route_not_the_url(method: str, url: str, template: str) -> None:
    assert campaign.route_template(method, url) == template


def test_report_links_are_read_from_a_link_header() -> None:
    header = '</v1/reports/a>; rel="report", </v1/x>; rel="next", </v1/reports/b>; rel=report'
    assert campaign.report_links(header) == ["/v1/reports/a", "/v1/reports/b"]
    assert campaign.report_links(None) == []
    assert campaign.report_links('</v1/reports/a>; rel="reports"') == []


SECTION = """
<form method="post" action="/other"><input type="hidden" name="csrf_token" value="x"></form>
<div id="report-status" data-state="preparing"></div>
<form method="post" action="/form/section/presence" novalidate id="page-form">
  <input type="hidden" name="csrf_token" value="tok&amp;en">
  <div class="question-block" id="q-a">
    <input type="radio" name="q-a" value="one"><input type="radio" name="q-a" value="two" checked>
    <input type="radio" name="q-a" value="__na__">
    <textarea name="q-a-comment">
kept</textarea>
  </div>
  <div class="question-block follow-up" id="q-b" hidden>
    <div><input type="text" name="q-b" value=""></div>
  </div>
  <div class="question-block" id="q-c">
    <input type="checkbox" name="q-c" value="x"><input type="checkbox" name="q-c" value="y">
    <input type="checkbox" name="q-c-na" value="__na__">
  </div>
  <div class="question-block" id="q-d"><input type="text" name="q-d" value=""></div>
  <div class="question-block" id="q-e"><textarea name="q-e"></textarea></div>
  <div class="question-block" id="q-f"><input type="radio" name="q-f" value="yes">
    <input type="radio" name="q-f" value="no"></div>
  <button type="submit" name="action" value="next">Save</button>
  <button type="submit" name="action" value="back">Back</button>
</form>
"""


def test_a_page_is_read_as_a_browser_would_send_it() -> None:
    page = campaign.parse_page(SECTION)
    assert page.report_state == "preparing"
    form = campaign.form_posting_to(page, "/form/section/presence")
    assert form.values["csrf_token"] == ["tok&en"]
    assert form.values["q-a"] == ["two"]  # the checked radio
    assert form.values["q-a-comment"] == ["kept"]  # a leading newline is not content
    assert form.offered["q-c"] == ["x", "y"]
    assert form.kinds["q-e"] == "textarea"
    assert form.hidden == {"q-b"}
    assert ("action", "next") in form.buttons
    with pytest.raises(LookupError):
        campaign.form_posting_to(page, "/form/submit")


def test_a_page_without_report_status_says_so() -> None:
    assert campaign.parse_page("<p>results</p>").report_state is None


def test_a_section_is_filled_with_the_examples_answers_in_the_fields_it_shows() -> None:
    form = campaign.form_posting_to(campaign.parse_page(SECTION), "/form/section/presence")
    answers = {
        "a": campaign.Answer("one", comment="why"),
        "b": campaign.Answer(7),  # hidden: not typed in
        "c": campaign.Answer(["y", "zzz"]),
        "f": campaign.Answer(False),
    }
    data = campaign.fill_section(form, answers, random.Random(1), vary=0.0, action="next")
    assert data["csrf_token"] == ["tok&en"]
    assert data["q-a"] == ["one"]
    assert data["q-a-comment"] == ["why"]
    assert data["q-b"] == [""]  # posted as it stands, as a browser does
    assert data["q-c"] == ["y"]  # only what the form offers
    assert data["q-d"] == [campaign.FALLBACK_NUMBER]  # shown but not in the example
    assert data["q-e"] == [campaign.FALLBACK_TEXT]
    assert data["q-f"] == ["no"]
    assert data["action"] == ["next"]


def test_not_applicable_goes_to_the_na_choice_the_form_has() -> None:
    form = campaign.form_posting_to(campaign.parse_page(SECTION), "/form/section/presence")
    answers = {"a": campaign.Answer(None, na=True), "c": campaign.Answer(None, na=True)}
    data = campaign.fill_section(form, answers, random.Random(1), vary=0.0, action="skip")
    assert data["q-a"] == ["__na__"]
    assert data["q-c-na"] == ["__na__"]
    assert "q-c" not in data
    assert data["action"] == ["skip"]


def test_varied_choices_stay_among_the_offered_ones_and_differ_between_respondents() -> None:
    form = campaign.form_posting_to(campaign.parse_page(SECTION), "/form/section/presence")
    answers = {"a": campaign.Answer("one"), "f": campaign.Answer(True)}
    posted = {
        tuple(campaign.fill_section(form, answers, random.Random(seed), 1.0, "next")["q-a"])
        for seed in range(40)
    }
    assert posted == {("one",), ("two",)}


def test_every_example_answer_is_found_in_the_form_model() -> None:
    answers = campaign.answers_of(example("community-hospital"))
    assert len(answers) == len(example("community-hospital")["answers"])
    assert all(isinstance(a, campaign.Answer) for a in answers.values())


def test_arrivals_are_spread_over_the_span_in_order() -> None:
    times = campaign.poisson_arrivals(500, 420.0, random.Random(3))
    assert len(times) == 500
    assert times == sorted(times)
    assert max(times) <= 420.0
    assert 150 < sum(1 for t in times if t < 210) < 350  # about half in the first half


def test_latency_summary_uses_nearest_rank_percentiles() -> None:
    summary = latency_summary([float(v) for v in range(1, 101)])
    assert (summary.count, summary.p50, summary.p95, summary.p99, summary.max) == (
        100,
        50.0,
        95.0,
        99.0,
        100.0,
    )
    assert latency_summary([]).count == 0


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("postgresql://postgres@127.0.0.1:5432/test", True),
        ("postgresql://postgres@localhost/test", True),
        ("postgresql://postgres@[::1]:5432/test", True),
        ("postgresql://postgres@db.example.org:5432/test", False),
        ("postgresql://postgres@10.0.0.5/test", False),
        ("postgresql://postgres@127.0.0.1.example.org/test", False),
    ],
)
def test_only_loopback_databases_are_accepted(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_options_refuse_another_host_and_smoke_sets_small_numbers() -> None:
    with pytest.raises(SystemExit):
        campaign.parse_args(["--database-url", "postgresql://postgres@db.example.org/test"])
    smoke = campaign.parse_args(["--smoke"])
    assert (smoke.orgs, smoke.minutes, campaign.respondents_of(smoke)) == (200, 2.0, 20)
    mine = campaign.parse_args(["--smoke", "--orgs", "50", "--minutes", "0.5"])
    assert (mine.orgs, mine.minutes, campaign.respondents_of(mine)) == (50, 0.5, 20)
    full = campaign.parse_args([])
    assert (full.orgs, campaign.respondents_of(full), full.api_processes, full.workers) == (
        5000,
        500,
        2,
        2,
    )


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("SMM_BENCH_CAMPAIGN_SMOKE") != "1", reason="set SMM_BENCH_CAMPAIGN_SMOKE=1"
)
def test_smoke_run_drives_the_form_and_the_api_end_to_end(postgres_server: str) -> None:
    returncode, stdout, stderr = run_script(
        "bench_campaign.py",
        "--smoke",
        f"--database-url={postgres_server}",
        "--orgs=20",
        "--fraction=0.1",
        "--baseline=1",
        "--minutes=0.5",
        "--grace=1",
        "--think-scale=0.1",
        "--batch-size=1",
        "--batch-every=20",
        "--pdf-timeout=90",
        timeout=300,
    )
    assert returncode in (0, 1), stderr  # 1: a goal missed, on a shared machine
    assert "== goals ==" in stdout
    for route in ("GET /i/{token}", "POST /form/section/{dimension_id}", "POST /form/submit"):
        assert route in stdout, stdout
    assert "POST /v1/assessments/batch" in stdout, stdout
    assert "  web    : 2 submits" in stdout, stdout
