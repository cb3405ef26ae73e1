"""A client of the fake provider for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.oidc import OidcClient
from tests.support.oidc import FakeOidcProvider


@pytest.fixture
def oidc_client(oidc_provider: FakeOidcProvider) -> Iterator[OidcClient]:
    with OidcClient(oidc_provider.settings()) as client:
        yield client
