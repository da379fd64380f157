"""Sharing (共享服务): applications, approvals, grants, the data API, 核验 and 一号通."""
