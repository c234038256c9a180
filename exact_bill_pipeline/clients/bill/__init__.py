"""The BILL v3 client: sessions kept encrypted and reused, cursor paging, classification writes, webhooks."""
