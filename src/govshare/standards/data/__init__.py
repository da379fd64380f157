"""Shipped code-set data (see README.md here); read by migration 0003, never fetched at run time."""
