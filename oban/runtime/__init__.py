"""The runtime: producers, the acker, leadership and the leader's periodic work."""
