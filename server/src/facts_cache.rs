//! The school's facts and each person's directory, kept in memory between requests and dropped
//! the moment the database says anything they are built from has changed.
//!
//! Every push and every pull page needs the access-rule facts (five queries over the school) and
//! every pull page needs the caller's directory (about a hundred). Both change rarely — a pupil
//! joins, a parent is linked, consent is withdrawn — while awards arrive many times a second.
//! Database triggers (migration 0015) bump one generation number in the same transaction as any
//! such change; a request reads that number first and reuses what was built at the same number.
//! Several server instances behind a load balancer each keep their own copy and stay correct,
//! because the number lives in the shared database, not here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use homeroom_protocol::access::SchoolFacts;
use homeroom_protocol::wire::Directory;
use sqlx::Row;

use crate::auth::Caller;
use crate::db::Db;
use crate::error::ServerError;

/// Most entries kept at once (schools plus people); beyond it the cache starts over, so memory
/// stays bounded however many people use one instance.
const MAX_ENTRIES: usize = 20_000;

/// The facts of one school as of one generation.
#[derive(Clone)]
pub struct Snapshot {
    pub generation: i64,
    pub facts: Arc<SchoolFacts>,
}

impl std::ops::Deref for Snapshot {
    type Target = SchoolFacts;
    fn deref(&self) -> &SchoolFacts {
        &self.facts
    }
}

#[derive(Default)]
struct Entries {
    generation: i64,
    facts: HashMap<String, Arc<SchoolFacts>>,
    directories: HashMap<String, Arc<Directory>>,
}

impl Entries {
    /// Moves to `generation` if it is newer, dropping everything built before it. Returns
    /// whether entries may be read and stored at `generation` (a request that read an older
    /// number than another already saw builds its own and keeps nothing).
    fn at(&mut self, generation: i64) -> bool {
        if generation > self.generation {
            self.generation = generation;
            self.facts.clear();
            self.directories.clear();
        }
        if self.facts.len() + self.directories.len() >= MAX_ENTRIES {
            self.facts.clear();
            self.directories.clear();
        }
        generation == self.generation
    }
}

/// Facts and directories of this server instance, valid for one generation at a time.
#[derive(Default)]
pub struct FactsCache {
    entries: Mutex<Entries>,
}

impl FactsCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The school's facts as of now: one small query when nothing changed since they were built.
    #[tracing::instrument(skip(self, db))]
    pub async fn facts(&self, db: &Db, school_id: &str) -> Result<Snapshot, ServerError> {
        // The number is read before the facts: facts newer than their number only cause a
        // rebuild later, never a stale answer.
        let generation = generation(db).await?;
        self.facts_at(db, school_id, generation).await
    }

    /// The caller's school's facts, judged at the generation read with the caller's session
    /// (no query at all when nothing changed since).
    pub async fn for_caller(&self, db: &Db, caller: &Caller) -> Result<Snapshot, ServerError> {
        self.facts_at(db, &caller.school_id, caller.facts_generation)
            .await
    }

    async fn facts_at(
        &self,
        db: &Db,
        school_id: &str,
        generation: i64,
    ) -> Result<Snapshot, ServerError> {
        {
            let mut entries = self.entries();
            if entries.at(generation) {
                if let Some(facts) = entries.facts.get(school_id) {
                    return Ok(Snapshot {
                        generation,
                        facts: facts.clone(),
                    });
                }
            }
        }
        let facts = Arc::new(crate::db::school_facts(db, school_id).await?);
        let mut entries = self.entries();
        if entries.at(generation) {
            entries.facts.insert(school_id.to_owned(), facts.clone());
        }
        Ok(Snapshot { generation, facts })
    }

    /// `caller`'s directory built from `snapshot`, reused while the generation holds.
    #[tracing::instrument(skip_all)]
    pub async fn directory(
        &self,
        db: &Db,
        caller: &Caller,
        snapshot: &Snapshot,
    ) -> Result<Arc<Directory>, ServerError> {
        {
            let mut entries = self.entries();
            if entries.at(snapshot.generation) {
                if let Some(dir) = entries.directories.get(&caller.user_id) {
                    return Ok(dir.clone());
                }
            }
        }
        let dir = Arc::new(crate::directory::for_caller(db, caller, &snapshot.facts).await?);
        let mut entries = self.entries();
        if entries.at(snapshot.generation) {
            entries
                .directories
                .insert(caller.user_id.clone(), dir.clone());
        }
        Ok(dir)
    }
}

/// The database's facts generation: bumped by triggers on every table facts and directories
/// are built from.
async fn generation(db: &Db) -> Result<i64, ServerError> {
    Ok(
        sqlx::query("SELECT generation FROM facts_generation WHERE id = 1")
            .fetch_one(db)
            .await?
            .try_get("generation")?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_generation_drops_what_was_built_before() {
        let mut e = Entries::default();
        assert!(e.at(1));
        e.facts.insert("s".into(), Arc::new(SchoolFacts::default()));
        assert!(e.at(1));
        assert!(e.facts.contains_key("s"));
        assert!(e.at(2));
        assert!(e.facts.is_empty());
    }

    #[test]
    fn an_older_generation_neither_reads_nor_stores() {
        let mut e = Entries::default();
        assert!(e.at(5));
        e.facts.insert("s".into(), Arc::new(SchoolFacts::default()));
        assert!(!e.at(4));
        assert!(
            e.facts.contains_key("s"),
            "a late reader does not wipe newer entries"
        );
    }

    #[test]
    fn the_cache_starts_over_when_full() {
        let mut e = Entries::default();
        assert!(e.at(1));
        for i in 0..MAX_ENTRIES {
            e.facts
                .insert(i.to_string(), Arc::new(SchoolFacts::default()));
        }
        assert!(e.at(1));
        assert!(e.facts.is_empty());
    }
}
