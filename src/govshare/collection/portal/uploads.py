"""Uploads on the collection pages, and queueing a started batch for the worker.

Uploads are read here, not by FastAPI's `File()`: the request body is spooled to the node's work directory
with a size cap first (Starlette alone would spool a multipart file of any size), then parsed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path as FilePath
from typing import Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message

from govshare.auth.actor import Actor
from govshare.collection.service import Started
from govshare.core.archives import WorkbookRefused, check_workbook
from govshare.errors import InvalidInput, PayloadTooLarge
from govshare.jobs import service as job_service
from govshare.web.deps import database

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def queue_batch(
    session: Session,
    actor: Actor,
    started: Started,
    *,
    path: str | None = None,
    records: list[object] | None = None,
) -> None:
    """Queue the started batch for `govshare worker` in this request's transaction, as the API does; the
    job removes an uploaded file once the batch has ended (docs/jobs.md)."""
    job_service.queue_batch(session, actor, started, path=path, records=records)


async def _capped_form(request: Request) -> AsyncIterator[FormData]:
    """The submitted form (multipart or urlencoded), its body spooled to the work directory first and
    refused past MAX_UPLOAD_BYTES, before or while reading."""
    too_large = (
        f"文件不能超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB；更大的文件请用命令行 govshare ingest 归集"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(too_large)
    work_dir = database(request).config.work_dir
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=work_dir) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise PayloadTooLarge(too_large)
            spool.write(chunk)
        spool.seek(0)

        async def receive() -> Message:
            chunk = spool.read(1 << 16)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

        form = await Request(request.scope, receive).form(max_files=1, max_fields=10)
    try:
        yield form
    finally:
        await form.close()


CAPPED_FORM: Any = Depends(_capped_form)


def uploaded_file(form: FormData) -> UploadFile | None:
    value = form.get("file")
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


def save_upload(upload: UploadFile, work_dir: FilePath, suffix: str) -> str:
    """The upload copied to a file of its own (mode 0600) in the work directory. A workbook that would
    unpack past the node's limits (a zip bomb) is refused here, before the batch is started."""
    work_dir.mkdir(parents=True, exist_ok=True)
    upload.file.seek(0)
    with tempfile.NamedTemporaryFile("wb", suffix=suffix, dir=work_dir, delete=False) as handle:
        shutil.copyfileobj(upload.file, handle)
    if suffix in (".xlsx", ".xls"):
        try:
            check_workbook(FilePath(handle.name), name=FilePath(upload.filename or "").name or None)
        except WorkbookRefused as exc:
            FilePath(handle.name).unlink(missing_ok=True)
            raise InvalidInput.on("file", exc.message) from None
    return handle.name
