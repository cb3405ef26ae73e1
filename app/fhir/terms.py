"""The URLs and codes of the FHIR mapping, in one place because partners depend on them.

Our own URLs sit under one fixed base: the questionnaire is the same definition wherever
the service runs, so its canonical URL and our extensions must not change with the host.
"""

from __future__ import annotations

import re

CANONICAL_BASE = "https://smm-assess.example.org/fhir"
FHIR_JSON = "application/fhir+json"

# Standard extensions and code systems (hl7.org/fhir/R4/extensibility-registry.html).
# An option's score: itemWeight supersedes ordinalValue; forms do not show it as the label.
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
OPTION_EXCLUSIVE = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
RADIO_BUTTON = "radio-button"
CHECK_BOX = "check-box"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
NOT_APPLICABLE = "not-applicable"

# Our own extensions, documented in the README's "FHIR R4" section.
_DEFINITIONS = f"{CANONICAL_BASE}/StructureDefinition"
QUESTION_WEIGHT = f"{_DEFINITIONS}/question-weight"
YES_SCORE = f"{_DEFINITIONS}/yes-score"
NO_SCORE = f"{_DEFINITIONS}/no-score"
SCORE_BAND = f"{_DEFINITIONS}/score-band"
NOT_APPLICABLE_ALLOWED = f"{_DEFINITIONS}/not-applicable-allowed"
ANSWER_COMMENT = f"{_DEFINITIONS}/answer-comment"
ASSESSMENT = f"{_DEFINITIONS}/assessment"

GROUP_PREFIX = "dimension-"  # question ids cannot hold "-", so group linkIds never collide
HELP_SUFFIX = ".help"


def questionnaire_url(questionnaire_id: str) -> str:
    """The canonical URL of a questionnaire (all its versions share it)."""
    return f"{CANONICAL_BASE}/Questionnaire/{questionnaire_id}"


def option_system(questionnaire_id: str, question_id: str) -> str:
    """The code system of one question's options: codes are only unique within a question."""
    return f"{CANONICAL_BASE}/CodeSystem/{questionnaire_id}/{question_id}"


def group_link_id(dimension_id: str) -> str:
    """The linkId of the group holding a dimension's questions."""
    return f"{GROUP_PREFIX}{dimension_id}"


_CANONICAL = re.compile(
    r"^(?:" + re.escape(CANONICAL_BASE) + r"/)?Questionnaire/(?P<id>[^/|]+)(?:\|(?P<version>.*))?$"
)


def parse_questionnaire_reference(canonical: str) -> tuple[str, str | None] | None:
    """(id, version text or None) of ``<canonical url>[|version]`` or ``Questionnaire/<id>``."""
    match = _CANONICAL.match(canonical)
    if match is None:
        return None
    return match["id"], match["version"]
