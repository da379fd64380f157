"""The overview: what the node shows across domains (the home page's figures and to-dos, the department
dashboard). It owns no table; its service asks each domain's service for its part."""
