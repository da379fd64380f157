"""引导登记的服务动作: the guarded actions behind registering a file source from a sample file.

The portal's two-step form and the API call these; the pure work (reading the sample, pre-selecting columns,
value maps, building the mapping) is in `guided.py`. Reading a sample is an action of its own, under
collection:run for the resource's provider, as every other upload is: a person who may not collect into a
resource cannot make the node parse a file for it. The mapping built from the choices is registered by
`service.register_source`, which checks it against the catalog again.
"""

from __future__ import annotations

from typing import IO, Any

from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.collection import guided, policies
from govshare.collection.guided import ItemRow, Sample
from govshare.collection.plan import STANDARD_VALIDATORS
from govshare.collection.policies import RUN
from govshare.collection.schemas import GuidedSampleOut
from govshare.collection.service import _published
from govshare.core.node import node_config
from govshare.errors import GovshareError, InvalidInput
from govshare.models import CodeSet, ResourceVersion
from govshare.standards import service as standards
from govshare.standards.validators import CodeTable


def _catalog_items(version: ResourceVersion) -> list[dict[str, Any]]:
    """The version's items as its catalog definition lists them (field, name, type, key, nullable,
    standard): what `guided` reads."""
    return [
        {
            "field": item.field_name,
            "name": item.name,
            "type": item.data_type,
            "key": item.is_key,
            "nullable": item.nullable,
            "standard": item.standard_ref,
        }
        for item in sorted(version.items, key=lambda item: item.position)
    ]


@action(RUN)
def read_sample(
    session: Session, actor: Actor, resource: str, file: IO[bytes], filename: str
) -> GuidedSampleOut:
    """The header and first rows of a sample file for a published resource the actor collects into, with
    the column pre-selected for each item (header = the item's Chinese name or field code). The caller caps
    the upload's size; the readers' own limits (a workbook's unpacked size) apply. Raises
    `collection.readers.SourceUnreadable` for a file that cannot be read."""
    found, version = _published(session, resource)
    policies.check(actor, RUN, found.department_id, "collection.guided_sample", found.code or "")
    kind = guided.sample_kind(filename)
    if kind is None:
        allowed = "、".join(guided.SAMPLE_KINDS)
        raise InvalidInput.on("file", f"样例文件须为 {allowed} 文件（数据库和推送型数据源请用映射登记）")
    items = _catalog_items(version)
    work_dir = node_config(session).work_dir
    sample = guided.read_sample(file, filename, kind, guided.expected_headers(items), work_dir)
    return GuidedSampleOut(sample=sample, suggested=guided.preselect(items, sample.columns))


def _code_table(session: Session, actor: Actor, standard: str) -> CodeTable | None:
    """The code set an item's standard names (directly, or through a data element), as the `code`
    validator reads it; None for an item bound to no code set (GB 11643 and GB 32100 name validators)."""
    reference = standard.strip()
    if not reference or reference in STANDARD_VALIDATORS:
        return None
    found = standards.resolve_standard_ref(session, actor, reference)
    code_set = found if isinstance(found, CodeSet) else getattr(found, "code_set", None)
    if not isinstance(code_set, CodeSet):
        return None
    try:
        return standards.code_table(session, actor, code_set.code, include_abolished=True)
    except GovshareError:  # no version in force: the item can still be mapped, without a value map
        return None


@action(RUN)
def item_rows(
    session: Session,
    actor: Actor,
    items: list[dict[str, Any]],
    sample: Sample,
    choices: dict[str, str] | None,
    maps: dict[str, str],
) -> list[ItemRow]:
    """One row per catalog item (`guided.item_rows`), each with the code set its value map must name."""
    return guided.item_rows(
        items, sample, choices, maps, lambda standard: _code_table(session, actor, standard)
    )
