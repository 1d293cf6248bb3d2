"""People: logging in, profiles and API tokens (blueprint `auth`); users, teams and the taxonomy pages
for admins (blueprint `admin`)."""
