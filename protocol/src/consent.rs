//! Photo consent (REQ-CON-1): per pupil and per use, where anything but an explicit grant is a
//! "no". Shared so the device's filter (CON-2) and the server's re-check (CON-4) cannot disagree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a photo of a pupil would be seen. On the wire a plain string (`class_story`,
/// `other:newsletter`), so it can key a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum ConsentUse {
    /// The pupil's own portfolio: seen by the pupil, their family, class staff and leaders.
    OwnPortfolio,
    /// Class Story: seen by the whole class and its families.
    ClassStory,
    /// School Story: seen by every member of the school.
    SchoolStory,
    /// A use the school adds (newsletter, website, …).
    Other(String),
}

impl From<ConsentUse> for String {
    fn from(u: ConsentUse) -> String {
        match u {
            ConsentUse::OwnPortfolio => "own_portfolio".into(),
            ConsentUse::ClassStory => "class_story".into(),
            ConsentUse::SchoolStory => "school_story".into(),
            ConsentUse::Other(name) => format!("other:{name}"),
        }
    }
}

impl TryFrom<String> for ConsentUse {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "own_portfolio" => Ok(ConsentUse::OwnPortfolio),
            "class_story" => Ok(ConsentUse::ClassStory),
            "school_story" => Ok(ConsentUse::SchoolStory),
            _ => match s.strip_prefix("other:") {
                Some(name) if !name.is_empty() => Ok(ConsentUse::Other(name.to_owned())),
                _ => Err(format!("unknown consent use {s:?}")),
            },
        }
    }
}

/// The answer the school holds for one use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    Granted,
    Refused,
    /// Never asked, or no answer yet: a no.
    NotAsked,
    /// Parents disagree: a no until resolved.
    Disputed,
}

/// A pupil's consent record, kept by the school.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// Answers per use; a use with no entry is `NotAsked`.
    #[serde(default)]
    pub uses: BTreeMap<ConsentUse, ConsentState>,
    /// In local-authority care: every shared use is a no unless the placing authority granted it.
    #[serde(default)]
    pub in_care: bool,
    /// Uses the placing authority has granted for a pupil in care.
    #[serde(default)]
    pub authority_grants: Vec<ConsentUse>,
}

/// Why a photo of a pupil may not go somewhere, in words staff can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum ConsentDenied {
    #[error("the family refused consent for this use")]
    Refused,
    #[error("consent for this use has not been given")]
    NotAsked,
    #[error("consent for this use is disputed between parents")]
    Disputed,
    #[error("the pupil is in care and the placing authority has not agreed to this use")]
    InCareWithoutAuthority,
}

impl ConsentRecord {
    /// The school's answer for one use (absent means never asked).
    pub fn state(&self, used: &ConsentUse) -> ConsentState {
        self.uses
            .get(used)
            .copied()
            .unwrap_or(ConsentState::NotAsked)
    }

    /// Whether a photo of this pupil may be used so: only an explicit grant says yes, and for a
    /// pupil in care only the placing authority's grant does (REQ-CON-1).
    pub fn allows(&self, used: &ConsentUse) -> Result<(), ConsentDenied> {
        if self.in_care && !self.authority_grants.contains(used) {
            return Err(ConsentDenied::InCareWithoutAuthority);
        }
        if self.in_care {
            return Ok(());
        }
        match self.state(used) {
            ConsentState::Granted => Ok(()),
            ConsentState::Refused => Err(ConsentDenied::Refused),
            ConsentState::NotAsked => Err(ConsentDenied::NotAsked),
            ConsentState::Disputed => Err(ConsentDenied::Disputed),
        }
    }

    /// Restrictions to show as badges wherever staff pick this pupil (REQ-CON-5): every
    /// standard use that is not allowed, with why. Empty means no restriction.
    pub fn badges(&self) -> Vec<(ConsentUse, ConsentDenied)> {
        let mut uses: Vec<ConsentUse> = vec![
            ConsentUse::OwnPortfolio,
            ConsentUse::ClassStory,
            ConsentUse::SchoolStory,
        ];
        for u in self.uses.keys() {
            if !uses.contains(u) {
                uses.push(u.clone());
            }
        }
        uses.into_iter()
            .filter_map(|u| self.allows(&u).err().map(|why| (u, why)))
            .collect()
    }
}

/// The verdict on tags for one photo and one audience (the face check comes on top, CON-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagVerdict {
    /// Every tagged pupil may appear there.
    Allowed,
    /// This pupil may not appear there; the photo is blocked unless their face is blurred.
    Blocked {
        pupil_id: String,
        reason: ConsentDenied,
    },
}

/// Checks every tagged pupil's record for `used`; a tagged pupil with no record is a no
/// (REQ-CON-1: missing answers mean no). The first refusal, in tag order, is reported.
pub fn check_tags(
    records: &BTreeMap<String, ConsentRecord>,
    tagged: &[String],
    used: &ConsentUse,
) -> TagVerdict {
    for pupil in tagged {
        let verdict = match records.get(pupil) {
            Some(r) => r.allows(used),
            None => Err(ConsentDenied::NotAsked),
        };
        if let Err(reason) = verdict {
            return TagVerdict::Blocked {
                pupil_id: pupil.clone(),
                reason,
            };
        }
    }
    TagVerdict::Allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pairs: &[(ConsentUse, ConsentState)]) -> ConsentRecord {
        ConsentRecord {
            uses: pairs.iter().cloned().collect(),
            ..Default::default()
        }
    }

    #[test]
    fn only_an_explicit_grant_is_a_yes() {
        // REQ-CON-1: refusal, dispute and a missing answer all mean no.
        let r = record(&[
            (ConsentUse::OwnPortfolio, ConsentState::Granted),
            (ConsentUse::ClassStory, ConsentState::Refused),
            (ConsentUse::SchoolStory, ConsentState::Disputed),
        ]);
        assert_eq!(r.allows(&ConsentUse::OwnPortfolio), Ok(()));
        assert_eq!(
            r.allows(&ConsentUse::ClassStory),
            Err(ConsentDenied::Refused)
        );
        assert_eq!(
            r.allows(&ConsentUse::SchoolStory),
            Err(ConsentDenied::Disputed)
        );
        assert_eq!(
            r.allows(&ConsentUse::Other("website".into())),
            Err(ConsentDenied::NotAsked)
        );
        assert_eq!(
            ConsentRecord::default().allows(&ConsentUse::OwnPortfolio),
            Err(ConsentDenied::NotAsked)
        );
    }

    #[test]
    fn a_pupil_in_care_needs_the_placing_authority_even_if_a_carer_granted() {
        let mut r = record(&[(ConsentUse::ClassStory, ConsentState::Granted)]);
        r.in_care = true;
        assert_eq!(
            r.allows(&ConsentUse::ClassStory),
            Err(ConsentDenied::InCareWithoutAuthority)
        );
        r.authority_grants.push(ConsentUse::OwnPortfolio);
        assert_eq!(r.allows(&ConsentUse::OwnPortfolio), Ok(()));
        assert_eq!(
            r.allows(&ConsentUse::ClassStory),
            Err(ConsentDenied::InCareWithoutAuthority)
        );
    }

    #[test]
    fn family_scope_own_portfolio_only_allows_just_that() {
        // REQ-CON-1: "own family's portfolio only" is a grant for one use and nothing else.
        let r = record(&[(ConsentUse::OwnPortfolio, ConsentState::Granted)]);
        assert_eq!(r.allows(&ConsentUse::OwnPortfolio), Ok(()));
        let badges = r.badges();
        assert_eq!(
            badges.iter().map(|(u, _)| u.clone()).collect::<Vec<_>>(),
            vec![ConsentUse::ClassStory, ConsentUse::SchoolStory]
        );
    }

    #[test]
    fn a_restricted_tagged_pupil_blocks_the_photo_and_is_named() {
        // REQ-CON-2: a1 may appear on Class Story, a2 refused.
        let mut records = BTreeMap::new();
        records.insert(
            "a1".to_owned(),
            record(&[(ConsentUse::ClassStory, ConsentState::Granted)]),
        );
        records.insert(
            "a2".to_owned(),
            record(&[(ConsentUse::ClassStory, ConsentState::Refused)]),
        );
        let tags = vec!["a1".to_owned(), "a2".to_owned()];
        assert_eq!(
            check_tags(&records, &tags, &ConsentUse::ClassStory),
            TagVerdict::Blocked {
                pupil_id: "a2".into(),
                reason: ConsentDenied::Refused
            }
        );
        assert_eq!(
            check_tags(&records, &tags[..1], &ConsentUse::ClassStory),
            TagVerdict::Allowed
        );
        // A pupil with no record at all is a no.
        assert!(matches!(
            check_tags(&records, &["b1".to_owned()], &ConsentUse::ClassStory),
            TagVerdict::Blocked { .. }
        ));
    }

    #[test]
    fn records_round_trip_on_the_wire() {
        let mut r = record(&[(
            ConsentUse::Other("newsletter".into()),
            ConsentState::Granted,
        )]);
        r.in_care = true;
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"other:newsletter\":\"granted\""), "{json}");
        assert_eq!(serde_json::from_str::<ConsentRecord>(&json).unwrap(), r);
        assert!(serde_json::from_str::<ConsentUse>("\"selfies\"").is_err());
    }
}
