"""Orders and their fulfilment jobs."""
