"""Publishing questionnaire versions: by `smm migrate`, and from processes starting together."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.config import Settings
from app.db import make_engine, session_factory, transaction
from app.migrate import upgrade
from app.questionnaire.loader import load_directory
from app.questionnaire.models import QuestionnaireVersion
from app.questionnaire.registry import publish
from tests.support.cli import run_smm


def _published(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(QuestionnaireVersion)) or 0
    finally:
        engine.dispose()


def test_migrate_publishes_the_questionnaire_versions(fresh_database_url, env):
    result = run_smm("migrate", env={**env, "SMM_DATABASE_URL": fresh_database_url})

    assert result.returncode == 0, result.stderr
    loaded = load_directory(Settings().questionnaires_dir)
    assert _published(fresh_database_url) == len(loaded)
    assert f"Questionnaire versions published: {len(loaded)}." in result.stdout


def test_processes_starting_together_publish_each_version_once(fresh_database_url):
    engine = make_engine(fresh_database_url)
    upgrade(engine)
    loaded = load_directory(Settings().questionnaires_dir)
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def start_up() -> None:
        try:
            start.wait()
            with transaction(session_factory(engine)) as session:
                publish(session, loaded)
        except BaseException as exc:  # a unique violation here is the race this prevents
            failures.append(exc)

    threads = [threading.Thread(target=start_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    engine.dispose()

    assert failures == []
    assert _published(fresh_database_url) == len(loaded)
