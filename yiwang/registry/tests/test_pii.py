import datetime as dt

import pytest
from cryptography.exceptions import InvalidTag
from django.core.exceptions import ValidationError
from django.test import override_settings

from yiwang.core import pii


def test_known_valid_id_number_passes_and_yields_birth_and_gender():
    info = pii.validate_id_number("11010519491231002X")
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.gender == "F"
    assert info.region == "110105"


@pytest.mark.parametrize("value,code", [
    ("11010519491231002", "id_format"),
    ("110105194912310021", "id_check"),
    ("110105194902300021", "id_birth"),
    ("990105194912310021", "id_region"),
    ("110105299912310021", "id_birth"),
])
def test_bad_id_numbers_are_refused_with_the_reason(value, code):
    with pytest.raises(ValidationError) as exc:
        pii.validate_id_number(value)
    assert exc.value.code == code


def test_made_id_numbers_validate_and_carry_gender():
    number = pii.make_id_number("141102", dt.date(2015, 3, 9), 42, "M")
    assert pii.validate_id_number(number).gender == "M"
    assert pii.validate_id_number(pii.make_id_number("141102", dt.date(2015, 3, 9), 42, "F")).gender == "F"


def test_encryption_round_trips_and_is_not_deterministic():
    a, b = pii.encrypt("13812345678"), pii.encrypt("13812345678")
    assert a != b and "13812345678" not in a
    assert pii.decrypt(a) == pii.decrypt(b) == "13812345678"


def test_hash_is_keyed_deterministic_and_namespaced():
    h = pii.search_hash("13812345678", kind="phone")
    assert h == pii.search_hash("13812345678", kind="phone")
    assert h != pii.search_hash("13812345678", kind="id")
    with override_settings(YIWANG_FIELD_KEY="another key"):
        assert pii.search_hash("13812345678", kind="phone") != h


def test_ciphertext_from_another_key_does_not_decrypt():
    token = pii.encrypt("secret")
    with override_settings(YIWANG_FIELD_KEY="another key"), pytest.raises(InvalidTag):
        pii.decrypt(token)


def test_masks():
    assert pii.mask_id_number("110105194912310021") == "110105********0021"
    assert pii.mask_phone("138 1234 5678") == "138****5678"
    assert pii.mask_phone("+86 13812345678") == "138****5678"
    assert pii.mask_name("欧阳娜娜") == "欧**娜"


def test_phone_validation():
    assert pii.validate_phone("138-1234-5678") == "13812345678"
    with pytest.raises(ValidationError):
        pii.validate_phone("12")
