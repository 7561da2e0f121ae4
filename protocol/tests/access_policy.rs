//! Rules of the message policy the access matrix has no rows for yet: the school's working hours
//! (REQ-NOT-1), the restricted safeguarding record (REQ-PRV-5) and creating a class (REQ-ACC-1).

use homeroom_protocol::access::{can, Action, Target};
use homeroom_protocol::fixture;

fn on_school(who: &str, action: Action) -> bool {
    can(
        &fixture::facts(),
        Some(who),
        action,
        &Target::School(fixture::SCHOOL_ID),
    )
    .is_ok()
}

// REQ-NOT-1: only the admin sets the school's working hours.
#[test]
fn only_the_admin_sets_the_schools_working_hours() {
    assert!(on_school("H", Action::SetWorkingHours));
    for who in ["L", "tA", "sA", "pa1", "a1"] {
        assert!(!on_school(who, Action::SetWorkingHours), "{who}");
    }
    assert!(
        !on_school("X", Action::SetWorkingHours),
        "another school's teacher"
    );
}

// REQ-PRV-5: the safeguarding record is for the school's leaders only.
#[test]
fn only_leaders_read_the_safeguarding_record() {
    for who in ["H", "L"] {
        assert!(on_school(who, Action::ReadSafeguarding), "{who}");
    }
    for who in ["tA", "sA", "tB", "pa1", "pa3", "a1", "X"] {
        assert!(!on_school(who, Action::ReadSafeguarding), "{who}");
    }
}

// REQ-ACC-1: teachers create classes; so do the admin and leaders. Nobody else.
#[test]
fn teachers_and_leadership_create_classes_and_nobody_else_does() {
    for who in ["H", "L", "tA", "tB"] {
        assert!(on_school(who, Action::CreateClass), "{who}");
    }
    for who in ["sA", "pa1", "pa3", "a1", "X"] {
        assert!(!on_school(who, Action::CreateClass), "{who}");
    }
}
