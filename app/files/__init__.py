"""Files: the store on disk, the upload gate (type checks, sandboxed extraction), and PDFs (WeasyPrint
behind a safe URL fetcher, pages as images)."""
