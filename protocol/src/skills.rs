//! The skills a new class starts with (REQ-PTS-1); teachers edit their own class's set.

use serde::{Deserialize, Serialize};

/// Positive skills add points; needs-work skills take them away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkillKind {
    Positive,
    NeedsWork,
}

/// A skill template: the class id is added when a class is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultSkill {
    pub key: &'static str,
    pub name: &'static str,
    pub icon: &'static str,
    pub weight: i32,
    pub kind: SkillKind,
    pub category: &'static str,
}

/// The school's sensible default set: four positive, three needs-work.
pub const DEFAULT_SKILLS: [DefaultSkill; 7] = [
    DefaultSkill {
        key: "teamwork",
        name: "Teamwork",
        icon: "people",
        weight: 1,
        kind: SkillKind::Positive,
        category: "attitudes",
    },
    DefaultSkill {
        key: "helping-others",
        name: "Helping others",
        icon: "hand",
        weight: 1,
        kind: SkillKind::Positive,
        category: "attitudes",
    },
    DefaultSkill {
        key: "hard-work",
        name: "Working hard",
        icon: "star",
        weight: 1,
        kind: SkillKind::Positive,
        category: "subject_work",
    },
    DefaultSkill {
        key: "participating",
        name: "Participating",
        icon: "raised-hand",
        weight: 1,
        kind: SkillKind::Positive,
        category: "engagement",
    },
    DefaultSkill {
        key: "off-task",
        name: "Off task",
        icon: "cloud",
        weight: -1,
        kind: SkillKind::NeedsWork,
        category: "engagement",
    },
    DefaultSkill {
        key: "unprepared",
        name: "Unprepared",
        icon: "bag",
        weight: -1,
        kind: SkillKind::NeedsWork,
        category: "attitudes",
    },
    DefaultSkill {
        key: "disrespect",
        name: "Disrespectful",
        icon: "frown",
        weight: -1,
        kind: SkillKind::NeedsWork,
        category: "behaviour",
    },
];

/// The id of a class's copy of a default skill, e.g. `classA-teamwork`.
pub fn skill_id(class_id: &str, key: &str) -> String {
    format!("{class_id}-{key}")
}
