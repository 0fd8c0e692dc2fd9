"""Ingestion: read, clean, deduplicate and chunk abstracts; the only writer of the index."""
