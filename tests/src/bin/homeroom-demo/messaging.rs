//! The demo's evening message (REQ-MSG-1, MSG-4, NOT-2, NOT-5): a parent writes to the teacher
//! at 21:30 school time with a PDF attached; the server holds the push for the teacher's quiet
//! hours and sends one digest at 08:00 the next school day; the teacher replies in the morning.
//! The server runs in-process here, with a clock the demo moves (the rest of the demo uses the
//! real server process and the machine's clock).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use homeroom_core::messaging::NewAttachment;
use homeroom_core::Homeroom;
use homeroom_e2e::push_receiver::PushReceiver;
use homeroom_e2e::TestServer;
use homeroom_protocol::fixture;
use homeroom_server::clock::{Clock, ManualClock};
use homeroom_server::push::{dispatch::dispatch_due, loopback::LoopbackSender, Senders};

use crate::{open_device, say, DemoResult};

/// Wednesday 4 March 2026, 21:30 in London (GMT): the teacher's quiet hours began at 17:00.
const WEDNESDAY_2130: &str = "2026-03-04T21:30:00Z";

fn school_time(at: DateTime<Utc>) -> Result<String, Box<dyn std::error::Error>> {
    let tz = homeroom_protocol::notify::parse_time_zone("Europe/London")?;
    Ok(at.with_timezone(&tz).format("%a %-d %b %H:%M").to_string())
}

/// Runs the scene in `dir`.
pub fn run(dir: &std::path::Path) -> DemoResult {
    println!(
        "\nMessaging: a parent writes in the evening; the teacher is not pinged until 08:00\n"
    );
    let start: DateTime<Utc> = WEDNESDAY_2130.parse()?;
    let clock = ManualClock::at(start);
    let server =
        TestServer::start_with_clock(&dir.join("server"), "127.0.0.1:0".parse()?, clock.clone());
    let url = server.url();
    let rt = tokio::runtime::Runtime::new()?;
    let db = rt.block_on(homeroom_e2e::server_db(server.data_dir()));
    let receiver = PushReceiver::start();
    let senders = Senders::default().with(Arc::new(LoopbackSender::new(receiver.url())));
    let dispatch = |now: DateTime<Utc>| rt.block_on(dispatch_due(&db, &senders, now));
    say(
        "server",
        &format!(
            "in-process, clock set to {} school time (Europe/London)",
            school_time(start)?
        ),
    );

    let sign_in = |who: &str, name: &str| -> Result<Homeroom, Box<dyn std::error::Error>> {
        let d = open_device(&url, &dir.join(name))?;
        let u = fixture::user_by_id(who).ok_or("fixture person")?;
        d.sign_in(&u.email(), &u.password())?;
        d.sync()?;
        Ok(d)
    };
    let teacher = sign_in("tA", "teacher-phone")?;
    teacher.register_push_device("loopback", "ms-khan-phone")?;
    let parent = sign_in("pa1", "parent-phone")?;

    let hint = parent.composer_hint("tA", clock.now())?;
    if let Some(window) = &hint.reply_window {
        say("parent phone", &format!("composer: \"{window}\""));
    }
    if let Some(when) = &hint.notified_when {
        say("parent phone", &format!("composer: \"{when}\""));
    }
    let slip = dir.join("permission-slip.pdf");
    std::fs::write(
        &slip,
        b"%PDF-1.4\n% signed permission slip: museum trip\n%%EOF\n",
    )?;
    let body =
        "Amira left her reading book at school - could she bring it home tomorrow? Slip attached.";
    let sent = parent.send_message_with(
        "tA",
        body,
        &[NewAttachment::File {
            path: slip,
            name: "permission-slip.pdf".into(),
            content_type: "application/pdf".into(),
        }],
    )?;
    let out = parent.sync()?;
    say(
        "parent phone",
        &format!(
            "21:30 Sara Ahmed -> Ms Khan: \"{body}\" + {} ({} upload, then {} message)",
            sent.record.attachments[0].name,
            out.uploads.len(),
            out.sent
        ),
    );
    let now_pushed = dispatch(clock.now())?;
    say(
        "server",
        &format!(
            "push dispatcher at 21:30: {} sent (Ms Khan's quiet hours, 17:00-08:00)",
            now_pushed.len()
        ),
    );

    teacher.sync()?;
    let plan = teacher.plan_notifications(clock.now())?;
    for d in &plan.digests {
        say(
            "teacher phone",
            &format!(
                "plans a local digest for {}: \"{}\" (nothing shown now)",
                school_time(d.deliver_at)?,
                d.content.body
            ),
        );
    }

    clock.set("2026-03-05T07:59:00Z".parse()?);
    say(
        "server",
        &format!("07:59: {} sent", dispatch(clock.now())?.len()),
    );
    clock.set("2026-03-05T08:00:00Z".parse()?);
    let pushed = dispatch(clock.now())?;
    for p in &receiver.received() {
        say(
            "push receiver",
            &format!(
                "{}: to {} — \"{}\" / \"{}\" (digest of {} message(s); no text on the lock screen)",
                school_time(p.deliver_at)?,
                p.recipient_id,
                p.title,
                p.body,
                p.events.len()
            ),
        );
    }
    if pushed.len() != 1 || pushed[0].deliver_at != clock.now() {
        return Err(format!("expected one digest at 08:00, got {pushed:?}").into());
    }

    // 08:05: the teacher reads it, opens the slip and replies.
    clock.set("2026-03-05T08:05:00Z".parse()?);
    teacher.sync()?;
    let thread = teacher.thread_with("pa1")?;
    let incoming = teacher
        .thread(&thread)?
        .into_iter()
        .find(|m| m.record.sender_id == "pa1")
        .ok_or("the message reached the teacher")?;
    let a = &incoming.record.attachments[0];
    let bytes = teacher.attachment_bytes(&incoming.record.id.to_string(), &a.sha256)?;
    say(
        "teacher phone",
        &format!(
            "08:05 Ms Khan reads it and opens {} ({} bytes, hash checked)",
            a.name,
            bytes.len()
        ),
    );
    teacher.mark_thread_read(&thread)?;
    let reply = "Thank you - I'll put it in her bag today.";
    teacher.send_message("pa1", reply)?;
    teacher.sync()?;
    say(
        "teacher phone",
        &format!("Ms Khan -> Sara Ahmed: \"{reply}\""),
    );
    parent.sync()?;
    let mine = parent.thread(&parent.thread_with("tA")?)?;
    let read = mine
        .iter()
        .find(|m| m.record.id == sent.record.id)
        .and_then(|m| m.read_at)
        .ok_or("the parent sees the message was read")?;
    let got_reply = mine.iter().any(|m| m.record.body == reply);
    if !got_reply {
        return Err("the reply did not reach the parent".into());
    }
    say(
        "parent phone",
        &format!("sees \"read {}\" and the reply", school_time(read)?),
    );
    Ok(())
}
