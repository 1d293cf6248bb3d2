"""The JSON API for CRM integrations (blueprint `api`)."""
