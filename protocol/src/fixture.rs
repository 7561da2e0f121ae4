//! The fixture school of DESIGN.md, for tests, demos and the access matrix: one definition,
//! so the server's seed, the rule tests and the shells' tests all mean the same people.

use std::collections::BTreeMap;

use crate::access::{ClassFacts, PupilFacts, Role, SchoolFacts, UserFacts};

/// The fixture school's id.
pub const SCHOOL_ID: &str = "greenfield";
/// The fixture school's name.
pub const SCHOOL_NAME: &str = "Greenfield Primary";
/// The enrolment key of the fixture school's test tablet (REQ-ACC-6), known like the fixture
/// passwords: tests and demos only. A real tablet gets its key from the school's admin.
pub const ENROLLED_TABLET_KEY: &str = "GREENFIELD-TEST-TABLET";
/// The other school teacher X belongs to.
pub const OTHER_SCHOOL_ID: &str = "riverside";

/// A person of the fixture, with known credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureUser {
    pub id: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub school_id: &'static str,
    /// Pupils sign in with a code instead.
    pub pupil_id: Option<&'static str>,
}

impl FixtureUser {
    /// The sign-in email of staff and parents.
    pub fn email(&self) -> String {
        format!("{}@{}.test", self.id.to_lowercase(), self.school_id)
    }
    /// The known password (fixture only).
    pub fn password(&self) -> String {
        format!("{}-password", self.id)
    }
    /// The known pupil code of a pupil (fixture only).
    pub fn pupil_code(&self) -> Option<String> {
        self.pupil_id.map(|p| format!("PUPIL-{}", p.to_uppercase()))
    }
}

/// A class of the fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureClass {
    pub id: &'static str,
    pub name: &'static str,
    pub teachers: &'static [&'static str],
    pub staff: &'static [&'static str],
    pub show_points_to_parents: bool,
}

/// A pupil of the fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixturePupil {
    pub id: &'static str,
    pub display_name: &'static str,
    /// `None`: the pupil has left.
    pub class_id: Option<&'static str>,
    pub parents: &'static [&'static str],
}

const fn user(
    id: &'static str,
    display_name: &'static str,
    role: Role,
    pupil_id: Option<&'static str>,
) -> FixtureUser {
    FixtureUser {
        id,
        display_name,
        role,
        school_id: SCHOOL_ID,
        pupil_id,
    }
}

/// Everyone: H head teacher, L leader, class A (tA, sA, a1, a2), class B (tB, b1), parents,
/// a3 who left with parent pa3, and X, a teacher of another school.
pub const USERS: [FixtureUser; 14] = [
    user("H", "Mrs Hughes", Role::Admin, None),
    user("L", "Mr Lewis", Role::Leader, None),
    user("tA", "Ms Khan", Role::Teacher, None),
    user("sA", "Mr Shah", Role::Staff, None),
    user("tB", "Mrs Brown", Role::Teacher, None),
    user("pa1", "Sara Ahmed", Role::Parent, None),
    user("pa2", "Tom Baker", Role::Parent, None),
    user("pb1", "Lena Cruz", Role::Parent, None),
    user("pa3", "Omar Dinh", Role::Parent, None),
    user("a1", "Amira", Role::Pupil, Some("a1")),
    user("a2", "Ben", Role::Pupil, Some("a2")),
    user("b1", "Chloe", Role::Pupil, Some("b1")),
    user("a3", "Dev", Role::Pupil, Some("a3")),
    FixtureUser {
        id: "X",
        display_name: "Mr Xavier",
        role: Role::Teacher,
        school_id: OTHER_SCHOOL_ID,
        pupil_id: None,
    },
];

/// Class A shows points to parents; class B does not (REQ-PTS-5).
pub const CLASSES: [FixtureClass; 2] = [
    FixtureClass {
        id: "classA",
        name: "Class A (Year 3)",
        teachers: &["tA"],
        staff: &["sA"],
        show_points_to_parents: true,
    },
    FixtureClass {
        id: "classB",
        name: "Class B (Year 4)",
        teachers: &["tB"],
        staff: &[],
        show_points_to_parents: false,
    },
];

/// a3 left class A; pa3's link stays on record but grants nothing (REQ-ACC-5).
pub const PUPILS: [FixturePupil; 4] = [
    FixturePupil {
        id: "a1",
        display_name: "Amira",
        class_id: Some("classA"),
        parents: &["pa1"],
    },
    FixturePupil {
        id: "a2",
        display_name: "Ben",
        class_id: Some("classA"),
        parents: &["pa2"],
    },
    FixturePupil {
        id: "b1",
        display_name: "Chloe",
        class_id: Some("classB"),
        parents: &["pb1"],
    },
    FixturePupil {
        id: "a3",
        display_name: "Dev",
        class_id: None,
        parents: &["pa3"],
    },
];

/// Looks a fixture person up by id.
pub fn user_by_id(id: &str) -> Option<&'static FixtureUser> {
    USERS.iter().find(|u| u.id == id)
}

/// The fixture as the facts the access rules read.
pub fn facts() -> SchoolFacts {
    let users = USERS
        .iter()
        .map(|u| {
            (
                u.id.to_owned(),
                UserFacts {
                    role: u.role,
                    school_id: u.school_id.to_owned(),
                    pupil_id: u.pupil_id.map(str::to_owned),
                    messaging_removed: false,
                },
            )
        })
        .collect::<BTreeMap<_, _>>();
    let classes = CLASSES
        .iter()
        .map(|c| {
            (
                c.id.to_owned(),
                ClassFacts {
                    school_id: SCHOOL_ID.to_owned(),
                    teacher_ids: c.teachers.iter().map(|s| (*s).to_owned()).collect(),
                    staff_ids: c.staff.iter().map(|s| (*s).to_owned()).collect(),
                    show_points_to_parents: c.show_points_to_parents,
                },
            )
        })
        .collect();
    let pupils = PUPILS
        .iter()
        .map(|p| {
            (
                p.id.to_owned(),
                PupilFacts {
                    school_id: SCHOOL_ID.to_owned(),
                    class_id: p.class_id.map(str::to_owned),
                    parent_ids: p.parents.iter().map(|s| (*s).to_owned()).collect(),
                },
            )
        })
        .collect();
    SchoolFacts {
        users,
        classes,
        pupils,
    }
}
