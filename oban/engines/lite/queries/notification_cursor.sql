SELECT coalesce(max(id), 0) FROM oban_notifications
