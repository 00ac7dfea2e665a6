"""On-disk storage: the run directory, resumable progress, spilled tables, merges, memory plans."""
