"""Pinyin initials: the cached word-by-word reading gives exactly what pypinyin gives for the whole text."""

from __future__ import annotations

import random

from pypinyin import Style, lazy_pinyin

from app.textsearch import initials

WORDS = "重庆长沙银行行业乐器音乐单县朝阳调度都市会计还款参差长春重量华瑞恒通达信兴泰宏昌科创新材智能精密机械电子食品物流"


def whole_text(text: str) -> str:
    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER) if p).lower()


def test_initials_match_pypinyin_on_the_whole_name():
    rnd = random.Random(7)
    names = ["郑州" + "".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 8))) + rnd.choice(("有限公司", "银行", "重工"))
             for _ in range(3000)]
    names += ["重庆银行郑州分行", "长沙行业协会", "郑州宇通客车股份有限公司", "朝阳调度中心"]
    assert [initials(n) for n in names] == [whole_text(n) for n in names]
    assert initials("重庆银行") == "cqyh" and initials("重量") == "zl" and initials("ABC 公司") == "abcgs"
