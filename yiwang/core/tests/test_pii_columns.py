"""core.pii.sealed_columns / lookup_hash: the stored shape of a personal-data value, shared by every app."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from yiwang.core import pii


def test_a_phone_becomes_ciphertext_hash_and_masked_copy_of_its_normalised_form():
    columns = pii.sealed_columns("reporter_phone", "+86 139-1234-5678", kind="phone")
    assert set(columns) == {"reporter_phone_cipher", "reporter_phone_hash", "reporter_phone_masked"}
    assert "13912345678" not in columns["reporter_phone_cipher"]
    assert pii.decrypt(columns["reporter_phone_cipher"]) == "13912345678"
    assert columns["reporter_phone_hash"] == pii.search_hash("13912345678", kind="phone")
    assert columns["reporter_phone_masked"] == "139****5678"
    again = pii.sealed_columns("reporter_phone", "13912345678", kind="phone")
    assert again["reporter_phone_hash"] == columns["reporter_phone_hash"]  # exact search works
    assert again["reporter_phone_cipher"] != columns["reporter_phone_cipher"]  # random nonce


def test_an_id_number_is_sealed_in_its_own_hash_namespace():
    columns = pii.sealed_columns("id", "110105194912310021 ", kind="id")
    assert pii.decrypt(columns["id_cipher"]) == "110105194912310021"
    assert columns["id_masked"] == "110105********0021"
    assert columns["id_hash"] == pii.lookup_hash("110105194912310021", kind="id")
    assert columns["id_hash"] != pii.lookup_hash("110105194912310021", kind="phone")


def test_lookup_hash_normalises_what_was_typed():
    assert pii.lookup_hash("0086 139 1234 5678", kind="phone") == pii.lookup_hash("13912345678", kind="phone")
    assert pii.lookup_hash("11010519491231002x", kind="id") == pii.lookup_hash("11010519491231002X", kind="id")


@override_settings(YIWANG_FIELD_KEY="")
def test_empty_values_need_no_key_but_real_ones_do():
    assert pii.sealed_columns("phone", "", kind="phone") == {"phone_cipher": "", "phone_hash": "", "phone_masked": ""}
    with pytest.raises(ImproperlyConfigured):
        pii.sealed_columns("phone", "13912345678", kind="phone")
