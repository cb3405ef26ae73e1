"""Peer benchmarks: where an organization stands among organizations its size."""
