"""Client organizations: the hospitals and systems that are assessed."""
