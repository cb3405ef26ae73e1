"""An organization's submitted assessments over time, and the change between two of them."""
