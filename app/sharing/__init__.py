"""Share links: one asset or document for one prospect, tracked, expiring, revocable (blueprint
`share`)."""
