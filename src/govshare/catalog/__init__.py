"""Catalog system (目录系统): information resources with the national metadata, rules, review, search."""
