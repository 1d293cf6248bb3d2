"""Running a site: backups and restores, the demo."""
