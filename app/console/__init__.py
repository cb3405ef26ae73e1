"""The consultants' web console: pages over the same services the REST API calls."""
