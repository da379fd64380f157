"""The node's web application: API under /api/v1, the portal, health and metrics."""
