"""Opaque ids: every id has exactly one spelling, and anything else names nothing.

Property tests: a few examples by default (the suite stays fast); set
KABINET_HYPOTHESIS_EXAMPLES=2000 for a thorough run."""

from __future__ import annotations

import base64
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from services.core.ids import decode_id, encode_id

EXAMPLES = int(os.environ.get("KABINET_HYPOTHESIS_EXAMPLES", "60"))
KINDS = st.sampled_from(["Account", "Meter", "MeterReading", "Question", "Attachment"])
PKS = st.integers(min_value=0, max_value=10**18 - 1)


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@settings(max_examples=EXAMPLES, deadline=None)
@given(KINDS, PKS)
def test_an_id_decodes_to_its_key(kind: str, pk: int) -> None:
    assert decode_id(kind, encode_id(kind, pk)) == pk


@settings(max_examples=EXAMPLES, deadline=None)
@given(KINDS, PKS, st.text(max_size=110))
def test_only_the_canonical_spelling_decodes(kind: str, pk: int, value: str) -> None:
    """Whatever string decodes, it is the id `encode_id` makes of what it decodes to."""
    found = decode_id(kind, value)
    if found is not None:
        assert value == encode_id(kind, found)


@settings(max_examples=EXAMPLES, deadline=None)
@given(KINDS, PKS, st.integers(min_value=0), st.sampled_from(["!", "*", " ", "\n", ".", "é"]))
def test_a_character_outside_the_alphabet_spoils_the_id(
    kind: str, pk: int, at: int, junk: str
) -> None:
    canonical = encode_id(kind, pk)
    where = at % (len(canonical) + 1)
    assert decode_id(kind, canonical[:where] + junk + canonical[where:]) is None


def test_other_spellings_of_one_id_name_nothing() -> None:
    """Each of these decoded to Meter 12 before."""
    canonical = encode_id("Meter", 12)
    assert decode_id("Meter", canonical) == 12
    spellings = [
        canonical + "=",  # padding
        canonical[:4] + "!" + canonical[4:],  # a character base64 skips
        canonical[:4] + "\n" + canonical[4:],
        b64("Meter:012"),  # a leading zero
        b64("Meter:\u0661\u0662").rstrip("="),  # Arabic-Indic digits 1 2
        b64("Meter:\uff11\uff12").rstrip("="),  # fullwidth digits
        base64.b64encode(b"Meter:12").decode(),  # standard alphabet with its padding
    ]
    for spelling in spellings:
        assert decode_id("Meter", spelling) is None, spelling
    assert decode_id("Meter", encode_id("Account", 12)) is None
    for nothing in (None, "", "x" * 101):
        assert decode_id("Meter", nothing) is None
