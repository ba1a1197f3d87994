//! The time services reason with (SLA deadlines, breach detection, numbering years).
//!
//! In production it is the system clock. Tests move it forward to check time-based rules
//! without sleeping; the only way to move it is [`Clock::advance`], which no production route
//! calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// The system clock plus an offset (always zero outside tests). Cheap to clone; clones share
/// the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    #[must_use]
    pub fn system() -> Self {
        Self::default()
    }

    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        Utc::now() + Duration::milliseconds(offset)
    }

    /// Move this clock (and its clones) forward by `by` (tests).
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    /// How far this clock is ahead of the system clock.
    #[must_use]
    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_offset() {
        let clock = Clock::system();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(Duration::hours(5));
        let after = copy.now();
        assert!(after - before >= Duration::hours(5));
        assert_eq!(copy.offset(), Duration::hours(5));
    }
}
