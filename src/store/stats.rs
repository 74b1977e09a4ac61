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
/// message after it, over the sessions that have one.
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

/// Computes the stats; `today_start` is the start of the shop's day. Chats
/// without a message and the away auto-replies are not counted.
pub fn compute(conn: &Connection, today_start: &str) -> Result<Stats> {
    let sessions = conn.query_row(
        "SELECT count(*),
                coalesce(sum(status = 'active'), 0),
                coalesce(sum(status = 'closed'), 0),
                coalesce(sum(status = 'archived'), 0),
                coalesce(sum(status = 'active' AND manager_id IS NULL), 0),
                coalesce(sum(status = 'active' AND last_sender = 'user'), 0)
         FROM chat_sessions WHERE message_count > 0",
        [],
        |r| {
            Ok(SessionCounts {
                total: r.get(0)?,
                active: r.get(1)?,
                closed: r.get(2)?,
                archived: r.get(3)?,
                unassigned: r.get(4)?,
                awaiting_reply: r.get(5)?,
            })
        },
    )?;
    let messages = conn.query_row(
        "SELECT count(*), coalesce(sum(sender = 'user'), 0),
                coalesce(sum(sender = 'manager' AND auto = 0), 0)
         FROM chat_messages WHERE auto = 0",
        [],
        |r| {
            Ok(MessageCounts {
                total: r.get(0)?,
                from_user: r.get(1)?,
                from_manager: r.get(2)?,
            })
        },
    )?;
    let today = Today {
        sessions: conn.query_row(
            "SELECT count(*) FROM chat_sessions WHERE created_at >= ?1 AND message_count > 0",
            [today_start],
            |r| r.get(0),
        )?,
        messages: conn.query_row(
            "SELECT count(*) FROM chat_messages WHERE created_at >= ?1 AND auto = 0",
            [today_start],
            |r| r.get(0),
        )?,
    };
    let mut stmt = conn.prepare(
        "WITH first_user AS (
             SELECT session_id, min(seq) AS seq FROM chat_messages WHERE sender = 'user'
             GROUP BY session_id
         )
         SELECT (julianday(r.created_at) - julianday(u.created_at)) * 86400.0
         FROM first_user f
         JOIN chat_messages u ON u.seq = f.seq
         JOIN chat_messages r ON r.seq = (
             SELECT min(seq) FROM chat_messages
             WHERE session_id = f.session_id AND sender = 'manager' AND auto = 0 AND seq > f.seq)",
    )?;
    let mut waits: Vec<f64> = stmt
        .query_map([], |r| r.get::<_, f64>(0))?
        .collect::<rusqlite::Result<_>>()?;
    waits.sort_by(f64::total_cmp);
    let first_response_seconds = FirstResponse {
        median: percentile(&waits, 0.5),
        p90: percentile(&waits, 0.9),
    };
    let mut stmt = conn.prepare(
        "SELECT m.id,
            (SELECT count(*) FROM chat_sessions s WHERE s.manager_id = m.id AND s.status = 'active'),
            (SELECT count(*) FROM chat_messages c WHERE c.manager_id = m.id AND c.sender = 'manager')
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

/// Nearest-rank percentile of sorted values, rounded to 0.1 s.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some((sorted[rank - 1] * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(5.0));
        assert_eq!(percentile(&v, 0.9), Some(9.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[42.0], 0.9), Some(42.0));
    }
}
