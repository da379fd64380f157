"""Hostile files (issue #12). Workbooks (finding 6): a 155 KB .xlsx whose sharedStrings.xml unpacks to
150 MB took a node from 343 MB to 3.4 GB through the guided-source sample upload. Every path that reads
a workbook refuses it before a parser opens it: the guided sample, the portal upload, reprocess (portal
and API), the code-set import and the catalog Excel import. Each test checks the Chinese refusal naming
the file and that the process's peak memory did not grow by anything like the unpacked size. On SQLite
and PostgreSQL.

File modes (finding 15): the data directory, the SQLite database and its -wal/-shm, uploads and generated
downloads are private to the node's user (0700 / 0600), also when an earlier version left them 0755/0644.
"""

from __future__ import annotations

import html
import io
import os
import re
import resource
import stat
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.datastructures import UploadFile

from govshare.collection.portal.uploads import save_upload
from govshare.collection.readers.base import ReaderOptions, SourceUnreadable
from govshare.collection.readers.files import open_file
from govshare.core import migrations
from govshare.core.archives import OLE2_MAGIC, WorkbookLimits, WorkbookRefused, check_workbook
from govshare.core.db import Database, tighten_directory
from govshare.settings import Settings
from govshare.standards import importing
from tests import factories
from tests.collection.helpers import setup
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET
from tests.opendata import helpers as opendata
from tests.sharing.helpers import resource_code
from tests.web.portal_helpers import HTML, page, portal_login, token
from tests.web.test_portal_collection import FILE_MAPPING, RESOURCE, batch_of, register, upload

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOMB_MB = 150
BOMB_MESSAGE = "疑似压缩炸弹，已拒绝"
MAX_GROWTH_KB = 100 * 1024  # the bomb unpacks to 150 MB; parsing it took gigabytes


_SHARED = {
    "[Content_Types].xml": (
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" /></Types>',
    ),
    "xl/_rels/workbook.xml.rels": (
        b"</Relationships>",
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'sharedStrings" Target="sharedStrings.xml" Id="rId9" /></Relationships>',
    ),
    "xl/worksheets/sheet1.xml": (
        b"</sheetData>",
        b'<row r="3"><c r="A3" t="s"><v>0</v></c></row></sheetData>',
    ),
}


def make_bomb(megabytes: int = BOMB_MB) -> bytes:
    """A real workbook whose sharedStrings.xml is `megabytes` MB of one repeated character, written as a
    stream so the test itself never holds the unpacked text."""
    source = zipfile.ZipFile(io.BytesIO(factories.xlsx_bytes([["代码", "名称"], ["1", "男"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for info in source.infolist():  # the workbook refers to the shared strings, as Excel writes it
            bomb.writestr(info, source.read(info).replace(*_SHARED.get(info.filename, (b"", b""))))
        with bomb.open("xl/sharedStrings.xml", "w") as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8"?>')
            part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>')
            block = b"A" * (1 << 20)
            for _ in range(megabytes):
                part.write(block)
            part.write(b"</t></si></sst>")
    return out.getvalue()


def lying(data: bytes, name: str, declared: int) -> bytes:
    """`data` with the unpacked size of entry `name` rewritten to `declared` in its local header and in the
    central directory: the headers lie, the deflate stream is unchanged."""
    patched = bytearray(data)
    encoded = name.encode()
    central = patched.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", patched, central + 28)[0]
        if patched[central + 46 : central + 46 + name_length] == encoded:
            struct.pack_into("<I", patched, central + 24, declared)
            local = struct.unpack_from("<I", patched, central + 42)[0]
            struct.pack_into("<I", patched, local + 22, declared)
        central = patched.find(b"PK\x01\x02", central + 4)
    return bytes(patched)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = make_bomb()
    assert len(data) < 400 * 1024  # a few hundred KB on the wire, as in the finding
    return data


@contextmanager
def bounded_memory() -> Iterator[None]:
    """The block must not raise the process's peak resident memory by anything like the unpacked size."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < MAX_GROWTH_KB, f"peak memory grew by {grown // 1024} MB"


# ---------------------------------------------------------------- the check itself


def test_the_check_refuses_each_kind_of_bomb_before_parsing(bomb: bytes, tmp_path: Path) -> None:
    limits = WorkbookLimits()
    honest = factories.xlsx_bytes([["代码", "名称"]] + [[str(i), f"名称{i}"] for i in range(40_000)])
    check_workbook(honest, limits)  # a real workbook passes
    check_workbook(b"code,label\n1,a\n", limits)  # not a workbook: left to the parser
    with bounded_memory():
        ratio = re.escape("“xl/sharedStrings.xml”压缩比超过 100 倍，疑似压缩炸弹")
        with pytest.raises(WorkbookRefused, match=ratio):
            check_workbook(bomb, limits, name="人口.xlsx")
        # past the unpacked limit even at a modest ratio
        too_big = re.escape("文件“人口.xlsx”解压后超过 1 MB，疑似压缩炸弹，已拒绝")
        with pytest.raises(WorkbookRefused, match=too_big):
            check_workbook(honest, WorkbookLimits(max_unpacked_bytes=1024 * 1024), name="人口.xlsx")
        with pytest.raises(WorkbookRefused, match="解压后超过 256 MB"):
            check_workbook(make_bomb(300), WorkbookLimits(max_ratio=100_000), name="人口.xlsx")
        with pytest.raises(WorkbookRefused, match="个压缩条目，超过 5 个的上限"):
            check_workbook(honest, WorkbookLimits(max_entries=5), name="人口.xlsx")
        # the headers lie: 1 KB declared, 150 MB in the stream; refused after at most the declared bytes
        with pytest.raises(WorkbookRefused, match=re.escape("文件“人口.xlsx”已损坏或不完整")):
            check_workbook(lying(bomb, "xl/sharedStrings.xml", 1024), limits, name="人口.xlsx")
    # an .xls (OLE2, not compressed) is capped by its size; a path is named by its file name
    xls = tmp_path / "旧表.xls"
    xls.write_bytes(OLE2_MAGIC + bytes(2 * 1024 * 1024))
    check_workbook(xls, limits)
    with pytest.raises(WorkbookRefused, match=re.escape("文件“旧表.xls”超过 1 MB，已拒绝")):
        check_workbook(xls, WorkbookLimits(max_unpacked_bytes=1024 * 1024))


def test_the_limits_are_the_nodes_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from govshare.settings import get_settings

    honest = tmp_path / "a.xlsx"
    honest.write_bytes(factories.xlsx_bytes([["代码"]] * 50))
    monkeypatch.setenv("GOVSHARE_XLSX_MAX_ENTRIES", "3")
    get_settings.cache_clear()
    try:
        with pytest.raises(WorkbookRefused, match="超过 3 个的上限"):
            check_workbook(honest)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_the_collection_reader_refuses_before_calamine(bomb: bytes, tmp_path: Path) -> None:
    path = tmp_path / "人口.xlsx"
    path.write_bytes(bomb)
    with bounded_memory(), pytest.raises(SourceUnreadable, match=f"文件“人口\\.xlsx”.*{BOMB_MESSAGE}"):
        open_file(path, "xlsx", ReaderOptions())


def test_the_code_set_reader_refuses_before_openpyxl(bomb: bytes) -> None:
    with bounded_memory(), pytest.raises(importing.UnreadableFile, match=BOMB_MESSAGE):
        importing.read_table(bomb)


# ---------------------------------------------------------------- every path a person or a program uses


def test_the_guided_sample_upload_refuses_a_bomb(client: TestClient, db: Database, bomb: bytes) -> None:
    setup(db)
    portal_login(client, "ga.steward")
    start = page(client, "/collection/sources/guided")
    with bounded_memory():
        refused = client.post(
            "/collection/sources/guided",
            data={
                "name": "人口月报表",
                "update_cycle": "monthly",
                "resource": resource_code(db, RESOURCE),
                "csrf_token": token(start),
            },
            files={"file": ("人口样例.xlsx", bomb, XLSX)},
            headers=HTML,
            follow_redirects=False,
        )
    text = html.unescape(refused.text)
    assert refused.status_code == 422, text
    assert "文件“人口样例.xlsx”" in text and BOMB_MESSAGE in text
    assert not [p for p in db.config.work_dir.rglob("*") if p.is_file()]  # the copy is gone


def test_a_portal_upload_and_a_portal_reprocess_refuse_a_bomb(
    client: TestClient, db: Database, bomb: bytes, tmp_path: Path
) -> None:
    setup(db)
    portal_login(client, "ga.steward")
    source_id = register(client, db, mapping=FILE_MAPPING.replace("kind: csv, encoding: auto", "kind: xlsx"))
    source_page = page(client, f"/collection/sources/{source_id}")
    with bounded_memory():
        refused = upload(client, source_id, bomb, csrf=token(source_page), filename="人口.xlsx")
    text = html.unescape(refused.text)
    assert refused.status_code == 422 and "文件“人口.xlsx”" in text and BOMB_MESSAGE in text
    assert client.get("/api/v1/collection/batches").json() == []  # no batch was started
    # a real batch, then a "corrected" workbook that is a bomb
    good = factories.xlsx_bytes([["身份证号", "姓名", "性别", "出生日期", "地址", "更新时间"]])
    batch_id = batch_of(upload(client, source_id, good, csrf=token(source_page), filename="人口.xlsx"))
    batch_page = page(client, f"/collection/batches/{batch_id}")
    with bounded_memory():
        refused = client.post(
            f"/collection/batches/{batch_id}/reprocess",
            data={"csrf_token": token(batch_page)},
            files={"file": ("修正.xlsx", bomb, XLSX)},
            headers=HTML,
            follow_redirects=False,
        )
    text = html.unescape(refused.text)
    assert refused.status_code == 422 and "文件“修正.xlsx”" in text and BOMB_MESSAGE in text
    assert not [p for p in db.config.work_dir.rglob("*") if p.is_file()]


def test_an_api_reprocess_refuses_a_bomb_before_starting_a_batch(
    client: TestClient, db: Database, bomb: bytes
) -> None:
    setup(db)
    portal_login(client, "ga.steward")
    source_id = register(client, db, mapping=FILE_MAPPING.replace("kind: csv, encoding: auto", "kind: xlsx"))
    source_page = page(client, f"/collection/sources/{source_id}")
    good = factories.xlsx_bytes([["身份证号", "姓名", "性别", "出生日期", "地址", "更新时间"]])
    batch_id = batch_of(upload(client, source_id, good, csrf=token(source_page), filename="人口.xlsx"))
    headers = factories.login(client, "ga.steward")
    with bounded_memory():
        response = client.post(
            f"/api/v1/collection/batches/{batch_id}/reprocess",
            content=bomb,
            headers={**headers, "Content-Type": XLSX},
        )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body" and BOMB_MESSAGE in response.text
    assert [b["id"] for b in client.get("/api/v1/collection/batches").json()] == [batch_id]  # none started
    # the reader refuses it too, should a bomb reach a batch some other way (a file source's path)
    bomb_path = db.config.work_dir / "修正.xlsx"
    bomb_path.write_bytes(bomb)
    with bounded_memory(), pytest.raises(SourceUnreadable, match=BOMB_MESSAGE):
        open_file(bomb_path, "xlsx", ReaderOptions())


def test_the_code_set_import_refuses_a_bomb(client: TestClient, db: Database, bomb: bytes) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    with bounded_memory():
        refused = client.post(
            "/api/v1/standards/code-sets/import",
            params={"code": "X-BOMB", "version": "1", "name": "炸弹"},
            content=bomb,
            headers={**headers, "Content-Type": XLSX},
        )
    assert 400 <= refused.status_code < 500, refused.text
    assert BOMB_MESSAGE in refused.text
    assert client.get("/api/v1/standards/code-sets/X-BOMB", headers=headers).status_code == 404


def test_the_catalog_excel_import_refuses_a_bomb(client: TestClient, db: Database, bomb: bytes) -> None:
    factories.city(db)
    headers = factories.login(client, "ga.steward")
    with bounded_memory():
        refused = client.post(
            "/api/v1/catalog/import.xlsx", content=bomb, headers={**headers, "Content-Type": XLSX}
        )
    assert refused.status_code == 422, refused.text
    assert BOMB_MESSAGE in refused.text


# ---------------------------------------------------------------- finding 15: file modes


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems run with (022): what the node creates must be private regardless."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("usual_umask")
def test_the_data_directory_and_the_sqlite_files_are_private(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        data_dir=tmp_path / "data",
        secret_key=SecretStr(TEST_SECRET),
        audit_key=SecretStr(TEST_AUDIT_KEY),
    )
    database = Database.from_settings(settings)  # creates the data directory and the database file
    try:
        migrations.upgrade(database.engine)
        with database.engine.connect() as connection:  # WAL: -wal and -shm exist while it is open
            connection.exec_driver_sql("SELECT 1")
            files = {p.name: _mode(p) for p in settings.data_dir.iterdir() if p.is_file()}
            assert files == {"govshare.db": 0o600, "govshare.db-wal": 0o600, "govshare.db-shm": 0o600}
        assert _mode(settings.data_dir) == 0o700
    finally:
        database.dispose()
    # a node installed by an earlier version (0755 / 0644) is tightened at start-up
    settings.work_dir.mkdir(mode=0o755)
    settings.data_dir.chmod(0o755)
    (settings.data_dir / "govshare.db").chmod(0o644)
    Database.from_settings(settings).dispose()
    assert (_mode(settings.data_dir), _mode(settings.work_dir)) == (0o700, 0o700)
    assert _mode(settings.data_dir / "govshare.db") == 0o600
    # a shared directory the node does not own (sticky, like /tmp) is never touched
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o1777)
    shared.chmod(0o1777)
    tighten_directory(shared)
    assert _mode(shared) == 0o1777


@pytest.mark.usefixtures("usual_umask")
def test_uploads_and_generated_downloads_are_private(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    upload = UploadFile(io.BytesIO(b"a,b\n1,2\n"), filename="人口.csv")
    saved = Path(save_upload(upload, db.config.work_dir, ".csv"))
    assert _mode(saved) == 0o600
    codes = opendata.setup(db, tmp_path)
    for fmt in ("csv", "xlsx", "json"):
        response = client.get(f"/api/open/v1/datasets/{codes['open']}/download", params={"format": fmt})
        assert response.status_code == 200, response.text
    generated = [p for p in (db.config.work_dir.parent / "opendata").rglob("*") if p.is_file()]
    assert len(generated) == 3 and {_mode(p) for p in generated} == {0o600}
    folders = [p for p in (db.config.work_dir.parent / "opendata").rglob("*") if p.is_dir()]
    assert folders and {_mode(p) for p in folders} == {0o700}
