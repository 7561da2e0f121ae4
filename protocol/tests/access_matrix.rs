//! Every row of the schools' access matrix holds for the shared rule function (REQ-ACC-7).

use homeroom_protocol::access::{can, Action, Target};
use homeroom_protocol::fixture;

const MATRIX: &str = include_str!("../../../shared/policy/access-matrix.csv");

struct Row<'a> {
    actor: &'a str,
    action: Action,
    target: &'a str,
    allow: bool,
    req: &'a str,
}

fn rows() -> Vec<Row<'static>> {
    MATRIX
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            assert_eq!(f.len(), 5, "matrix row has 5 fields: {l}");
            Row {
                actor: f[0],
                action: f[1].parse().unwrap_or_else(|e| panic!("{e} in row {l}")),
                target: f[2],
                allow: match f[3] {
                    "allow" => true,
                    "deny" => false,
                    other => panic!("expect is allow or deny, got {other}"),
                },
                req: f[4],
            }
        })
        .collect()
}

#[test]
fn every_access_matrix_row_holds_for_the_shared_rules() {
    let facts = fixture::facts();
    let rows = rows();
    assert!(
        rows.len() >= 140,
        "the whole matrix is read, got {}",
        rows.len()
    );
    let mut failures = Vec::new();
    for r in &rows {
        let actor = (r.actor != "anon").then_some(r.actor);
        let target_id = if r.target == "school" {
            fixture::SCHOOL_ID
        } else {
            r.target
        };
        let got = can(
            &facts,
            actor,
            r.action,
            &Target::for_action(r.action, target_id),
        );
        if got.is_ok() != r.allow {
            failures.push(format!(
                "{},{},{}: expected {} ({}) got {:?}",
                r.actor,
                r.action,
                r.target,
                if r.allow { "allow" } else { "deny" },
                r.req,
                got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows broken:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn parent_cannot_read_other_pupils_points() {
    // REQ-ACC-5
    let facts = fixture::facts();
    assert!(can(
        &facts,
        Some("pa2"),
        Action::ReadPoints,
        &Target::Pupil("a1")
    )
    .is_err());
    assert!(can(
        &facts,
        Some("pa1"),
        Action::ReadPoints,
        &Target::Pupil("a1")
    )
    .is_ok());
}

#[test]
fn hidden_class_points_are_refused_to_parents_with_a_reason() {
    // REQ-PTS-5: class B hides points from parents; the pupil still sees their own.
    let facts = fixture::facts();
    let got = can(
        &facts,
        Some("pb1"),
        Action::ReadPoints,
        &Target::Pupil("b1"),
    );
    assert_eq!(got, Err(homeroom_protocol::Denied::PointsHiddenFromParents));
    assert!(can(&facts, Some("b1"), Action::ReadPoints, &Target::Pupil("b1")).is_ok());
}

#[test]
fn nobody_signed_in_is_refused_everything() {
    let facts = fixture::facts();
    for action in Action::ALL {
        let t = Target::for_action(action, "a1");
        assert!(
            can(&facts, None, action, &t).is_err(),
            "{action} allowed to anon"
        );
    }
}

#[test]
fn pupils_have_no_messaging_at_all() {
    // REQ-MSG-2: no thread, no send, no read, whatever the target.
    let facts = fixture::facts();
    for target in ["tA", "sA", "L", "H", "pa1", "a1", "a2"] {
        for action in [Action::Message, Action::ReadThreads, Action::ReportMessage] {
            assert!(can(&facts, Some("a1"), action, &Target::User(target)).is_err());
        }
    }
}

#[test]
fn action_names_round_trip() {
    for a in Action::ALL {
        assert_eq!(a.name().parse::<Action>(), Ok(a));
    }
    assert!("fly".parse::<Action>().is_err());
}

#[test]
fn only_the_admin_approves_a_third_parent_for_a_pupil_still_in_a_class() {
    // REQ-ACC-3: "special circumstances" are the admin's call; a pupil who left has none.
    let facts = fixture::facts();
    let approve = |who: &str, pupil: &str| {
        can(
            &facts,
            Some(who),
            Action::ApproveParentLink,
            &Target::Pupil(pupil),
        )
        .is_ok()
    };
    assert!(approve("H", "a1"));
    assert!(approve("H", "b1"));
    for who in ["L", "tA", "sA", "tB", "pa1", "a1", "X"] {
        assert!(!approve(who, "a1"), "{who}");
    }
    assert!(!approve("H", "a3"), "a3 has left");
}
