"""Search over the library."""
