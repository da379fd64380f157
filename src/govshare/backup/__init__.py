"""Verified, encrypted, off-site backups (docs/backup.md)."""
