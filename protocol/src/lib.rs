//! homeroom-protocol: what both the phone and the server need — wire types and the school's
//! rules — so the two can never disagree about who may see or do what.

pub mod access;
pub mod attachments;
pub mod codes;
pub mod consent;
pub mod devices;
pub mod fixture;
pub mod goals;
pub mod invites;
pub mod membership;
pub mod messaging;
pub mod notify;
pub mod posts;
pub mod reports;
pub mod retention;
pub mod safeguarding;
pub mod skills;
pub mod social;
pub mod wire;

pub use access::{can, Action, Decision, Denied, Role, SchoolFacts, Target};
