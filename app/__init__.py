"""smm-assess: social-media maturity assessment and strategy roadmaps for hospitals."""

__version__ = "0.1.0"
