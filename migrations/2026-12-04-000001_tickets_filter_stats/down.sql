DROP STATISTICS IF EXISTS tickets_filter_stats;
