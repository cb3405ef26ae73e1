"""Bulk work across organizations: assessment exports (CSV, XLSX) and batches of reports."""
