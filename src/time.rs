//! Timestamps: RFC 3339 UTC with milliseconds, the one format in the
//! database and in JSON. They sort correctly as strings.

use chrono::{DateTime, SecondsFormat, Utc};

/// Now, formatted.
pub fn now() -> String {
    format(Utc::now())
}

pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses any RFC 3339 timestamp (any offset) into UTC.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The nearest time RFC 3339 can write in UTC (years 0000 to 9999): a
/// parsed time with an offset may fall just outside.
pub fn clamp_to_rfc3339(t: DateTime<Utc>) -> DateTime<Utc> {
    let first = DateTime::parse_from_rfc3339("0000-01-01T00:00:00Z").expect("valid");
    let last = DateTime::parse_from_rfc3339("9999-12-31T23:59:59.999Z").expect("valid");
    t.clamp(first.with_timezone(&Utc), last.with_timezone(&Utc))
}

/// Start of today (UTC), formatted.
pub fn today_start() -> String {
    let d = Utc::now().date_naive();
    format(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
}
