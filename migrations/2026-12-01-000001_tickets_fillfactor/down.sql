ALTER TABLE tickets RESET (fillfactor);
