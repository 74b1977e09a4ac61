//! The shop's own settings, set with `shopchat settings` and kept in the
//! database so `serve` and the terminal see the same: its time zone (days
//! and times everywhere are the shop's), weekly hours, when to go "away",
//! and the away auto-reply. Parsing and the clock rules live here.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::store::settings;

/// The auto-reply when the shop has not written its own.
pub const DEFAULT_AWAY_REPLY: &str = "Thanks for your message! Nobody can answer right now; we will reply as soon as we are back. Leave your email and we'll send the answer there too.";

/// One setting: its name for `shopchat settings`, and what it means.
pub struct Key {
    pub name: &'static str,
    pub help: &'static str,
}

/// Every setting `shopchat settings set` takes.
pub const KEYS: &[Key] = &[
    Key {
        name: "timezone",
        help: "the shop's IANA time zone, e.g. Europe/Kyiv (default UTC): days and times in stats, the panel, the terminal and the hours",
    },
    Key {
        name: "hours",
        help: "weekly hours in the shop's zone, e.g. \"mon-fri 09:00-18:00, sat 10:00-14:00\" (default: always open)",
    },
    Key {
        name: "away-after",
        help: "minutes without an answer after which a chat is 'away' (auto-reply, ask for an email); 0 or unset: only outside the hours",
    },
    Key {
        name: "away-reply",
        help: "the auto-reply posted once per chat when nobody can answer (default: a short English text)",
    },
    Key {
        name: "contact-first",
        help: "yes: the widget asks for name and phone before the first message (default no: after it)",
    },
];

/// Opening hours: for each weekday (Monday first), minute ranges
/// `[start, end)` of the local day.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeeklyHours {
    days: [Vec<(u32, u32)>; 7],
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WeeklyHours {
    /// Parses "mon-fri 09:00-18:00, sat 10:00-14:00": items separated by
    /// `,` or `;`, each a day or a day range and one or more time ranges.
    /// `daily` means every day; `24:00` ends a day.
    pub fn parse(s: &str) -> Result<WeeklyHours> {
        let bad = |why: String| {
            Error::bad_request(format!(
                "hours: {why}; write it like \"mon-fri 09:00-18:00, sat 10:00-14:00\""
            ))
        };
        let mut h = WeeklyHours::default();
        let mut any = false;
        for item in s.split([',', ';']).map(str::trim).filter(|i| !i.is_empty()) {
            let mut words = item.split_whitespace();
            let days = words.next().unwrap_or("").to_ascii_lowercase();
            let (first, last) = match days.as_str() {
                "daily" | "every" | "all" => (0, 6),
                d => {
                    if let Some((a, b)) = d.split_once('-') {
                        (
                            day(a).ok_or_else(|| bad(format!("'{a}' is not a day")))?,
                            day(b).ok_or_else(|| bad(format!("'{b}' is not a day")))?,
                        )
                    } else {
                        let n = day(d).ok_or_else(|| bad(format!("'{d}' is not a day")))?;
                        (n, n)
                    }
                }
            };
            let mut ranges = Vec::new();
            for r in words {
                let (a, b) = r
                    .split_once('-')
                    .ok_or_else(|| bad(format!("'{r}' is not a time range like 09:00-18:00")))?;
                let (a, b) = (
                    minute(a).ok_or_else(|| bad(format!("'{a}' is not a time")))?,
                    minute(b).ok_or_else(|| bad(format!("'{b}' is not a time")))?,
                );
                if b <= a {
                    return Err(bad(format!("'{r}' ends before it starts")));
                }
                ranges.push((a, b));
            }
            if ranges.is_empty() {
                return Err(bad(format!("'{item}' has no times")));
            }
            let mut d = first;
            loop {
                h.days[d].extend(ranges.iter().copied());
                h.days[d].sort_unstable();
                any = true;
                if d == last {
                    break;
                }
                d = (d + 1) % 7;
            }
        }
        if !any {
            return Err(bad("no days given".into()));
        }
        Ok(h)
    }

    /// Whether the shop is open at the local time `t`.
    fn open_at(&self, weekday: usize, minute: u32) -> bool {
        self.days[weekday]
            .iter()
            .any(|&(a, b)| a <= minute && minute < b)
    }

    /// The hours written back in the canonical form.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (i, ranges) in self.days.iter().enumerate() {
            if ranges.is_empty() {
                continue;
            }
            let times: Vec<String> = ranges
                .iter()
                .map(|&(a, b)| format!("{}-{}", hhmm(a), hhmm(b)))
                .collect();
            parts.push(format!("{} {}", DAY_NAMES[i], times.join(" ")));
        }
        parts.join(", ")
    }
}

fn day(s: &str) -> Option<usize> {
    let s = s.to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|d| s.len() >= 3 && (s.starts_with(d) || *d == s))
}

fn minute(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':').unwrap_or((s, "0"));
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// What the shop has set, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Shop {
    /// The shop's zone; UTC unless set.
    pub tz: Tz,
    /// Whether a zone was set (the terminal otherwise keeps the machine's).
    pub tz_set: bool,
    /// `None`: always open.
    pub hours: Option<WeeklyHours>,
    /// Minutes without an answer before a chat goes away; `None`: never.
    pub away_after: Option<u32>,
    pub away_reply: String,
    pub contact_first: bool,
}

impl Default for Shop {
    fn default() -> Self {
        Shop {
            tz: Tz::UTC,
            tz_set: false,
            hours: None,
            away_after: None,
            away_reply: DEFAULT_AWAY_REPLY.to_string(),
            contact_first: false,
        }
    }
}

impl Shop {
    /// Reads the settings; a value that no longer parses counts as unset.
    pub fn load(conn: &Connection) -> Result<Shop> {
        let mut shop = Shop::default();
        for (k, v) in settings::all(conn)? {
            // Values were checked when set; ignore any that are not.
            let _ = shop.apply(&k, &v);
        }
        Ok(shop)
    }

    /// Applies one setting, checking it.
    pub fn apply(&mut self, key: &str, value: &str) -> Result<()> {
        let v = value.trim();
        match key {
            "timezone" => {
                self.tz = v.parse::<Tz>().map_err(|_| {
                    Error::bad_request(format!(
                        "timezone: '{v}' is not an IANA time zone name like Europe/Kyiv or America/New_York"
                    ))
                })?;
                self.tz_set = true;
            }
            "hours" => self.hours = Some(WeeklyHours::parse(v)?),
            "away-after" => {
                let n: u32 = v.parse().map_err(|_| {
                    Error::bad_request(format!(
                        "away-after: '{v}' is not a whole number of minutes"
                    ))
                })?;
                if n > 7 * 24 * 60 {
                    return Err(Error::bad_request(
                        "away-after: at most a week (10080 minutes)",
                    ));
                }
                self.away_after = (n > 0).then_some(n);
            }
            "away-reply" => {
                crate::chat::validate_text(v)?;
                self.away_reply = v.to_string();
            }
            "contact-first" => {
                self.contact_first = match v.to_ascii_lowercase().as_str() {
                    "yes" | "1" | "true" | "on" => true,
                    "no" | "0" | "false" | "off" => false,
                    _ => return Err(Error::bad_request("contact-first: yes or no")),
                }
            }
            other => {
                let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
                return Err(Error::bad_request(format!(
                    "no setting '{other}'; the settings are: {}",
                    names.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Whether someone is there at `now` (always, without hours).
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        let Some(h) = &self.hours else {
            return true;
        };
        let local = now.with_timezone(&self.tz);
        let minute = local.time().hour_minute();
        h.open_at(local.weekday().num_days_from_monday() as usize, minute)
    }

    /// When the shop opens next after `now` (`None` when open now or when
    /// it has no hours at all).
    pub fn next_open(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let h = self.hours.as_ref()?;
        if self.is_open(now) {
            return None;
        }
        let local = now.with_timezone(&self.tz);
        for d in 0..=7 {
            let date = local.date_naive() + Duration::days(d);
            let weekday = date.weekday().num_days_from_monday() as usize;
            for &(start, _) in &h.days[weekday] {
                let t = self.at(date, start);
                if t > now {
                    return Some(t);
                }
            }
        }
        None
    }

    /// The moment local `date` + `minute` is in the shop's zone. A time the
    /// clock skips (spring forward) is the first moment after the gap; a
    /// time it repeats is the first of the two.
    pub fn at(&self, date: NaiveDate, minute: u32) -> DateTime<Utc> {
        let naive = date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minute));
        let mut probe = naive;
        for _ in 0..4 {
            match self.tz.from_local_datetime(&probe) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    return t.with_timezone(&Utc)
                }
                LocalResult::None => probe += Duration::minutes(30),
            }
        }
        naive.and_utc()
    }

    /// The start of the shop's day that holds `now`.
    pub fn day_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.at(now.with_timezone(&self.tz).date_naive(), 0)
    }
}

trait HourMinute {
    fn hour_minute(&self) -> u32;
}

impl HourMinute for NaiveTime {
    fn hour_minute(&self) -> u32 {
        use chrono::Timelike;
        self.hour() * 60 + self.minute()
    }
}

/// Stores a setting after checking it (`shopchat settings set`).
pub fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    let mut probe = Shop::default();
    probe.apply(key, value)?;
    settings::set(conn, key, value.trim())
}

/// Removes a setting (back to its default); checks the name.
pub fn unset(conn: &Connection, key: &str) -> Result<bool> {
    if !KEYS.iter().any(|k| k.name == key) {
        let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        return Err(Error::bad_request(format!(
            "no setting '{key}'; the settings are: {}",
            names.join(", ")
        )));
    }
    settings::unset(conn, key)
}

/// The start of today in the shop's zone, formatted (for stats).
pub fn today_start(conn: &Connection) -> Result<String> {
    let shop = Shop::load(conn)?;
    Ok(crate::time::format(shop.day_start(Utc::now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        crate::time::parse(s).unwrap()
    }

    fn kyiv(hours: &str) -> Shop {
        let mut s = Shop::default();
        s.apply("timezone", "Europe/Kyiv").unwrap();
        s.apply("hours", hours).unwrap();
        s
    }

    #[test]
    fn hours_parse_and_describe() {
        let h = WeeklyHours::parse("Mon-Fri 9:00-18:00; sat 10:00-14:00 ").unwrap();
        assert_eq!(
            h.describe(),
            "mon 09:00-18:00, tue 09:00-18:00, wed 09:00-18:00, thu 09:00-18:00, fri 09:00-18:00, sat 10:00-14:00"
        );
        assert_eq!(
            WeeklyHours::parse("fri-mon 20:00-24:00")
                .unwrap()
                .describe(),
            "mon 20:00-24:00, fri 20:00-24:00, sat 20:00-24:00, sun 20:00-24:00"
        );
        assert!(WeeklyHours::parse("someday 9-5").is_err());
        assert!(WeeklyHours::parse("mon 18:00-09:00").is_err());
        assert!(WeeklyHours::parse("mon").is_err());
        assert!(WeeklyHours::parse("").is_err());
    }

    #[test]
    fn open_and_next_open_follow_the_shops_clock_across_dst() {
        // Kyiv moves from UTC+2 to UTC+3 on Sunday 2026-03-29 at 03:00.
        let s = kyiv("daily 09:00-18:00");
        // Friday 08:30 local (06:30 UTC, winter): closed; opens 07:00 UTC.
        assert!(!s.is_open(utc("2026-03-27T06:30:00Z")));
        assert_eq!(
            s.next_open(utc("2026-03-27T06:30:00Z")),
            Some(utc("2026-03-27T07:00:00Z"))
        );
        // Monday 09:30 local (06:30 UTC, summer): open.
        assert!(s.is_open(utc("2026-03-30T06:30:00Z")));
        // Saturday 22:00 local: opens Sunday 09:00 summer time = 06:00 UTC.
        assert_eq!(
            s.next_open(utc("2026-03-28T20:00:00Z")),
            Some(utc("2026-03-29T06:00:00Z"))
        );
        // And back in October (UTC+3 to UTC+2 on 2026-10-25).
        assert_eq!(
            s.next_open(utc("2026-10-24T20:00:00Z")),
            Some(utc("2026-10-25T07:00:00Z"))
        );
        assert!(s.next_open(utc("2026-03-30T06:30:00Z")).is_none());
    }

    #[test]
    fn a_start_in_the_spring_gap_is_the_first_moment_after_it() {
        let s = kyiv("sun 03:30-05:00");
        // 03:30 does not exist on 2026-03-29 in Kyiv: 04:00 EEST = 01:00 UTC.
        assert_eq!(
            s.next_open(utc("2026-03-28T12:00:00Z")),
            Some(utc("2026-03-29T01:00:00Z"))
        );
    }

    #[test]
    fn the_shops_day_starts_at_its_midnight() {
        let s = kyiv("daily 09:00-18:00");
        assert_eq!(
            s.day_start(utc("2026-03-30T10:00:00Z")),
            utc("2026-03-29T21:00:00Z")
        );
        assert_eq!(
            s.day_start(utc("2026-03-27T23:30:00Z")),
            utc("2026-03-27T22:00:00Z")
        );
        assert_eq!(
            Shop::default().day_start(utc("2026-03-27T23:30:00Z")),
            utc("2026-03-27T00:00:00Z")
        );
    }

    #[test]
    fn settings_are_checked() {
        let mut s = Shop::default();
        assert!(s.apply("timezone", "Europe/Kiev").is_ok());
        assert!(s.apply("timezone", "Mars/Olympus").is_err());
        assert!(s.apply("away-after", "ten").is_err());
        assert!(s.apply("away-after", "0").is_ok() && s.away_after.is_none());
        assert!(s.apply("colour", "red").is_err());
        assert!(s.apply("contact-first", "yes").is_ok() && s.contact_first);
    }
}
