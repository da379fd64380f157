"""Identity (身份认证): departments, users, roles and browser sessions."""
