"""Infrastructure shared by every domain: database, crypto, clock, request context."""
