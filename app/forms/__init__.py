"""The invitation form: its fields and its use cases, for any door that shows it."""
