"""File uploads as a raw request body: the content type checked, the size capped while reading.

Multipart is not accepted: Starlette spools multipart files to disk with no size limit.
"""

from __future__ import annotations

from collections.abc import Collection

from fastapi import Request

from govshare.errors import PayloadTooLarge, UnsupportedMediaType


async def read_upload(request: Request, *, media_types: Collection[str], max_bytes: int, hint: str) -> bytes:
    """The body of an upload of one of `media_types`, refused past `max_bytes` (before or while reading)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in media_types:
        raise UnsupportedMediaType(hint + (f"（收到的是 {media_type[:100]}）" if media_type else ""))
    too_large = f"文件不能超过 {max_bytes // 1024 // 1024} MB，请拆分后上传"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(too_large)
        chunks.append(chunk)
    return b"".join(chunks)
