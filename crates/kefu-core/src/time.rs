//! UTC timestamps with one fixed text form.
//!
//! Both database backends store times as fixed-width RFC 3339 text with microseconds
//! (`2026-11-25T10:50:12.123456Z`), so the same SQL compares and sorts them on SQLite and
//! PostgreSQL alike; the API shows the same text.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// A point in time, always UTC, with microsecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// A timestamp text that is not RFC 3339.
#[derive(Debug, thiserror::Error)]
#[error("invalid timestamp: {0}")]
pub struct TimestampError(String);

impl Timestamp {
    /// The current time, truncated to microseconds so it survives a round trip through text.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    fn from_datetime(dt: OffsetDateTime) -> Self {
        let dt = dt.to_offset(UtcOffset::UTC);
        let micros = dt.microsecond();
        Self(dt.replace_nanosecond(micros * 1_000).unwrap_or(dt))
    }

    /// Parses any RFC 3339 text (any offset) into UTC.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map(Self::from_datetime)
            .map_err(|e| TimestampError(e.to_string()))
    }

    /// The instant `seconds` after the Unix epoch; none outside the years `time` represents.
    pub fn from_unix_seconds(seconds: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .map(Self::from_datetime)
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// This time moved by a number of seconds (negative moves back).
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0 + Duration::seconds(seconds))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(FORMAT) {
            Ok(text) => f.write_str(&text),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_is_exact_and_sorts_like_time() {
        let a = Timestamp::now();
        let text = a.to_string();
        assert_eq!(text.len(), 27, "{text}");
        assert_eq!(Timestamp::parse(&text).unwrap(), a);
        let b = a.plus_seconds(1);
        assert!(a.to_string() < b.to_string());
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        let t = Timestamp::parse("2026-11-25T18:00:00+08:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-25T10:00:00.000000Z");
    }
}
