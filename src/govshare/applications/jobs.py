"""Background work for applications: none yet. Expired keys need no job; they are refused on use."""
