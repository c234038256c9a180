"""The two API clients, ExactOnlineClient and BillClient: they own auth and speak typed records."""
