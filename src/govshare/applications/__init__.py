"""Applications (应用系统) and their API keys."""
