"""`python -m app.cli`: the `smm` command."""

from app.cli import main

main()
