-- Issue 5 load, issue 4 cold sync: one number that changes with anything the access-rule facts
-- or a person's directory are built from, bumped in the same transaction as the change, so every
-- server instance can keep both in memory and know at once when they are stale
-- (server/src/facts_cache.rs). Keep this list in step with db::school_facts and directory::for_caller.
CREATE TABLE facts_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO facts_generation (id, generation) VALUES (1, 1);

CREATE TRIGGER schools_insert_bumps_facts AFTER INSERT ON schools
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER schools_update_bumps_facts AFTER UPDATE ON schools
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER schools_delete_bumps_facts AFTER DELETE ON schools
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER users_insert_bumps_facts AFTER INSERT ON users
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER users_update_bumps_facts AFTER UPDATE ON users
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER users_delete_bumps_facts AFTER DELETE ON users
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER classes_insert_bumps_facts AFTER INSERT ON classes
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER classes_update_bumps_facts AFTER UPDATE ON classes
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER classes_delete_bumps_facts AFTER DELETE ON classes
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER class_staff_insert_bumps_facts AFTER INSERT ON class_staff
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER class_staff_update_bumps_facts AFTER UPDATE ON class_staff
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER class_staff_delete_bumps_facts AFTER DELETE ON class_staff
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER pupils_insert_bumps_facts AFTER INSERT ON pupils
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER pupils_update_bumps_facts AFTER UPDATE ON pupils
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER pupils_delete_bumps_facts AFTER DELETE ON pupils
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER parent_links_insert_bumps_facts AFTER INSERT ON parent_links
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER parent_links_update_bumps_facts AFTER UPDATE ON parent_links
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER parent_links_delete_bumps_facts AFTER DELETE ON parent_links
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER skills_insert_bumps_facts AFTER INSERT ON skills
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER skills_update_bumps_facts AFTER UPDATE ON skills
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER skills_delete_bumps_facts AFTER DELETE ON skills
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER notify_settings_insert_bumps_facts AFTER INSERT ON notify_settings
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER notify_settings_update_bumps_facts AFTER UPDATE ON notify_settings
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER notify_settings_delete_bumps_facts AFTER DELETE ON notify_settings
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER consent_insert_bumps_facts AFTER INSERT ON consent
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER consent_update_bumps_facts AFTER UPDATE ON consent
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;

CREATE TRIGGER consent_delete_bumps_facts AFTER DELETE ON consent
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
END;
