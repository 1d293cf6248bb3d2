"""Deals: CRM accounts and opportunities, their import, recommendations and plays."""
