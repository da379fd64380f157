"""数据标准: code sets (代码集) and data elements (数据元) with versions, and the validators and normalizers
that mappings apply to values (docs/standards.md)."""
