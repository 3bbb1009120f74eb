//! The server's one clock: timestamps are whole seconds since the Unix epoch, as
//! `i64` (what SQL stores and JWTs carry), read from the system clock here only.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, seconds)
}

/// `duration` in whole seconds, saturating at `i64::MAX`.
pub(crate) fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}
