"""Insights for marketers and managers: figures recounted from the usage log, their tables, charts and
the weekly review PDF (blueprint `insights`)."""
