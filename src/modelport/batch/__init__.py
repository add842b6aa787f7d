"""Batch scoring: pipelines, runs, engines, schedules, and the ingestion that feeds them."""
