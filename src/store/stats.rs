//! The numbers behind `GET /api/chat/stats` and `shopchat stats`.

use rusqlite::Connection;
use serde::Serialize;

use crate::error::Result;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub sessions: SessionCounts,
    pub messages: MessageCounts,
    pub today: Today,
    pub first_response_seconds: FirstResponse,
    pub managers: Vec<ManagerStats>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCounts {
    pub total: i64,
    pub active: i64,
    pub closed: i64,
    pub archived: i64,
    /// Active sessions with no manager.
    pub unassigned: i64,
    /// Active sessions whose last message is the visitor's.
    pub awaiting_reply: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageCounts {
    pub total: i64,
    pub from_user: i64,
    pub from_manager: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Today {
    pub sessions: i64,
    pub messages: i64,
}

/// Seconds from a session's first visitor message to the first manager
/// message after it (not the away auto-reply), over the sessions that
/// have one.
#[derive(Debug, Clone, Serialize)]
pub struct FirstResponse {
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagerStats {
    pub manager_id: String,
    pub active_sessions: i64,
    pub messages_sent: i64,
}

/// Computes the stats. `today_start` is when "today" began (the start of
/// the shop's day, an RFC 3339 time as stored). Chats without a message
/// and the away auto-replies are not counted. Every figure is a read of
/// counters kept at write time (migration 6) or an index range over
/// today's rows, so the cost does not grow with the history.
pub fn compute(conn: &Connection, today_start: &str) -> Result<Stats> {
    let sessions = conn
        .prepare_cached(
            "SELECT coalesce(sum(n), 0),
                    coalesce(sum(n) FILTER (WHERE status = 'active'), 0),
                    coalesce(sum(n) FILTER (WHERE status = 'closed'), 0),
                    coalesce(sum(n) FILTER (WHERE status = 'archived'), 0),
                    coalesce(sum(n) FILTER (WHERE status = 'active' AND manager_id = ''), 0),
                    coalesce(sum(n) FILTER (WHERE status = 'active' AND awaiting), 0)
             FROM session_counts WHERE has_messages",
        )?
        .query_row([], |r| {
            Ok(SessionCounts {
                total: r.get(0)?,
                active: r.get(1)?,
                closed: r.get(2)?,
                archived: r.get(3)?,
                unassigned: r.get(4)?,
                awaiting_reply: r.get(5)?,
            })
        })?;
    let messages = conn
        .prepare_cached(
            "SELECT coalesce(sum(n), 0),
                    coalesce(sum(n) FILTER (WHERE sender = 'user'), 0),
                    coalesce(sum(n) FILTER (WHERE sender = 'manager'), 0)
             FROM message_counts WHERE NOT auto",
        )?
        .query_row([], |r| {
            Ok(MessageCounts {
                total: r.get(0)?,
                from_user: r.get(1)?,
                from_manager: r.get(2)?,
            })
        })?;
    let today = Today {
        sessions: conn
            .prepare_cached(
                "SELECT count(*) FROM chat_sessions WHERE created_at >= ?1 AND message_count > 0",
            )?
            .query_row([today_start], |r| r.get(0))?,
        messages: conn
            .prepare_cached(
                "SELECT count(*) FROM chat_messages WHERE created_at >= ?1 AND auto = 0",
            )?
            .query_row([today_start], |r| r.get(0))?,
    };
    let mut stmt =
        conn.prepare_cached("SELECT ds, n FROM first_reply_hist WHERE n > 0 ORDER BY ds")?;
    let hist: Vec<(i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let first_response_seconds = FirstResponse {
        median: percentile_of_hist(&hist, 0.5),
        p90: percentile_of_hist(&hist, 0.9),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT m.id,
            (SELECT coalesce(sum(n), 0) FROM session_counts c
             WHERE c.status = 'active' AND c.manager_id = m.id),
            (SELECT coalesce(sum(n), 0) FROM message_counts c
             WHERE c.sender = 'manager' AND c.manager_id = m.id)
         FROM managers m ORDER BY m.id",
    )?;
    let managers = stmt
        .query_map([], |r| {
            Ok(ManagerStats {
                manager_id: r.get(0)?,
                active_sessions: r.get(1)?,
                messages_sent: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Stats {
        sessions,
        messages,
        today,
        first_response_seconds,
        managers,
    })
}

/// The nearest-rank percentile of the first-reply times from their
/// histogram of tenths of a second (value, count), in seconds. The same
/// number as [`percentile`] over every chat's time: rounding to 0.1 s keeps
/// the order, so the rank-th value rounds to the rank-th bucket.
fn percentile_of_hist(hist: &[(i64, i64)], p: f64) -> Option<f64> {
    let total: i64 = hist.iter().map(|(_, n)| n).sum();
    if total <= 0 {
        return None;
    }
    let rank = ((p * total as f64).ceil() as i64).clamp(1, total);
    let mut seen = 0;
    for &(ds, n) in hist {
        seen += n;
        if seen >= rank {
            return Some(ds as f64 / 10.0);
        }
    }
    None
}

/// Nearest-rank percentile of sorted values, rounded to 0.1 s: the
/// definition, kept for the test that the histogram gives the same.
#[cfg(test)]
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some((sorted[rank - 1] * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::{percentile, percentile_of_hist};

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(5.0));
        assert_eq!(percentile(&v, 0.9), Some(9.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[42.0], 0.9), Some(42.0));
    }

    #[test]
    fn the_histogram_gives_the_same_percentiles_as_the_sorted_values() {
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..200 {
            let n = rng.usize(1..60);
            // Values on and near the .x5 rounding edges, and repeats.
            let mut v: Vec<f64> = (0..n)
                .map(|_| rng.i64(0..400) as f64 * 0.05 + [0.0, 1e-9, -1e-9][rng.usize(..3)])
                .collect();
            v.sort_by(f64::total_cmp);
            let mut hist: Vec<(i64, i64)> = Vec::new();
            for x in &v {
                let ds = (x * 10.0).round() as i64;
                match hist.last_mut() {
                    Some((d, c)) if *d == ds => *c += 1,
                    _ => hist.push((ds, 1)),
                }
            }
            for p in [0.5, 0.9] {
                assert_eq!(
                    percentile_of_hist(&hist, p),
                    percentile(&v, p),
                    "{v:?} p{p}"
                );
            }
        }
    }
}
