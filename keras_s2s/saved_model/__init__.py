"""The SavedModel export for TF Serving: its contract, writer, Python client,
warm-up file, a loader that loads it as TF Serving does, and `check_export`."""
