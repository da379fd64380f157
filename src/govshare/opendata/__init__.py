"""公共数据开放 (open data): resources whose open attribute allows it, published to the public without
login."""
