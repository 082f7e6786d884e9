"""The Django project: settings, URLs and the shared oban client."""
