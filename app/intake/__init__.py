"""Intake: check answers against the exact questionnaire version, and store assessments."""
