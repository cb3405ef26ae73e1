"""The web form hospital staff fill in from an invitation link: pages, security, assets."""
