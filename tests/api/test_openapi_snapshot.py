"""The OpenAPI document is byte for byte the published one.

Generated clients, schema diffs in partners' pipelines and the docs pages all read this
document; a change to it is a change to the public contract and must be deliberate. When
it is, regenerate the snapshot with ``SMM_UPDATE_OPENAPI_SNAPSHOT=1`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi.json"


def test_the_openapi_document_is_byte_identical_to_the_published_snapshot(
    client: TestClient,
) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    if os.environ.get("SMM_UPDATE_OPENAPI_SNAPSHOT"):
        SNAPSHOT.write_bytes(response.content)
    assert response.content == SNAPSHOT.read_bytes(), (
        "the OpenAPI document changed; if that is intended, regenerate "
        f"{SNAPSHOT.name} with SMM_UPDATE_OPENAPI_SNAPSHOT=1 and review the diff"
    )
