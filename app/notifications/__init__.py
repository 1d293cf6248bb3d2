"""Notifications: what a user should know (a prospect opened their link), shown until read."""
