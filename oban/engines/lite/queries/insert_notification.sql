INSERT INTO oban_notifications (channel, payload, sender, inserted_at) VALUES (?, ?, ?, ?)
