SELECT VERSION(), @@innodb_autoinc_lock_mode, @@auto_increment_increment, @@log_bin,
       @@binlog_format, @@max_allowed_packet, DATABASE()
