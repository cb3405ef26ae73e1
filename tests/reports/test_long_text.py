"""Long unbroken text and emoji in every text block of the PDF, read back from the PDF.

A pasted URL, a 300-character word and a one-word organization name wrap inside the page
(cover, summary, tables, appendix, notes, running header) instead of running off it and
being cut; emoji are drawn from the system's emoji font, not left as empty boxes.
"""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO

import pytest
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar, LTPage, LTTextContainer

from app.reports.view import OrganizationInfo
from tests.reports.conftest import RenderedReport, flat_text, render, report_case

WORD = "Supercalifragilisticexpialidocious" * 9  # 306 letters, no break opportunity
URL = "https://www.example.org/" + "".join(f"section{n}-" for n in range(40)) + "?utm_source=pdf"
NAME = "Lakesideregionalcommunityhospitalandclinics" * 4  # 172 letters, one word
EMOJI = "\N{GRINNING FACE}\N{HOSPITAL}\N{THUMBS UP SIGN}"
NOTES = f"{WORD}\n\n{URL}\n\nThe board liked it {EMOJI}"
# Half the right margin (0.85in): anything past it was drawn off the text column.
RIGHT_EDGE_SLACK = 0.85 * 72 / 2


@pytest.fixture(scope="module")
def long_report() -> RenderedReport:
    organization = OrganizationInfo(NAME, "community_hospital", 60, "MN")
    case = report_case(
        "community-hospital",
        organization,
        notes=NOTES,
        answer_overrides={
            "se_incidents_description": f"{WORD} {URL} {EMOJI}",
            "se_anything_else": WORD,
        },
    )
    comments = {**case.comments, "pr_verification": f"{URL} {EMOJI} {WORD}"}
    # Free text and comments are printed only on request: ask, so every text block is there.
    return render(replace(case, comments=comments), include_narratives=True)


def _pages(pdf: bytes) -> list[LTPage]:
    return list(extract_pages(BytesIO(pdf)))


def _characters(page: LTPage) -> list[LTChar]:
    found: list[LTChar] = []
    pending: list[object] = list(page)
    while pending:
        item = pending.pop()
        if isinstance(item, LTChar):
            found.append(item)
        elif isinstance(item, LTTextContainer) or hasattr(item, "__iter__"):
            pending.extend(item)  # type: ignore[call-overload]
    return found


def test_the_report_renders_without_warnings(long_report: RenderedReport) -> None:
    assert [r.getMessage() for r in long_report.warnings] == []


def test_every_glyph_lies_inside_the_page(long_report: RenderedReport) -> None:
    outside = []
    for number, page in enumerate(_pages(long_report.pdf), start=1):
        width = page.width
        for char in _characters(page):
            if char.x0 < 0 or char.x1 > width - RIGHT_EDGE_SLACK:
                outside.append((number, char.get_text(), round(char.x1, 1)))
    assert not outside, f"{len(outside)} glyphs off the text column, e.g. {outside[:5]}"


def test_the_long_words_are_all_there(long_report: RenderedReport) -> None:
    # Wrapped lines join with spaces when read back; the words themselves are whole.
    text = flat_text(long_report.reader).replace(" ", "")
    assert text.count(WORD) >= 3  # the answer, the other answer, the comment, the notes
    assert text.count(URL) >= 3  # the answer, the comment, the notes
    assert text.count(NAME) >= 2  # the cover and its confidentiality line, the header


def test_the_organization_name_wraps_on_the_cover_and_in_the_header(
    long_report: RenderedReport,
) -> None:
    cover = long_report.reader.pages[0].extract_text().replace("\n", "")
    header = long_report.reader.pages[2].extract_text().replace("\n", "")
    assert NAME in cover
    assert NAME in header


def test_emoji_are_drawn_from_an_emoji_font(long_report: RenderedReport) -> None:
    fonts = set()
    for page in long_report.reader.pages:
        for font in page["/Resources"].get_object().get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    emoji_fonts = [f for f in fonts if "Emoji" in f]
    assert emoji_fonts, f"no emoji font among {sorted(fonts)}"
    drawn = [c for page in _pages(long_report.pdf) for c in _characters(page)]
    emoji = [c for c in drawn if c.get_text() in EMOJI]
    assert {c.get_text() for c in emoji} == set(EMOJI)
    assert all("Emoji" in c.fontname for c in emoji), {c.fontname for c in emoji}
    # Digits and spaces stay in the text font (an emoji font has glyphs for those too).
    digits = [c for c in drawn if c.get_text().isdigit()]
    assert digits
    assert not [c for c in digits if "Emoji" in c.fontname]
