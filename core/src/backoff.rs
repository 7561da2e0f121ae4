//! When to try the server again after it could not be reached or asked us to slow down:
//! exponential from 0.5 s to 60 s with jitter, never sooner than its `Retry-After`.

use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};

/// The first retry delay.
pub const FIRST: Duration = Duration::from_millis(500);
/// The longest retry delay.
pub const MAX: Duration = Duration::from_secs(60);

/// The delay before attempt `failures + 1`: doubling per failure, capped, then "equal jitter"
/// (a random point in the upper half) so a school's tablets do not all retry at once.
pub fn delay(failures: u32, retry_after: Option<Duration>) -> Duration {
    let exp = FIRST.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    let capped = exp.min(MAX);
    let half = capped / 2;
    let jittered = half + half.mul_f64(random_unit());
    match retry_after {
        Some(r) => jittered.max(r),
        None => jittered,
    }
}

fn random_unit() -> f64 {
    let mut b = [0u8; 4];
    match SystemRandom::new().fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_from_half_a_second_to_a_minute_with_jitter() {
        for _ in 0..50 {
            let first = delay(1, None);
            assert!(
                first >= Duration::from_millis(250) && first <= FIRST,
                "{first:?}"
            );
            let third = delay(3, None);
            assert!(
                third >= Duration::from_secs(1) && third <= Duration::from_secs(2),
                "{third:?}"
            );
            let many = delay(40, None);
            assert!(many >= MAX / 2 && many <= MAX, "{many:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured() {
        assert!(delay(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
    }
}
