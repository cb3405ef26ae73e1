"""Sealing invitation links for the sender: encrypted, with a key of their own.

The key is derived (HKDF-SHA256, with a label of its own) from the service's secret key,
so it differs from the key that signs the links and from any other key derived from it,
and a copy of the database without the secret key cannot read a sealed link.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_LABEL = b"smm-assess mail: sealed invitation links v1"


class SealBroken(Exception):
    """A sealed link that this key cannot open (the secret key changed, or the data did)."""


def _fernet(signing_key: bytes) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(signing_key)
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(signing_key: bytes, link: str) -> str:
    """``link`` encrypted and authenticated with the key derived from ``signing_key``."""
    return _fernet(signing_key).encrypt(link.encode()).decode()


def unseal(signing_key: bytes, sealed: str) -> str:
    """The link a ``seal`` made; SealBroken when this key did not seal it."""
    try:
        return _fernet(signing_key).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise SealBroken("the sealed link cannot be opened with this secret key") from exc
