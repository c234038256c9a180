"""The Exact Online client: OAuth with single-flight refresh, OData paging, typed records."""
