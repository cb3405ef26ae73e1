"""The console's templates (autoescaped), which may use the form's macros and assets."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

from app.web import templating as web

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.loader = ChoiceLoader(
    [FileSystemLoader(HERE / "templates"), FileSystemLoader(web.HERE / "templates")]
)
templates.env.globals["asset_version"] = web.templates.env.globals["asset_version"]
