"""Logs and metrics: JSON log lines with request and job ids, Prometheus metrics."""

from app.observability.logs import configure_logging, current_context, log_context, logging_config

__all__ = ["configure_logging", "current_context", "log_context", "logging_config"]
