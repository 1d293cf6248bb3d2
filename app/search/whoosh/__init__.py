"""The Whoosh search backend."""
