//! Sends what is due: notifications planned for now, and held ones as one digest per
//! conversation at the first allowed instant (REQ-NOT-2).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use homeroom_protocol::notify::{build_digests, Decision, DigestKey, PlannedNotification};
use sqlx::Row;

use super::schedule::stamp;
use super::{OutgoingPush, Senders};
use crate::clock::SharedClock;
use crate::db::Db;
use crate::error::ServerError;

/// A notification ready for a recipient's devices, before it is addressed to one.
struct Ready {
    recipient_id: String,
    school_id: String,
    plan: PlannedNotification,
    events: Vec<uuid::Uuid>,
    key: String,
    deliver_at: DateTime<Utc>,
    title: String,
    body: String,
}

/// Sends every plan due at `now` and marks it sent; returns what was handed to senders.
#[tracing::instrument(skip_all, fields(now = %now))]
pub async fn dispatch_due(
    db: &Db,
    senders: &Senders,
    now: DateTime<Utc>,
) -> Result<Vec<OutgoingPush>, ServerError> {
    let rows = sqlx::query(
        "SELECT id, school_id, recipient_id, deliver_at, plan FROM push_plans
         WHERE sent_at IS NULL AND deliver_at <= $1 ORDER BY id",
    )
    .bind(stamp(now))
    .fetch_all(db)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::with_capacity(rows.len());
    let mut held = Vec::new();
    let mut ready = Vec::new();
    // The planner's recipient uuid back to the user id and school.
    let mut who: BTreeMap<uuid::Uuid, (String, String)> = BTreeMap::new();
    for row in &rows {
        ids.push(row.try_get::<i64, _>("id")?);
        let recipient_id: String = row.try_get("recipient_id")?;
        let school_id: String = row.try_get("school_id")?;
        let planned_for: DateTime<Utc> = row
            .try_get::<&str, _>("deliver_at")?
            .parse()
            .map_err(|e| ServerError::Internal(format!("stored deliver_at: {e}")))?;
        let plan: PlannedNotification = serde_json::from_str(row.try_get::<&str, _>("plan")?)
            .map_err(|e| ServerError::Internal(format!("stored plan: {e}")))?;
        who.insert(plan.recipient, (recipient_id.clone(), school_id.clone()));
        match plan.decision {
            Decision::DeliverNow { .. } => ready.push(Ready {
                recipient_id,
                school_id,
                events: vec![plan.event],
                key: format!("event:{}", plan.event),
                deliver_at: planned_for,
                title: plan.content.title.clone(),
                body: plan.content.body.clone(),
                plan,
            }),
            _ => held.push(plan),
        }
    }
    for d in build_digests(&held) {
        let Some((recipient_id, school_id)) = who.get(&d.recipient).cloned() else {
            continue;
        };
        let Some(first) = held.iter().find(|p| d.events.first() == Some(&p.event)) else {
            continue;
        };
        ready.push(Ready {
            recipient_id,
            school_id,
            plan: first.clone(),
            events: d.events.clone(),
            key: collapse_key(&d.key),
            deliver_at: d.deliver_at,
            title: d.content.title.clone(),
            body: d.content.body.clone(),
        });
    }
    let mut sent = Vec::new();
    for r in ready {
        let devices = sqlx::query(
            "SELECT platform, token FROM push_devices WHERE user_id = $1 ORDER BY platform, token",
        )
        .bind(&r.recipient_id)
        .fetch_all(db)
        .await?;
        for dev in devices {
            let platform: String = dev.try_get("platform")?;
            let push = OutgoingPush {
                recipient_id: r.recipient_id.clone(),
                platform: platform.clone(),
                device_token: dev.try_get("token")?,
                title: r.title.clone(),
                body: r.body.clone(),
                events: r.events.clone(),
                collapse_key: r.key.clone(),
                category: r.plan.category,
                emergency: r.plan.emergency,
                deliver_at: r.deliver_at,
            };
            let outcome = match senders.get(&platform) {
                None => "no sender for this platform".to_owned(),
                Some(s) => match s.send(&push).await {
                    Ok(()) => "sent".to_owned(),
                    Err(e) => {
                        tracing::warn!(error = %e, platform = %platform, "push not sent");
                        e.to_string()
                    }
                },
            };
            log(db, &r.school_id, &push, now, &outcome).await?;
            if outcome == "sent" {
                sent.push(push);
            }
        }
    }
    let mut tx = crate::db::write_tx(db).await?;
    for id in ids {
        // Sent: the plan's words (a sender's name, a message's first line) are no longer
        // needed here; the device has them (REQ-PRV-2, PRV-5: keep nothing not needed).
        sqlx::query("UPDATE push_plans SET sent_at = $1, plan = '' WHERE id = $2")
            .bind(stamp(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(sent)
}

/// The device-side grouping key of a digest.
fn collapse_key(key: &DigestKey) -> String {
    match key {
        DigestKey::Conversation(id) => format!("conversation:{id}"),
        DigestKey::ClassAnnouncements(id) => format!("class-announcements:{id}"),
        DigestKey::ClassStory(id) => format!("class-story:{id}"),
        DigestKey::SchoolStory => "school-story".to_owned(),
        DigestKey::SchoolAnnouncements => "school-announcements".to_owned(),
        DigestKey::Alone(id) => format!("event:{id}"),
    }
}

async fn log(
    db: &Db,
    school_id: &str,
    push: &OutgoingPush,
    now: DateTime<Utc>,
    outcome: &str,
) -> Result<(), ServerError> {
    let events: Vec<String> = push.events.iter().map(|e| e.to_string()).collect();
    sqlx::query(
        "INSERT INTO push_log (school_id, recipient_id, platform, sent_at, deliver_at, events, title, body, emergency, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(school_id)
    .bind(&push.recipient_id)
    .bind(&push.platform)
    .bind(stamp(now))
    .bind(stamp(push.deliver_at))
    .bind(events.join(","))
    // What was sent is recorded, not what it said: no names or message text in the log (REQ-PRV-2).
    .bind("")
    .bind("")
    .bind(i64::from(push.emergency))
    .bind(outcome)
    .execute(db)
    .await?;
    Ok(())
}

/// Runs the dispatcher every `every` on `clock`, and at once whenever `wake` is notified (an
/// admin's emergency: REQ-NOT-4), until the task is dropped.
pub fn spawn(
    db: Db,
    senders: Arc<Senders>,
    clock: SharedClock,
    every: Duration,
    wake: Arc<tokio::sync::Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = wake.notified() => {}
            }
            if let Err(e) = dispatch_due(&db, &senders, clock.now()).await {
                tracing::error!(error = %e, "push dispatch failed");
            }
        }
    })
}
