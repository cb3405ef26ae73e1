"""The web form's fixtures (an invited organization, a visitor) and the CLI's environment."""

from tests.test_cli import env  # noqa: F401
from tests.web.conftest import app_settings, invite, invited, visitor  # noqa: F401
