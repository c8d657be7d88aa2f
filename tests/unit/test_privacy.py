"""Masking of contact names and phone numbers (app/privacy.py)."""

from __future__ import annotations

import pytest

from app.privacy import mask_name, mask_phone


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+86 13812345678", "138****5678"),
        ("0371-67891234", "0371-****1234"),
        ("(0371)67891234", "0371-****1234"),
        ("037167891234", "0371-****1234"),
        ("010-12345678", "010-****5678"),
        ("0371-6789123", "0371-***9123"),
        ("67891234", "****1234"),
        ("123", "***"),
        ("暂无", "暂无"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(phone: str | None, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_mask_phone_never_shows_the_middle_digits() -> None:
    assert "1234" not in mask_phone("13812345678")
    assert "6789" not in mask_phone("0371-67891234")


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        (" 李四 ", "李*"),
        ("张", "张"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(name: str | None, masked: str) -> None:
    assert mask_name(name) == masked
