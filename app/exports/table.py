"""The assessment export as a table: its columns, its rows, and their CSV and XLSX forms.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula, and
an organization name or a free-text answer is whatever someone typed. So every text cell
that could start a formula is neutralised: in CSV with a leading apostrophe (the OWASP
advice), in XLSX by writing it as a string cell, which Excel never evaluates. Numbers stay
numbers: a negative score is data, not a formula.

What a spreadsheet or pandas reads must keep every distinction the answers make. An
unanswered question is an empty cell; not applicable is written ``not applicable``, which
no common reader takes for missing (pandas, R and Excel's importers read ``N/A``, ``NA``
and the like as missing, and then the two would be one). A choice has its code, as the API
gives it, and beside it a ``<question>_label`` column in words; the workbook also has a
"Questions" sheet with each question's prompt and options. The CSV starts with a UTF-8
byte-order mark, by which Excel knows the encoding.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from app.questionnaire.answers import NA, AnswerValue
from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    Question,
    QuestionnaireDefinition,
    ScaleQuestion,
    SingleChoiceQuestion,
    YesNoQuestion,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NOT_APPLICABLE = "not applicable"
LIST_SEPARATOR = ";"
LABEL_SEPARATOR = "; "
LABEL_SUFFIX = "_label"
BYTE_ORDER_MARK = "\ufeff"
QUESTIONS_HEADER = (
    "questionnaire_id",
    "question_id",
    "column",
    "dimension",
    "type",
    "prompt",
    "options",
    "allows_not_applicable",
)

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
class QuestionInfo:
    """What the "Questions" sheet says about a question (as its latest exported version asks)."""

    prompt: str
    dimension: str
    type: str
    options: tuple[tuple[str, str], ...]  # (answer as exported, its label)
    allow_na: bool


@dataclass(frozen=True, slots=True)
class ExportLayout:
    """The columns: fixed ones, a score and a level per dimension, then one per question,
    each choice question followed by its labels."""

    dimensions: tuple[str, ...]
    questions: tuple[tuple[str, str], ...]  # (questionnaire id, question id)
    described: Mapping[tuple[str, str], QuestionInfo] = field(default_factory=dict)
    # (questionnaire id, version, question id) -> option value -> label, for choices
    option_labels: Mapping[tuple[str, int, str], Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, definitions: Iterable[QuestionnaireDefinition]) -> ExportLayout:
        """Columns for these versions: each questionnaire's questions in its order, merged
        over versions so a question added in v2 sits where v2 put it."""
        ordered = sorted(definitions, key=lambda d: (d.id, d.version))
        dimensions = merge_in_order([d.id for d in v.dimensions] for v in ordered)
        questions = merge_in_order([(v.id, q.id) for q in v.questions] for v in ordered)
        described: dict[tuple[str, str], QuestionInfo] = {}
        option_labels: dict[tuple[str, int, str], Mapping[str, str]] = {}
        for version in ordered:  # a later version's wording replaces an earlier one's
            for question in version.questions:
                described[(version.id, question.id)] = _question_info(question)
                if isinstance(question, SingleChoiceQuestion | MultipleChoiceQuestion):
                    option_labels[(version.id, version.version, question.id)] = {
                        option.value: option.label for option in question.options
                    }
        return cls(tuple(dimensions), tuple(questions), described, option_labels)

    def _labelled(self, questionnaire: str, question: str) -> bool:
        info = self.described.get((questionnaire, question))
        return info is not None and info.type in _CHOICE_TYPES

    def _column(self, questionnaire: str, question: str) -> str:
        return f"{questionnaire}.{question}" if self._qualified else question

    @property
    def _qualified(self) -> bool:
        return len({questionnaire for questionnaire, _ in self.questions}) > 1

    def header(self) -> list[str]:
        """Column names; question ids carry their questionnaire when several are exported."""
        dimension_columns = [f"{d}_{part}" for d in self.dimensions for part in ("score", "level")]
        question_columns: list[str] = []
        for questionnaire, question in self.questions:
            column = self._column(questionnaire, question)
            question_columns.append(column)
            if self._labelled(questionnaire, question):
                question_columns.append(column + LABEL_SUFFIX)
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
            if self._labelled(questionnaire, question):
                labels = self.option_labels.get(
                    (questionnaire, row.questionnaire_version, question)
                )
                values.append(label_cell(row.answers[question], labels or {}) if answered else None)
        return values

    def question_rows(self) -> list[list[Cell]]:
        """The "Questions" sheet: each exported question column, its prompt and options."""
        rows: list[list[Cell]] = []
        for questionnaire, question in self.questions:
            info = self.described.get((questionnaire, question))
            if info is None:
                continue
            options = LABEL_SEPARATOR.join(f"{value} = {label}" for value, label in info.options)
            rows.append(
                [
                    questionnaire,
                    question,
                    self._column(questionnaire, question),
                    info.dimension,
                    info.type,
                    info.prompt,
                    options or None,
                    info.allow_na,
                ]
            )
        return rows


_CHOICE_TYPES = frozenset({"single_choice", "multiple_choice"})


def _question_info(question: Question) -> QuestionInfo:
    options: tuple[tuple[str, str], ...] = ()
    if isinstance(question, SingleChoiceQuestion | MultipleChoiceQuestion):
        options = tuple((option.value, option.label) for option in question.options)
    elif isinstance(question, YesNoQuestion):
        options = (("true", "Yes"), ("false", "No"))
    elif isinstance(question, ScaleQuestion):
        options = tuple((str(point), label) for point, label in sorted(question.labels.items()))
    return QuestionInfo(
        prompt=question.prompt,
        dimension=question.dimension,
        type=str(question.type),
        options=options,
        allow_na=question.allow_na,
    )


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
    """An answer as a cell: ``not applicable``, lists joined with ``;``, others as they are."""
    if value is NA:
        return NOT_APPLICABLE
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)  # pragma: no cover - answers are JSON scalars or lists of strings


def label_cell(value: AnswerValue, labels: Mapping[str, str]) -> Cell:
    """A choice answer in words: its option's label, several joined with ``; ``."""
    if value is NA:
        return NOT_APPLICABLE
    chosen = value if isinstance(value, list) else [value]
    return LABEL_SEPARATOR.join(labels.get(str(v), str(v)) for v in chosen)


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


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_file_name(extension: str) -> str:
    """The name an export is downloaded as, with today's (UTC) date."""
    return f"assessments-{datetime.now(UTC):%Y-%m-%d}.{extension}"


def csv_chunks(layout: ExportLayout, rows: Iterable[ExportedAssessment]) -> Iterator[str]:
    """The CSV document a line at a time (RFC 4180 quoting, CRLF line ends), after a BOM."""
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer)
    writer.writerow([neutralise_formula(name) for name in layout.header()])
    for row in rows:
        writer.writerow([csv_text(cell) for cell in layout.cells(row)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(layout: ExportLayout, rows: Iterable[ExportedAssessment]) -> bytes:
    """The export as an Excel workbook, written row by row (openpyxl's write-only mode):
    the assessments with a frozen, filterable header, then the "Questions" sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Assessments")
    _write_table(sheet, layout.header(), (layout.cells(row) for row in rows))
    _write_table(workbook.create_sheet("Questions"), list(QUESTIONS_HEADER), layout.question_rows())
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _write_table(sheet: Any, header: list[str], rows: Iterable[list[Cell]]) -> None:
    """A header that stays in view and filters, then the rows."""
    sheet.freeze_panes = "A2"  # write-only sheets take their view before the first row
    sheet.append([_xlsx_cell(sheet, name) for name in header])
    count = 0
    for cells in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in cells])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"


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
