"""The baseline bench_submit.py compares against: FastAPI validating the same body, no more.

Served by uvicorn exactly like `smm serve` (one worker, same log level), so the ratio
between the two shows what the service adds: auth, organization lookup, answer checks,
scoring, the database transaction and the response.
"""

from __future__ import annotations

from fastapi import FastAPI, status

from app.intake.schemas import AssessmentCreate

app = FastAPI(title="smm-assess bench baseline")


@app.post("/v1/assessments", status_code=status.HTTP_201_CREATED)
def create(body: AssessmentCreate) -> dict[str, bool]:
    """Accept a valid AssessmentCreate body and store nothing."""
    return {"ok": True}
