"""Privacy export and erasure, store by store, on real servers and emulators."""
