"""Local simulators of the AccountView and MplusKASSA APIs, for tests, demos and benchmarks."""
