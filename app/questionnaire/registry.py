"""The questionnaire versions this process can serve, and their publication in the database.

Files under ``questionnaires/`` are the source. A version the database knows but whose file
is gone is served from its stored snapshot, so old assessments always keep their version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.db import session_factory, transaction
from app.errors import NotFound
from app.questionnaire.loader import LoadedDefinition, content_hash, load_directory
from app.questionnaire.models import QuestionnaireVersion
from app.questionnaire.schemas import QuestionnaireDefinition


class PublishedVersionChanged(Exception):
    """A published version's file no longer matches what was published."""


@dataclass
class QuestionnaireRegistry:
    """Definitions by (id, version), immutable once built."""

    _by_key: dict[tuple[str, int], LoadedDefinition] = field(default_factory=dict)

    @classmethod
    def of(cls, loaded: Iterable[LoadedDefinition]) -> QuestionnaireRegistry:
        """A registry of the given definitions."""
        registry = cls()
        for item in loaded:
            registry._by_key[(item.definition.id, item.definition.version)] = item
        return registry

    def get(self, questionnaire_id: str, version: int | None = None) -> LoadedDefinition:
        """One version, or the latest when ``version`` is None; NotFound otherwise."""
        if version is None:
            versions = self.versions(questionnaire_id)
            if not versions:
                raise NotFound(f"There is no questionnaire {questionnaire_id!r}.")
            return versions[-1]
        item = self._by_key.get((questionnaire_id, version))
        if item is None:
            raise NotFound(f"Questionnaire {questionnaire_id!r} has no version {version}.")
        return item

    def versions(self, questionnaire_id: str) -> list[LoadedDefinition]:
        """Every version of one questionnaire, oldest first."""
        return sorted(
            (v for (qid, _), v in self._by_key.items() if qid == questionnaire_id),
            key=lambda v: v.definition.version,
        )

    def latest(self) -> list[LoadedDefinition]:
        """The latest version of each questionnaire, by id."""
        ids = sorted({qid for qid, _ in self._by_key})
        return [self.versions(qid)[-1] for qid in ids]

    def __len__(self) -> int:
        return len(self._by_key)


# An arbitrary, fixed advisory-lock key for publishing questionnaire versions.
_PUBLISH_LOCK = 0x534D_4D51


def publish(session: Session, loaded: list[LoadedDefinition]) -> QuestionnaireRegistry:
    """Record new versions, refuse edited ones, and restore versions whose files are gone.

    Raises PublishedVersionChanged naming every file that changed without a new version.
    Processes starting together (API replicas, workers) publish one after another: on
    PostgreSQL a transaction-scoped advisory lock orders them; SQLite's write lock does.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_PUBLISH_LOCK)))
    stored = {
        (row.questionnaire_id, row.version): row
        for row in session.scalars(select(QuestionnaireVersion))
    }
    changed: list[str] = []
    for item in loaded:
        key = (item.definition.id, item.definition.version)
        row = stored.get(key)
        if row is None:
            session.add(
                QuestionnaireVersion(
                    questionnaire_id=item.definition.id,
                    version=item.definition.version,
                    content_hash=item.content_hash,
                    title=item.definition.title,
                    definition=item.definition.model_dump(mode="json", by_alias=True),
                )
            )
        elif row.content_hash != item.content_hash:
            changed.append(
                f"{item.source}: version {row.version} of {row.questionnaire_id!r} was published "
                f"with content hash {row.content_hash[:12]}, but the file now hashes to "
                f"{item.content_hash[:12]}. Published versions are immutable: restore the file, "
                f"or save the change as a new version (v{row.version + 1}.yaml, version: "
                f"{row.version + 1})."
            )
    if changed:
        raise PublishedVersionChanged("\n".join(changed))
    on_disk = {(i.definition.id, i.definition.version) for i in loaded}
    restored = [
        LoadedDefinition(
            QuestionnaireDefinition.model_validate(row.definition),
            Path(f"<database: {row.questionnaire_id} v{row.version}>"),
            row.content_hash,
        )
        for key, row in stored.items()
        if key not in on_disk
    ]
    for item in restored:
        if content_hash(item.definition) != item.content_hash:
            raise PublishedVersionChanged(
                f"{item.source}: the stored snapshot does not match its hash"
            )
    session.flush()
    return QuestionnaireRegistry.of([*loaded, *restored])


def load_published(engine: Engine, directory: Path) -> QuestionnaireRegistry:
    """Load the questionnaire files in ``directory``, verify them against what was
    published, and publish new versions, in one transaction of its own."""
    with transaction(session_factory(engine)) as session:
        return publish(session, load_directory(directory))
