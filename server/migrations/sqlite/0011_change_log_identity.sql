-- Names this copy of the change log, so a device's cursor from another copy (a rebuilt server,
-- a restored backup after the id is rotated) is refused rather than misread (REQ-OFF-1).
CREATE TABLE change_log_identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    log_id TEXT NOT NULL
);
INSERT INTO change_log_identity (id, log_id) VALUES (1, lower(hex(randomblob(16))));
