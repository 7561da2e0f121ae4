//! Rate limits on guessing (REQ-ACC-2, issue 5 hardening): per client address and per account,
//! so neither one device nor a spread of devices can try passwords or codes quickly.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ServerError;

/// Sign-in attempts allowed per client address per minute.
pub const PER_CLIENT_PER_MINUTE: u32 = 60;
/// Sign-in attempts allowed per account (email or code) per minute.
pub const PER_ACCOUNT_PER_MINUTE: u32 = 10;

/// Parent-code guesses allowed per client address per minute (the 61st is refused).
pub const CODES_PER_CLIENT_PER_MINUTE: u32 = 60;
/// Parent-code guesses allowed per minute in all (a school's codes, whoever guesses).
pub const CODES_PER_MINUTE: u32 = 600;

/// The server's guessing limits.
pub struct Limits {
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    codes_per_client: DefaultKeyedRateLimiter<IpAddr>,
    codes_overall: DefaultKeyedRateLimiter<()>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_client: DefaultKeyedRateLimiter::keyed(per_minute(PER_CLIENT_PER_MINUTE)),
            per_account: DefaultKeyedRateLimiter::keyed(per_minute(PER_ACCOUNT_PER_MINUTE)),
            codes_per_client: DefaultKeyedRateLimiter::keyed(per_minute(
                CODES_PER_CLIENT_PER_MINUTE,
            )),
            codes_overall: DefaultKeyedRateLimiter::keyed(per_minute(CODES_PER_MINUTE)),
        }
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl Limits {
    /// Counts one sign-in attempt; refuses with how long to wait when over either limit.
    pub fn sign_in(&self, client: Option<IpAddr>, account: &str) -> Result<(), ServerError> {
        if let Some(ip) = client {
            self.per_client
                .check_key(&ip)
                .map_err(|n| too_many(n.wait_time_from(DefaultClock::default().now())))?;
        }
        self.per_account
            .check_key(&account.to_lowercase())
            .map_err(|n| too_many(n.wait_time_from(DefaultClock::default().now())))
    }
}

impl Limits {
    /// Counts one parent-code redemption attempt, per client address and overall.
    pub fn redeem(&self, client: Option<IpAddr>) -> Result<(), ServerError> {
        let now = || DefaultClock::default().now();
        if let Some(ip) = client {
            self.codes_per_client
                .check_key(&ip)
                .map_err(|n| too_many(n.wait_time_from(now())))?;
        }
        self.codes_overall
            .check_key(&())
            .map_err(|n| too_many(n.wait_time_from(now())))
    }
}

fn too_many(wait: Duration) -> ServerError {
    ServerError::RateLimited {
        retry_after_secs: wait.as_secs().max(1),
    }
}
