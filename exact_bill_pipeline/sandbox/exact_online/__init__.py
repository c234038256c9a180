"""The Exact Online sandbox: a faithful local stand-in for Exact's OAuth and REST API (see api-reference)."""
