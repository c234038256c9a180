"""Local, faithful stand-ins for the Exact Online and BILL APIs, for tests, demos and benchmarks."""
