"""Secret hashing: scrypt round trip, constant-format parsing, clear rejections. Pure."""

from __future__ import annotations

import pytest

from jeeves.tokens.domain.secrets import SecretHash, b64url, b64url_decode, decoy_hash, hash_secret

pytestmark = pytest.mark.unit


def test_hash_matches_only_the_same_secret() -> None:
    stored = SecretHash.parse(hash_secret("correct horse battery staple", n=2**4))
    assert stored.matches("correct horse battery staple")
    assert not stored.matches("correct horse battery stapl")
    assert not stored.matches("")


def test_hash_is_salted_and_carries_its_parameters() -> None:
    first, second = (
        hash_secret("same-secret-value", n=2**4),
        hash_secret("same-secret-value", n=2**4),
    )
    assert first != second
    assert first.startswith("scrypt$16$8$1$")
    assert SecretHash.parse(first).encode() == first


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("plain-text-secret", "not a scrypt"),
        ("scrypt$16$8$1$c2FsdA", "not a scrypt"),
        ("scrypt$x$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "malformed"),
        ("scrypt$15$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "out of range"),
        ("scrypt$16$8$1$c2Fs$aGFzaGhhc2hoYXNoaGFzaA", "too short"),
    ],
)
def test_malformed_hashes_are_refused_without_echoing_them(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        SecretHash.parse(text)
    assert text not in str(caught.value)


def test_b64url_has_no_padding_and_round_trips() -> None:
    for data in (b"", b"a", b"ab", b"abc", b"\xff\xfe"):
        text = b64url(data)
        assert "=" not in text
        assert "+" not in text
        assert "/" not in text
        assert b64url_decode(text) == data


def test_decoy_hash_matches_nothing_guessable() -> None:
    assert not decoy_hash().matches("")
    assert decoy_hash() is decoy_hash()
