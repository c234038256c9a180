"""The Dagster layer: assets, checks, sensors, schedules and jobs, thin over the services below."""
