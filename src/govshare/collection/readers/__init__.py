"""Source readers: files (CSV/TSV, XLSX/XLS, JSON/NDJSON), databases and pushed batches, each turned into
chunks of text keyed by `_ord` (the contract is in `base`)."""

from govshare.collection.readers.base import (
    CHUNK_ROWS,
    ORD,
    RAW_LIMIT,
    Malformed,
    Progress,
    ReaderOptions,
    SourceReader,
    SourceUnreadable,
)
from govshare.collection.readers.databases import open_database
from govshare.collection.readers.files import open_file
from govshare.collection.readers.records import open_records

__all__ = [
    "CHUNK_ROWS",
    "ORD",
    "RAW_LIMIT",
    "Malformed",
    "Progress",
    "ReaderOptions",
    "SourceReader",
    "SourceUnreadable",
    "open_database",
    "open_file",
    "open_records",
]
