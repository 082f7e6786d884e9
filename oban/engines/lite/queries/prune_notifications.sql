DELETE FROM oban_notifications WHERE inserted_at < :before
