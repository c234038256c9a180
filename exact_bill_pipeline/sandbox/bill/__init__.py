"""A faithful local BILL v3 API (sessions, lists, classifications, webhooks); create_app is in app.py."""
