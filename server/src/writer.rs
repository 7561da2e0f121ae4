//! Group commit: pushes that arrive together share one write transaction (one fsync, one turn of
//! the write lock). The batch first runs with no savepoints and one lookup of prior answers for
//! all its writes; only if a write is rejected or fails does it run again with each write in its
//! own savepoint, so one bad write never takes others down.
//!
//! Every write still holds the same guarantees as alone: applied at most once (its client id is
//! recorded in the same transaction), in the order its device sent it, visible to pulls only
//! once committed. Under light load a batch is one push, so latency is unchanged; under load the
//! batches grow by themselves (whatever queued while the previous commit ran).

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use homeroom_protocol::access::SchoolFacts;
use homeroom_protocol::wire::{AwardRecord, ClientWrite, WriteOp, WriteOutcome};
use sqlx::Acquire;
use tokio::sync::{mpsc, oneshot};

use crate::app::AppState;
use crate::auth::Caller;
use crate::awards;
use crate::error::ServerError;
use crate::routes::sync;

/// Most pushes one transaction takes: bounds how long the write lock is held.
const MAX_PUSHES_PER_COMMIT: usize = 256;

/// Pushes waiting for the writer: backpressure beyond this (senders wait).
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Vec<WriteOutcome>, ServerError>>;

/// One push: its writes, applied in order.
struct Job {
    caller: Caller,
    facts: Arc<SchoolFacts>,
    writes: Vec<ClientWrite>,
    reply: Reply,
}

/// The server instance's single writer task, started on first use.
#[derive(Default)]
pub struct Writer {
    queue: OnceLock<mpsc::Sender<Job>>,
}

/// Applies `writes` (one device's push, in order) and returns one outcome per write.
///
/// An error (storage failure) ends the push early: writes before it are kept, as if they had
/// been sent alone, and the device retries the rest (its client ids make retries harmless).
pub async fn apply(
    state: &AppState,
    caller: &Caller,
    facts: Arc<SchoolFacts>,
    writes: Vec<ClientWrite>,
) -> Result<Vec<WriteOutcome>, ServerError> {
    let queue = state.writer.queue.get_or_init(|| {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(state.clone(), rx));
        tx
    });
    let (reply, answer) = oneshot::channel();
    queue
        .send(Job {
            caller: caller.clone(),
            facts,
            writes,
            reply,
        })
        .await
        .map_err(|_| ServerError::Internal("the writer has stopped".into()))?;
    answer
        .await
        .map_err(|_| ServerError::Internal("the writer dropped a push".into()))?
}

async fn run(state: AppState, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_PUSHES_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&state, jobs).await;
    }
}

/// Commits a batch: first all of it in one transaction with no savepoints (the common case:
/// every write new and accepted); if any new write is rejected or hits a storage error, that
/// attempt is rolled back whole and the batch runs again with each write in its own savepoint.
#[tracing::instrument(skip_all, fields(pushes = jobs.len()))]
async fn commit_batch(state: &AppState, jobs: Vec<Job>) {
    match shared_attempt(state, &jobs).await {
        Ok(Some(answers)) => {
            for (job, outcomes) in jobs.into_iter().zip(answers) {
                // A device that hung up gets its answer on the retry (its writes are recorded).
                let _ = job.reply.send(Ok(outcomes));
            }
        }
        Ok(None) => isolated(state, jobs).await,
        Err(e) => {
            tracing::warn!(error = %e, "shared group commit failed; retrying write by write");
            isolated(state, jobs).await
        }
    }
}

/// The fast path: one transaction, one lookup of prior answers for the whole batch, no
/// savepoints. `None` (after a rollback) when a new write was rejected: a rejected write must
/// keep nothing of itself, which only a savepoint can give.
async fn shared_attempt(
    state: &AppState,
    jobs: &[Job],
) -> Result<Option<Vec<Vec<WriteOutcome>>>, ServerError> {
    let mut tx = crate::db::write_tx(&state.db).await?;
    match shared_writes(&mut tx, state, jobs).await {
        Ok(Some(answers)) => {
            tx.commit().await?;
            Ok(Some(answers))
        }
        Ok(None) => {
            tx.rollback().await?;
            Ok(None)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

async fn shared_writes(
    tx: &mut crate::db::DbTx<'static>,
    state: &AppState,
    jobs: &[Job],
) -> Result<Option<Vec<Vec<WriteOutcome>>>, ServerError> {
    let ids: Vec<String> = jobs
        .iter()
        .flat_map(|j| j.writes.iter().map(|w| w.client_id.to_string()))
        .collect();
    let prior = sync::prior_records(tx, &ids).await?;
    let mut seen = HashSet::new();
    let mut cache = awards::BatchCache::default();
    let mut pending = PendingAwards::default();
    let mut answers = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut outcomes = Vec::with_capacity(job.writes.len());
        for write in &job.writes {
            let client_id = write.client_id.to_string();
            let outcome = if let Some((owner, stored)) = prior.get(&client_id) {
                sync::replay_answer(&job.caller, owner.clone(), stored.clone())?
            } else if !seen.insert(client_id.clone()) {
                // The same id twice in one batch: the first is recorded in this transaction.
                if !pending.flush(tx).await? {
                    return Ok(None);
                }
                match sync::prior_outcome(tx, &job.caller, &client_id).await? {
                    Some(first) => first,
                    None => return Ok(None),
                }
            } else if let WriteOp::AwardPoints {
                awards,
                skill_id,
                note,
                ..
            } = &write.op
            {
                // The hot path (points awarded in class): stored in bulk with its neighbours.
                let plan = awards::plan(
                    tx,
                    &job.caller,
                    &job.facts,
                    &mut cache,
                    awards,
                    skill_id,
                    note.as_deref(),
                )
                .await?;
                match plan {
                    Ok(records) => {
                        pending.add(&job.caller, client_id, records);
                        WriteOutcome::Accepted
                    }
                    Err(_refused) => return Ok(None),
                }
            } else {
                // Anything else keeps its place in the log behind the awards before it.
                if !pending.flush(tx).await? {
                    return Ok(None);
                }
                let outcome =
                    sync::apply_new(tx, state, &job.caller, &job.facts, &mut cache, write).await?;
                if !matches!(outcome, WriteOutcome::Accepted) {
                    return Ok(None);
                }
                sync::record_outcome(tx, &job.caller, &client_id, &outcome).await?;
                outcome
            };
            outcomes.push(outcome);
        }
        answers.push(outcomes);
    }
    if !pending.flush(tx).await? {
        return Ok(None);
    }
    Ok(Some(answers))
}

/// Accepted award writes of the batch not yet stored: stored together, in order.
#[derive(Default)]
struct PendingAwards {
    /// (school id, award) in the order the writes arrived.
    awards: Vec<(String, AwardRecord)>,
    /// (client id, user id) of each write they came from.
    writes: Vec<(String, String)>,
}

impl PendingAwards {
    fn add(&mut self, caller: &Caller, client_id: String, records: Vec<AwardRecord>) {
        for r in records {
            self.awards.push((caller.school_id.clone(), r));
        }
        self.writes.push((client_id, caller.user_id.clone()));
    }

    /// Stores what is pending; false when an award id was already taken (the caller rolls
    /// back and takes the careful path, which names the write).
    async fn flush(&mut self, tx: &mut crate::db::DbTx<'static>) -> Result<bool, ServerError> {
        if self.writes.is_empty() {
            return Ok(true);
        }
        let rows: Vec<(&str, &AwardRecord)> =
            self.awards.iter().map(|(s, r)| (s.as_str(), r)).collect();
        if !awards::store(tx, &rows).await? {
            return Ok(false);
        }
        let accepted = serde_json::to_string(&WriteOutcome::Accepted)
            .map_err(|e| ServerError::Internal(e.to_string()))?;
        let records: Vec<(&str, &str, &str)> = self
            .writes
            .iter()
            .map(|(c, u)| (c.as_str(), u.as_str(), accepted.as_str()))
            .collect();
        sync::record_outcomes(tx, &records).await?;
        self.awards.clear();
        self.writes.clear();
        Ok(true)
    }
}

/// The careful path: each write in its own savepoint, so a rejected write keeps nothing of
/// itself and a storage error ends only its own push.
async fn isolated(state: &AppState, jobs: Vec<Job>) {
    let mut tx = match crate::db::write_tx(&state.db).await {
        Ok(tx) => tx,
        Err(e) => return fail_all(jobs, &e),
    };
    let mut cache = awards::BatchCache::default();
    let mut answers = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut outcomes = Vec::with_capacity(job.writes.len());
        let mut failure = None;
        for write in &job.writes {
            match apply_in_savepoint(&mut tx, state, &job, &mut cache, write).await {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        answers.push((job.reply, failure.map_or(Ok(outcomes), Err)));
    }
    if let Err(e) = tx.commit().await {
        let e = ServerError::from(e);
        tracing::error!(error = %e, "group commit failed");
        for (reply, _) in answers {
            let _ = reply.send(Err(ServerError::Internal(format!("commit: {e}"))));
        }
        return;
    }
    for (reply, answer) in answers {
        let _ = reply.send(answer);
    }
}

/// One write inside a savepoint: an error or a rejection rolls back this write only.
async fn apply_in_savepoint(
    tx: &mut crate::db::DbTx<'static>,
    state: &AppState,
    job: &Job,
    cache: &mut awards::BatchCache,
    write: &ClientWrite,
) -> Result<WriteOutcome, ServerError> {
    let client_id = write.client_id.to_string();
    if let Some(first) = sync::prior_outcome(tx, &job.caller, &client_id).await? {
        return Ok(first);
    }
    let mut savepoint = tx.begin().await?;
    let outcome =
        sync::apply_new(&mut savepoint, state, &job.caller, &job.facts, cache, write).await?;
    if matches!(outcome, WriteOutcome::Accepted) {
        sync::record_outcome(&mut savepoint, &job.caller, &client_id, &outcome).await?;
        savepoint.commit().await?;
    } else {
        savepoint.rollback().await?;
        sync::record_outcome(tx, &job.caller, &client_id, &outcome).await?;
    }
    Ok(outcome)
}

fn fail_all(jobs: Vec<Job>, e: &ServerError) {
    tracing::error!(error = %e, "could not start a write transaction");
    for job in jobs {
        let _ = job
            .reply
            .send(Err(ServerError::Internal(format!("begin: {e}"))));
    }
}
