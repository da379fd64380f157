"""Masks that the other items of a grant cannot undo (issue #12, finding 7).

For every demo resource and every masked item of it, the worst grant is built: the item masked, every
other shareable item in clear but those masked by the same rule (a grant that gives 户主公民身份号码 in
clear hands over the head of household's number whatever the mask of 公民身份号码 shows: no mask can
help there, so such items stay masked alongside). The records are the demo's generated records of the
three loaded resources (人口, 低保, 企业), and records made from the demo's people generator for every
resource (its items filled by what they mean: number, birth date, sex, region, name). Each masked value
is attacked with what the same record shows in clear: any clear value that fits the mask, and for
公民身份号码 every number built from a clear region, birth date and sex with the sequence digits
brute-forced and the check digit computed. A value counts as recovered when exactly one candidate fits
and it is the value. Fewer than 0.1 % may be. The masks come from the data API's own path
(`Access.mask_rules`, `records.present`), and the export's Polars path must show the same."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime
from typing import Any

import polars as pl
import yaml

from govshare.auth.actor import Actor
from govshare.catalog.schemas import CatalogFile
from govshare.catalog.vocabulary import ShareType
from govshare.demo import sources
from govshare.demo.service import CATALOG_FILE
from govshare.models import ShareGrant
from govshare.sharing import access as acc
from govshare.sharing import records as rec
from govshare.sharing.access import PERSON, Access, ResourceMeta
from govshare.sharing.masking import mask_frame
from govshare.standards import validators

MAPPINGS = CATALOG_FILE.with_name("mappings")
APP = Actor(kind="application", name="attacker", id="1", department_id=1)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")


def _check(body: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


def _fits(masked: str, candidate: str) -> bool:
    return len(masked) == len(candidate) and all(
        m in ("*", c) for m, c in zip(masked, candidate, strict=True)
    )


def _id_candidates(masked: str, clear: list[Any], limit: int = 2) -> set[str]:
    """Numbers built from the record's clear region, birth date and sex that show as `masked`."""
    if len(masked) not in (15, 18):
        return set()
    texts = [str(v) for v in clear if v is not None]
    regions = {masked[:6]} if "*" not in masked[:6] else set()
    regions |= {t for t in texts if re.fullmatch(r"\d{6}", t)}
    births = set()
    for value in clear:
        if isinstance(value, date | datetime):
            births.add(value.strftime("%Y%m%d"))
        elif isinstance(value, str) and (found := _DATE.match(value)):
            births.add("".join(found.groups()))
    parities = {int(t) % 2 for t in texts if t in ("1", "2")} or {0, 1}
    found_: set[str] = set()
    for region, birth in itertools.product(regions, births):
        birth = birth if len(masked) == 18 else birth[2:]
        if not _fits(masked[: 6 + len(birth)], region + birth):
            continue
        start = 6 + len(birth)
        for digits in itertools.product("0123456789", repeat=3):
            sequence = "".join(digits)
            if int(sequence[-1]) % 2 not in parities:
                continue
            body = region + birth + sequence
            candidate = body + _check(body) if len(masked) == 18 else body
            if _fits(masked[start:], candidate[start:]):
                found_.add(candidate)
                if len(found_) >= limit:
                    return found_
    return found_


def recovered(original: Any, masked: Any, clear: list[Any], *, person: bool) -> bool:
    if original is None or not isinstance(masked, str) or "*" not in masked:
        return masked == original and original is not None
    candidates = {str(v) for v in clear if isinstance(v, str) and _fits(masked, v)}
    if person:
        candidates |= _id_candidates(masked, clear)
    return candidates == {str(original)}


def _grant(items: list[str], clear: list[str]) -> ShareGrant:
    return ShareGrant(items=items, clear_items=clear, row_scope={})


def _kind(item: Any) -> str:
    label = item.name
    if item.subject == PERSON or "证件号码" in label or "身份证明号码" in label:
        return "number"
    if "出生日期" in label or (item.data_type == "D" and "出生" in label):
        return "birth"
    if label.endswith("性别"):
        return "sex"
    if "行政区划" in label or label in ("出生地", "籍贯"):
        return "region"
    if item.mask_rule == "name" or label.endswith("姓名"):
        return "name"
    if "手机" in label or "电话" in label:
        return "mobile"
    if "地址" in label or "住址" in label:
        return "address"
    return "other"


def _synthetic(meta: ResourceMeta, people: pl.DataFrame) -> list[dict[str, Any]]:
    """Records of the resource made from demo people, each item filled by what it means. The k-th item of
    a kind (the second number, the second birth date: a guardian, a spouse) is the k-th person of the
    record, so the first number sits with the first birth date, sex and region (the worst case)."""
    everyone = people.to_dicts()
    rows = []
    for n in range(len(everyone)):
        row: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for name, item in meta.items.items():
            kind = _kind(item)
            k = seen[kind] = seen.get(kind, -1) + 1
            person = everyone[(n + 37 * k) % len(everyone)]
            number = person["公民身份号码"]
            row[name] = {
                "number": number,
                "birth": date.fromisoformat(person["出生日期"]),
                "sex": person["性别"],
                "region": number[:6],
                "name": person["姓名"],
                "mobile": f"13{(n + 37 * k) % len(everyone):09d}",
                "address": person["户籍地址"],
                "other": f"{name}={n}",
            }[kind]
        rows.append(row)
    return rows


def _metas() -> list[ResourceMeta]:
    """Every demo catalog resource as a data call sees it (items through `access.item_meta`)."""
    definitions = CatalogFile.model_validate(yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8")))
    metas = []
    for n, d in enumerate(definitions.resources):
        share = d.share.type.value
        items = {
            i.field: acc.item_meta(
                i.field,
                i.name,
                i.type.value,
                i.mask.value,
                i.share.value if i.share else share,
                is_key=i.key,
                standard_ref=i.standard or None,
            )
            for i in d.items
        }
        metas.append(ResourceMeta(n, f"R{n:03d}", d.name, n, 1, d.provider, d.provider, share, items))
    return metas


def _loaded() -> dict[str, list[dict[str, Any]]]:
    """The records the demo loads (人口, 低保, 企业), from its generators, by resource name: each mapped
    column renamed to its item (clean rows, sex coded 1/2, dates as ISO text)."""
    frames = {
        "ga_rkjbxx": sources.population_frame(3000, seed=5, faults=False),
        "mz_dbdx": sources.subsistence_frame(1000, seed=6, faults=False, sex_coding="gb"),
        "scjg_qydj": sources.legal_person_frame(500, seed=7, faults=False),
    }
    loaded = {}
    for stem, frame in frames.items():
        mapping = yaml.safe_load((MAPPINGS / f"{stem}.yaml").read_text(encoding="utf-8"))
        columns = {
            field: spec if isinstance(spec, str) else spec["from"]
            for field, spec in mapping["columns"].items()
        }
        picked = frame.select([pl.col(h).alias(f) for f, h in columns.items() if h in frame.columns])
        loaded[mapping["resource"]] = picked.to_dicts()
    return loaded


def _attack(meta: ResourceMeta, records: list[dict[str, Any]]) -> tuple[int, int, list[str]]:
    shareable = [f for f, i in meta.items.items() if i.share_type != ShareType.NONE]
    masked_items = [f for f in shareable if meta.items[f].mask_rule != "none"]
    tried = rebuilt = 0
    examples: list[str] = []
    for target in masked_items:
        rule = meta.items[target].mask_rule
        clear = [f for f in shareable if meta.items[f].mask_rule != rule]
        access = Access(APP, "op", "query", meta, _grant(shareable, clear), None)
        shown = rec.present(access, records)
        frame = mask_frame(
            pl.DataFrame([{target: r.get(target)} for r in records], schema={target: pl.String}),
            access.mask_rules,
            access.clear,
        )
        person = rule == "id_number"
        for original, out, vectorised in zip(records, shown, frame[target], strict=True):
            value = original.get(target)
            if value is None:
                continue
            assert out[target] == vectorised, (meta.code, target)  # the export path agrees
            clear = [out[f] for f in shareable if f != target]
            tried += 1
            if recovered(value, out[target], clear, person=person):
                rebuilt += 1
                if len(examples) < 3:
                    examples.append(f"{meta.code}.{target}: {out[target]}")
    return tried, rebuilt, examples


def test_masks_cannot_be_undone_by_the_clear_items_of_any_demo_resource() -> None:
    people = sources.population_frame(120, seed=11, faults=False)
    loaded = _loaded()
    tried = rebuilt = resources = 0
    examples: list[str] = []
    for meta in _metas():
        if not any(i.mask_rule != "none" for i in meta.items.values()):
            continue
        resources += 1
        for records in (loaded.get(meta.name, []), _synthetic(meta, people)):
            t, r, e = _attack(meta, records)
            tried, rebuilt, examples = tried + t, rebuilt + r, examples + e
    assert len(loaded) == 3 and resources > 30 and tried > 10_000
    assert rebuilt / tried < 0.001, f"{rebuilt} of {tried} masked values rebuilt, e.g. {examples[:5]}"


def test_the_attack_rebuilds_a_number_whose_mask_hides_only_the_birth_date() -> None:
    """The attacker of this file is real: it undoes the old mask (`110105********0123`)."""
    number = "110105" + "19900307" + "123"
    number += _check(number)
    assert validators.id_number(number).ok
    old_mask = number[:6] + "*" * 8 + number[-4:]
    assert recovered(number, old_mask, [date(1990, 3, 7), "1"], person=True)
    assert not recovered(number, number[:6] + "*" * 12, [date(1990, 3, 7), "1"], person=True)
