"""What every blueprint shares: access checks, response headers, error pages, Markdown, form helpers,
rate limits."""
