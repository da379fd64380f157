"""Placeholder."""

from __future__ import annotations

import typer

inventory_app = typer.Typer(help="政务信息系统清单", no_args_is_help=True)
