"""Use cases: each combines the clients, the state store and the domain rules for one job of the pipeline."""
