"""政务信息系统清单 (information-system inventory)."""
