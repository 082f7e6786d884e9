SELECT id FROM oban_notifications ORDER BY id DESC LIMIT :limit
