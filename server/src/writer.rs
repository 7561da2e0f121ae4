//! Group commit: pushes that arrive together share one write transaction (one fsync, one turn of
//! the write lock), each write in its own savepoint so one bad write never takes others down.
//!
//! Every write still holds the same guarantees as alone: applied at most once (its client id is
//! recorded in the same transaction), in the order its device sent it, visible to pulls only
//! once committed. Under light load a batch is one push, so latency is unchanged; under load the
//! batches grow by themselves (whatever queued while the previous commit ran).

use std::sync::{Arc, OnceLock};

use homeroom_protocol::access::SchoolFacts;
use homeroom_protocol::wire::{ClientWrite, WriteOutcome};
use sqlx::Acquire;
use tokio::sync::{mpsc, oneshot};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ServerError;

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

#[tracing::instrument(skip_all, fields(pushes = jobs.len()))]
async fn commit_batch(state: &AppState, jobs: Vec<Job>) {
    let mut tx = match crate::db::write_tx(&state.db).await {
        Ok(tx) => tx,
        Err(e) => return fail_all(jobs, &e),
    };
    let mut answers = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut outcomes = Vec::with_capacity(job.writes.len());
        let mut failure = None;
        for write in &job.writes {
            match apply_in_savepoint(&mut tx, state, &job, write).await {
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
        // A device that hung up gets its answer on the retry (its writes are recorded).
        let _ = reply.send(answer);
    }
}

/// One write inside a savepoint: an error rolls back this write only.
async fn apply_in_savepoint(
    tx: &mut crate::db::DbTx<'static>,
    state: &AppState,
    job: &Job,
    write: &ClientWrite,
) -> Result<WriteOutcome, ServerError> {
    let mut savepoint = tx.begin().await?;
    let outcome =
        crate::routes::sync::apply_in(&mut savepoint, state, &job.caller, &job.facts, write)
            .await?;
    savepoint.commit().await?;
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
