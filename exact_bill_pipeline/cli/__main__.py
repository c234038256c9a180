"""`python -m exact_bill_pipeline.cli`: the same as the `exact-bill` command."""

from exact_bill_pipeline.cli import main

main()
