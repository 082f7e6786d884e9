DROP TABLE IF EXISTS oban_notifications;
