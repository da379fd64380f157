"""The shipped code sets, read through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope
from govshare.core.db import Database
from govshare.models import CodeSetVersion
from govshare.standards import service, validators
from govshare.standards.policies import current_version, key_of

READER = Actor(kind="user", name="reader", grants={Permission.CATALOG_READ: Scope.ALL})

# GB 3304-1991, table 3 (numeric order), as published.
GB3304 = [
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
]


def _all_codes(db: Database, code: str, **options: object) -> list[tuple[str, str]]:
    with db.transaction(readonly=True) as session:
        page = service.list_codes(session, READER, code, limit=1000, **options)  # type: ignore[arg-type]
        return [(c.code, c.label) for c in page.items]


def test_the_shipped_code_sets(db: Database) -> None:
    with db.transaction(readonly=True) as session:
        sets = {s.code: s for s in service.list_code_sets(session, READER)}
    assert set(sets) >= {"GB-T-2261.1", "GB-T-2261.2", "GB-3304", "GB-T-2260"}
    assert all(sets[c].is_builtin for c in ("GB-T-2261.1", "GB-T-2261.2", "GB-3304", "GB-T-2260"))
    assert sets["GB-3304"].standard == "GB 3304-1991"
    assert sets["GB-T-2260"].current_version == "2025"


def test_sex_and_marital_status(db: Database) -> None:
    assert _all_codes(db, "GB-T-2261.1") == [
        ("0", "未知的性别"),
        ("1", "男性"),
        ("2", "女性"),
        ("9", "未说明的性别"),
    ]
    assert _all_codes(db, "GB/T 2261.2") == [
        ("10", "未婚"),
        ("20", "已婚"),
        ("21", "初婚"),
        ("22", "再婚"),
        ("23", "复婚"),
        ("30", "丧偶"),
        ("40", "离婚"),
        ("90", "未说明的婚姻状况"),
    ]
    with db.transaction(readonly=True) as session:
        remarried = service.lookup_code(session, READER, "GB-T-2261.2", "再婚")
    assert [(c.code, c.parent_code) for c in remarried] == [("22", "20")]


def test_ethnic_groups_in_the_standards_order(db: Database) -> None:
    codes = _all_codes(db, "GB-3304")
    assert len(codes) == 58
    assert codes[:56] == [(f"{i:02d}", name) for i, name in enumerate(GB3304, start=1)]
    assert codes[56:] == [("97", "其他"), ("98", "外国血统中国籍人士")]
    with db.transaction(readonly=True) as session:
        han = service.lookup_code(session, READER, "GB-3304", "01")[0]
    assert han.attributes == {"roman": "Han", "letter_code": "HA"}


def test_divisions_carry_abolished_codes_with_their_validity(db: Database) -> None:
    with db.transaction(readonly=True) as session:
        chongwen = service.lookup_code(session, READER, "GB-T-2260", "110103")
        xiangfan = service.lookup_code(session, READER, "GB-T-2260", "420600")
        haidian = service.lookup_code(session, READER, "GB-T-2260", "110108")[0]
        everything = service.list_codes(session, READER, "GB-T-2260", limit=1000)
        in_force = service.list_codes(session, READER, "GB-T-2260", at=date(2025, 6, 1), limit=1000)
        in_1990 = service.list_codes(session, READER, "GB-T-2260", at=date(1990, 6, 1), query="1101")
        sets = {s.code: s for s in service.list_code_sets(session, READER)}
    # 崇文区 was merged into 东城区 in 2010: the code stays, with the date it left the table.
    assert [(c.label, c.valid_to) for c in chongwen] == [("崇文区", date(2010, 12, 31))]
    # 襄樊市 was renamed 襄阳市 under the same code: two rows, one period each.
    assert [(c.label, c.valid_to is None) for c in xiangfan] == [("襄樊市", False), ("襄阳市", True)]
    assert xiangfan[0].valid_to == xiangfan[1].valid_from
    assert (haidian.label, haidian.parent_code, haidian.valid_to) == ("海淀区", "110000", None)
    assert everything.next_after is not None  # thousands of rows: paged
    assert in_force.items[0].code == "110000"
    assert "110103" in {c.code for c in in_1990.items}
    version = next(v for v in sets["GB-T-2260"].versions if v.is_current)
    assert version.code_count > 7000
    with db.transaction(readonly=True) as session:
        current = service.code_table(session, READER, "GB-T-2260", at=date(2025, 6, 1))
        historical = service.code_table(session, READER, "GB-T-2260", include_abolished=True)
    assert 3000 < len(current.codes) < 3300
    assert "110103" not in current.codes and "110103" in historical.codes
    assert validators.in_code_set("110103", current).error == "code.unknown"
    assert validators.in_code_set("110103", historical).value == "110103"
    assert validators.in_code_set("北京市", current).value == "110000"


def test_membership_tables_accept_names_and_letter_codes(db: Database) -> None:
    with db.transaction(readonly=True) as session:
        sex = service.code_table(session, READER, "GB-T-2261.1")
        ethnic = service.code_table(session, READER, "GB-3304")
    assert [validators.in_code_set(x, sex).value for x in ("1", "男", "男性", "女", "2")] == [
        "1",
        "1",
        "1",
        "2",
        "2",
    ]
    assert [validators.in_code_set(x, ethnic).value for x in ("1", "01", "汉族", "HA", "98")] == [
        "01",
        "01",
        "01",
        "01",
        "98",
    ]


def test_the_current_version_is_the_newest_in_effect() -> None:
    def version(
        number: int, name: str, valid_from: date | None, valid_to: date | None = None
    ) -> CodeSetVersion:
        v = CodeSetVersion(version=name, valid_from=valid_from, valid_to=valid_to, created_by="t")
        v.id = number
        return v

    old = version(1, "2019", date(2019, 1, 1))
    new = version(2, "2024", date(2024, 1, 1))
    future = version(3, "2030", date(2030, 1, 1))
    withdrawn = version(4, "2025", date(2025, 1, 1), date(2025, 6, 1))
    today = date(2026, 1, 1)
    assert current_version([old, new, future, withdrawn], today) is new
    assert current_version([old, future], date(2031, 1, 1)) is future
    assert current_version([future], today) is None
    assert current_version([version(5, "a", None), version(6, "b", None)], today).version == "b"  # type: ignore[union-attr]
    assert key_of("GB/T 2261.1") == "GB-T-2261.1"
    assert key_of("GB 3304") == "GB-3304"
