"""Earlier import path of the report wing (``app.reports``): re-exports only."""
