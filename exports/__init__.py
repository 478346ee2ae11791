"""Growth exports (ADR 0020): each dataset of the contract, pseudonymised, as Parquet files
published with a manifest, run by run; compaction of erased people's rows."""
