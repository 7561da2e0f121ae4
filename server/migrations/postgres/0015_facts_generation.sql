-- Issue 5 load, issue 4 cold sync: one number that changes with anything the access-rule facts
-- or a person's directory are built from, bumped in the same transaction as the change, so every
-- server instance can keep both in memory and know at once when they are stale
-- (server/src/facts_cache.rs). Keep this list in step with db::school_facts and directory::for_caller.
CREATE TABLE facts_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO facts_generation (id, generation) VALUES (1, 1);

CREATE FUNCTION bump_facts_generation() RETURNS trigger AS $$
BEGIN
    UPDATE facts_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER schools_bumps_facts AFTER INSERT OR UPDATE OR DELETE ON schools
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_generation();

CREATE TRIGGER users_bumps_facts AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_generation();

CREATE TRIGGER classes_bumps_facts AFTER INSERT OR UPDATE OR DELETE ON classes
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_generation();

CREATE TRIGGER class_staff_bumps_facts AFTER INSERT OR UPDATE OR DELETE ON class_staff
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_generation();

CREATE TRIGGER pupils_bumps_facts AFTER INSERT OR UPDATE OR DELETE ON pupils
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_generation();

CREATE TRIGGER parent_links_bumps_facts AFTER INSERT OR UPDATE OR DELETE ON parent_links
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_generation();

CREATE TRIGGER skills_bumps_facts AFTER INSERT OR UPDATE OR DELETE ON skills
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_generation();

CREATE TRIGGER notify_settings_bumps_facts AFTER INSERT OR UPDATE OR DELETE ON notify_settings
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_generation();

CREATE TRIGGER consent_bumps_facts AFTER INSERT OR UPDATE OR DELETE ON consent
    FOR EACH STATEMENT EXECUTE FUNCTION bump_facts_generation();
