"""The assessment export as a table: its columns, its rows, and their CSV and XLSX forms.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula, and
an organization name or a free-text answer is whatever someone typed. So every text cell
that could start a formula is neutralised: in CSV with a leading apostrophe (the OWASP
advice), in XLSX by writing it as a string cell, which Excel never evaluates. Numbers stay
numbers: a negative score is data, not a formula.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.questionnaire.schemas import QuestionnaireDefinition
from app.scoring.engine import NA, AnswerValue

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NOT_APPLICABLE = "N/A"
LIST_SEPARATOR = ";"

Cell = str | int | float | bool | datetime | None
T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True, slots=True)
class ExportedAssessment:
    """What one row says about an assessment, read once from the database."""

    id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    questionnaire_id: str
    questionnaire_version: int
    status: str
    submitted_at: datetime | None
    overall_level: int
    overall_score: float
    dimensions: dict[str, tuple[float, int]]  # dimension id -> (score, level)
    answers: dict[str, AnswerValue]


FIXED_COLUMNS = (
    "assessment_id",
    "organization_id",
    "organization_name",
    "questionnaire_id",
    "questionnaire_version",
    "status",
    "submitted_at",
    "overall_level",
    "overall_score",
)


@dataclass(frozen=True, slots=True)
class ExportLayout:
    """The columns: fixed ones, a score and a level per dimension, then one per question."""

    dimensions: tuple[str, ...]
    questions: tuple[tuple[str, str], ...]  # (questionnaire id, question id)

    @classmethod
    def of(cls, definitions: Iterable[QuestionnaireDefinition]) -> ExportLayout:
        """Columns for these versions: each questionnaire's questions in its order, merged
        over versions so a question added in v2 sits where v2 put it."""
        ordered = sorted(definitions, key=lambda d: (d.id, d.version))
        dimensions = merge_in_order([d.id for d in v.dimensions] for v in ordered)
        questions = merge_in_order([(v.id, q.id) for q in v.questions] for v in ordered)
        return cls(tuple(dimensions), tuple(questions))

    @property
    def _qualified(self) -> bool:
        return len({questionnaire for questionnaire, _ in self.questions}) > 1

    def header(self) -> list[str]:
        """Column names; question ids carry their questionnaire when several are exported."""
        dimension_columns = [f"{d}_{part}" for d in self.dimensions for part in ("score", "level")]
        question_columns = [
            f"{questionnaire}.{question}" if self._qualified else question
            for questionnaire, question in self.questions
        ]
        return [*FIXED_COLUMNS, *dimension_columns, *question_columns]

    def cells(self, row: ExportedAssessment) -> list[Cell]:
        """One assessment's values, typed: numbers as numbers, answers as the API gives them."""
        values: list[Cell] = [
            str(row.id),
            str(row.organization_id),
            row.organization_name,
            row.questionnaire_id,
            row.questionnaire_version,
            row.status,
            row.submitted_at,
            row.overall_level,
            row.overall_score,
        ]
        for dimension in self.dimensions:
            score, level = row.dimensions.get(dimension, (None, None))
            values += [score, level]
        for questionnaire, question in self.questions:
            answered = questionnaire == row.questionnaire_id and question in row.answers
            values.append(answer_cell(row.answers[question]) if answered else None)
        return values


def merge_in_order(sequences: Iterable[Sequence[T]]) -> list[T]:
    """Union of the sequences, each item placed after its predecessor in the first that has it."""
    merged: list[T] = []
    seen: set[T] = set()
    for sequence in sequences:
        previous: T | None = None
        for item in sequence:
            if item not in seen:
                at = merged.index(previous) + 1 if previous is not None else 0
                merged.insert(at, item)
                seen.add(item)
            previous = item
    return merged


def answer_cell(value: AnswerValue) -> Cell:
    """An answer as a cell: N/A, lists joined with ``;``, other values as they are."""
    if value is NA:
        return NOT_APPLICABLE
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)  # pragma: no cover - answers are JSON scalars or lists of strings


def neutralise_formula(text: str) -> str:
    """Text a spreadsheet will show, never run: a leading ``'`` where a formula could start."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(value: Cell) -> str:
    """A cell as CSV text: ISO 8601 UTC times, true/false, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, int | float):
        return repr(value)
    return neutralise_formula(value)


def csv_chunks(layout: ExportLayout, rows: Iterable[ExportedAssessment]) -> Iterator[str]:
    """The CSV document a line at a time (RFC 4180 quoting, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise_formula(name) for name in layout.header()])
    for row in rows:
        writer.writerow([csv_text(cell) for cell in layout.cells(row)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(layout: ExportLayout, rows: Iterable[ExportedAssessment]) -> bytes:
    """The export as an Excel workbook, written row by row (openpyxl's write-only mode)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Assessments")
    sheet.append([_xlsx_cell(sheet, name) for name in layout.header()])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in layout.cells(row)])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _xlsx_cell(sheet: Any, value: Cell) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones; the column holds UTC.
        return value.astimezone(UTC).replace(tzinfo=None)
    if not isinstance(value, str):
        return value
    # Control characters are not allowed in the XML of a sheet; they carry no meaning here.
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"  # openpyxl would make "=..." a formula; as a string it is only text
    return cell
