"""The web form's fixtures (an invited organization, a visitor)."""

from tests.web.conftest import app_settings, invite, invited, visitor  # noqa: F401
