"""Roadmaps and reports for stored assessments: planning inputs, the report cache, jobs."""
