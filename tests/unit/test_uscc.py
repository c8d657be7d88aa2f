"""Tests for app.uscc: normalisation, GB 32100 check digit, rejections and warnings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import uscc
from app.errors import ValidationError

VALID = ["914403001922038216", "91440300708461136T", "91350100M000100Y43"]


@pytest.mark.parametrize("code", VALID)
def test_known_codes_accepted_without_warnings(code: str) -> None:
    result = uscc.validate(code)
    assert result == uscc.UsccResult(code, ())
    assert uscc.is_valid(code)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("９１４４０３００１９２２０３８２１６", "914403001922038216"),
        ("91440300708461136t", "91440300708461136T"),
        (" 9144 0300 7084 6113 6T ", "91440300708461136T"),
        ("\t9144\u3000030070846\n1136t\u200b", "91440300708461136T"),
        ("９１３５０１００ｍ０００１００ｙ４３", "91350100M000100Y43"),
    ],
)
def test_normalised_forms_pass(raw: str, expected: str) -> None:
    assert uscc.normalize(raw) == expected
    assert uscc.validate(raw).code == expected


@pytest.mark.parametrize("first", ["1", "5", "9", "A", "N", "Y"])
def test_any_registration_authority_first_char_accepted(first: str) -> None:
    code = uscc.make(first + "1410100MA0000000"[:16])
    assert code[0] == first
    assert uscc.validate(code).code == code


def test_check_digit_and_make() -> None:
    assert uscc.check_digit("91440300708461136") == "T"
    assert uscc.check_digit("91350100M000100Y4") == "3"
    assert uscc.make("91440300192203821") == "914403001922038216"
    with pytest.raises(ValidationError):
        uscc.check_digit("9144030070846113")
    with pytest.raises(ValidationError):
        uscc.check_digit("9144030070846113I")


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", None])
def test_empty_rejected(raw: str) -> None:
    with pytest.raises(ValidationError) as exc:
        uscc.validate(raw)
    assert exc.value.message == "统一社会信用代码不能为空"
    assert exc.value.field == "uscc"


def test_wrong_length_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        uscc.validate("91440300708461136")
    assert "17位" in exc.value.message and "18位" in exc.value.message
    assert exc.value.field == "uscc"
    with pytest.raises(ValidationError, match="19位"):
        uscc.validate("91440300708461136T1")


def test_wrong_check_digit_names_expected_char() -> None:
    with pytest.raises(ValidationError) as exc:
        uscc.validate("914403001922038217")
    assert "第18位应为“6”" in exc.value.message
    assert exc.value.field == "uscc"
    assert not uscc.is_valid("914403001922038217")


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_forbidden_letters_rejected(letter: str) -> None:
    code = "9144030070846113" + letter + "T"
    with pytest.raises(ValidationError) as exc:
        uscc.validate(code)
    message = exc.value.message
    assert f"第17位“{letter}”" in message
    assert "I、O、S、V、Z" in message
    assert not uscc.is_valid(code)


def test_illegal_punctuation_named_with_position() -> None:
    with pytest.raises(ValidationError, match="第5位“-”"):
        uscc.validate("9144-300708461136T")


def test_org_code_check_failure_only_warns() -> None:
    # Positions 9-17 "192203820" fail GB 11714 (should end in 1); fix the 18th char so GB 32100 passes.
    code = uscc.make("91440300192203820")
    result = uscc.validate(code)
    assert result.code == code
    assert len(result.warnings) == 1
    assert "组织机构代码" in result.warnings[0] and "19220382-0" in result.warnings[0]


def test_org_code_check_values() -> None:
    assert uscc.org_code_check("19220382") == "1"
    assert uscc.org_code_check("70846113") == "6"
    assert uscc.org_code_check("M000100Y") == "4"


def test_region_codes_prefix_match_and_warning() -> None:
    zz = uscc.make("91410105MA0000007")  # 郑州 金水区, organisation code MA000000-7
    assert uscc.validate(zz, region_codes=["4101"]).warnings == ()
    assert uscc.validate(zz, region_codes=["410102", "410105"]).warnings == ()
    assert uscc.validate(zz, region_codes=[]).warnings == ()
    result = uscc.validate("914403001922038216", region_codes=["4101"])
    assert len(result.warnings) == 1
    assert "440300" in result.warnings[0]


_chars17 = st.text(alphabet=uscc.ALPHABET, min_size=17, max_size=17)


@given(_chars17)
def test_make_always_validates(first17: str) -> None:
    code = uscc.make(first17)
    assert len(code) == 18
    assert uscc.validate(code).code == code


@given(_chars17, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=30))
def test_single_substitution_detected(first17: str, pos: int, shift: int) -> None:
    code = uscc.make(first17)
    new_char = uscc.ALPHABET[(uscc.ALPHABET.index(code[pos]) + shift) % 31]
    changed = code[:pos] + new_char + code[pos + 1 :]
    assert changed != code
    assert not uscc.is_valid(changed)
    with pytest.raises(ValidationError):
        uscc.validate(changed)
