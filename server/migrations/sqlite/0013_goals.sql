-- Learning goals and EHCP outcomes (REQ-PTS-8): one row per goal, its whole record (title, kind,
-- target, links) as the shared GoalRecord JSON; the change log names the goal so an edit can
-- replace the goal's older snapshots (an old title must not linger there).
CREATE TABLE goals (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL,
    pupil_id TEXT NOT NULL,
    record TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX goals_pupil ON goals(school_id, pupil_id);

ALTER TABLE changes ADD COLUMN goal_id TEXT;
CREATE INDEX changes_goal ON changes(goal_id);
