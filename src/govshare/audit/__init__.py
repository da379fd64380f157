"""Audit log (安全审计): append-only, hash-chained with HMAC-SM3, verifiable end to end."""
