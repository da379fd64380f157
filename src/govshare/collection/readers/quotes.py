"""Stray quotes: a quote that opens a field by mistake must not swallow the lines after it.

A typing slip in a source system (a line that begins with an unmatched `"`) makes every CSV parser read the
following lines into one field, up to the next quote, hundreds of lines later: those records are neither
loaded nor quarantined one by one. A quoted field may legitimately hold line breaks (addresses), so this
filter decides per quote, on the UTF-8 stream the transcoder writes, before DuckDB parses it:

- A line can only open a multi-line field if it has an odd number of quote characters, or if a parse of
  the line alone ends inside a quoted field. Finding the odd lines of a block is two C-speed byte
  operations (`translate` keeps quotes and newlines, `replace` drops quote pairs); a block without a
  quote character costs one `in` test. Only the odd lines are parsed in Python, one at a time.
- For a line whose parse ends inside a quoted field, the record it opens is parsed across the following
  lines, at most `span_lines` lines and `span_bytes` bytes. The quote is taken as legitimate when the
  record closes within that span, parses cleanly to the expected number of columns, and no line it
  swallows is by itself a record of the expected width (complete, or opening its own last field, as
  when two lines in a row end with a stray quote). Otherwise the quote is stray: that one
  line is replaced by a marker line (quarantined by itself with reason "引号未闭合") and the following
  lines are parsed on their own.
- `recovered` counts the lines a stray quote would have swallowed: the lines after it up to the next quote
  character (or the end of the file), which are now read on their own.

Known limit: a line with an even number of quotes is taken as closed (a literal quote inside an unquoted
value, such as `5"寸`, together with an opening quote on the same line is not detected here; DuckDB's
rejects still report that record).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from govshare.collection.readers.base import Malformed
from govshare.collection.readers.common import cut_raw

SPAN_LINES = 5
SPAN_BYTES = 4096
OPEN = -1  # parse result: the text ends inside a quoted field


@dataclass
class Record:
    """How a piece of text parses as the start of one CSV record."""

    end: int  # the "\n" that ends the record, len(text) if the text ends first, OPEN if inside quotes
    fields: int
    clean: bool  # no text after a closing quote


def parse_record(text: str, delimiter: str, quote: str) -> Record:
    """Parse one record from the start of `text` the way DuckDB's strict reader does: a quote opens a
    field only at the field's start (after blanks), `""` inside quotes is a quote, and a quote elsewhere
    is an ordinary character."""
    i, n, fields, clean = 0, len(text), 0, True
    while True:
        j = i
        while j < n and text[j] == " ":
            j += 1
        if j < n and text[j] == quote:
            k = j + 1
            while True:
                q = text.find(quote, k)
                if q == -1:
                    return Record(OPEN, fields + 1, clean)
                if q + 1 < n and text[q + 1] == quote:
                    k = q + 2
                    continue
                break
            m = q + 1
            while m < n and text[m] == " ":
                m += 1
            if m < n and text[m] not in (delimiter, "\n"):
                clean = False
            i = m
        stops = [p for p in (text.find(delimiter, i), text.find("\n", i)) if p != -1]
        stop = min(stops) if stops else n
        fields += 1
        if stop == n or text[stop] == "\n":
            return Record(stop, fields, clean)
        i = stop + 1


def _odd_lines(data: bytes, quote: bytes) -> list[int]:
    """0-based indexes of the lines of `data` holding an odd number of quote characters."""
    keep = bytes(b for b in range(256) if b not in (quote[0], 10))
    marks = data.translate(None, keep).replace(quote + quote, b"")
    found: list[int] = []
    line, last = 0, 0
    pos = marks.find(quote)
    while pos != -1:
        line += marks.count(b"\n", last, pos)
        found.append(line)
        last = pos
        pos = marks.find(quote, pos + 1)
    return found


STRAY = -1


@dataclass
class StrayQuotes:
    """The filter (see the module docstring). `feed` takes whole UTF-8 lines and returns the lines that are
    decided, holding back at most `span_lines` lines whose fate depends on what follows; `finish` returns
    the rest at the end of the file. `malformed` gets one entry per stray line."""

    delimiter: str
    quote: str
    width: int  # the expected number of columns
    marker: bytes  # the marker line (without "\n") that replaces a stray line
    span_lines: int = SPAN_LINES
    span_bytes: int = SPAN_BYTES
    malformed: list[Malformed] = field(default_factory=list)
    recovered: int = 0
    _pending: bytes = b""
    _pending_line: int = 0  # file line of the first pending line
    _swallowing: bool = False  # a stray quote's would-be field is still open (counting `recovered`)

    def feed(self, data: bytes, first_line: int) -> bytes:
        """`data`: whole lines (each ending with "\n"), the first of which is file line `first_line`."""
        quote = self.quote.encode()
        if self._swallowing:
            pos = data.find(quote)
            if pos == -1:
                self.recovered += data.count(b"\n")
            else:
                self.recovered += data.count(b"\n", 0, pos)
                self._swallowing = False
        if self._pending:
            data, first_line = self._pending + data, self._pending_line
            self._pending = b""
        elif quote not in data:
            return data
        return self._filter(data, first_line, final=False)

    def finish(self) -> bytes:
        data, self._pending = self._pending, b""
        return self._filter(data, self._pending_line, final=True) if data else b""

    def _filter(self, data: bytes, first_line: int, *, final: bool) -> bytes:
        candidates = _odd_lines(data, self.quote.encode())
        if not candidates:
            return data
        lines = data.split(b"\n")
        lines.pop()  # data ends with "\n"
        strays: list[int] = []
        resume = 0
        for index in candidates:
            if index < resume:
                continue
            verdict = self._decide(lines, index, final)
            if verdict is None:  # the record may go on in the next block: decide then
                self._pending = b"\n".join(lines[index:]) + b"\n"
                self._pending_line = first_line + index
                del lines[index:]
                break
            if verdict == STRAY:
                strays.append(index)
                self._count_swallowed(lines, index)
            resume = verdict if verdict != STRAY else index + 1
        if not strays:
            return data if not self._pending else (b"\n".join(lines) + b"\n" if lines else b"")
        for index in strays:
            row = first_line + index
            text = lines[index].decode("utf-8", errors="replace")
            self.malformed.append(Malformed(row, cut_raw(text), "csv.quote", f"第{row}行：引号未闭合"))
            lines[index] = self.marker
        return b"\n".join(lines) + b"\n" if lines else b""

    def _decide(self, lines: list[bytes], index: int, final: bool) -> int | None:
        """STRAY: the quote on line `index` is stray; n: it is legitimate (or an ordinary character) and
        its record ends before line n; None: undecided until more lines arrive."""
        first = lines[index].decode("utf-8", errors="replace")
        if parse_record(first, self.delimiter, self.quote).end != OPEN:
            return index + 1  # the odd quote is an ordinary character: the line is a record by itself
        window: list[bytes] = []
        size, cut = 0, False
        for line in lines[index : index + self.span_lines]:
            window.append(line)
            size += len(line) + 1
            if size > self.span_bytes:
                cut = True
                break
        text = b"\n".join(window).decode("utf-8", errors="replace")
        record = parse_record(text, self.delimiter, self.quote)
        if record.end == OPEN:
            ran_out = not cut and index + self.span_lines > len(lines)
            return None if ran_out and not final else STRAY
        closing = index + text.count("\n", 0, record.end)  # the line where the record ends
        if cut and closing == index + len(window) - 1:
            return STRAY  # it closes only past the byte limit
        if not record.clean or record.fields != self.width:
            return STRAY
        for inner in range(index + 1, closing + 1):
            alone = parse_record(lines[inner].decode("utf-8", errors="replace"), self.delimiter, self.quote)
            if alone.fields != self.width:
                continue
            if alone.end == OPEN or (inner < closing and alone.clean):
                # the quote would swallow a complete record, or one that opens its own last field
                return STRAY
        return closing + 1

    def _count_swallowed(self, lines: list[bytes], index: int) -> None:
        """Add the lines a stray quote on line `index` would have swallowed (those after it up to the next
        line holding a quote character, or the end of the file) to `recovered`."""
        quote = self.quote.encode()
        for after in range(index + 1, len(lines)):
            if quote in lines[after]:
                self.recovered += after - index - 1
                return
        self.recovered += len(lines) - index - 1
        self._swallowing = True
