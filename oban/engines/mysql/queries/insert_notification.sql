INSERT INTO oban_notifications (channel, payload, sender, inserted_at)
VALUES (%s, %s, %s, UTC_TIMESTAMP(6))
