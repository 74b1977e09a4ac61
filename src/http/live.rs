//! Live updates over plain HTTP: long-polls wait in a waiting room, not in
//! a worker, and typing state lives in memory.
//!
//! A worker that finds nothing new for a poll with `wait=S` hands the request
//! here ([`Live::park`]) and moves on. One thread (`live`) answers parked
//! requests when their chat changes, when the other side's typing changes,
//! or when their time is up. It learns about changes from the database
//! itself: every change to a chat takes a new `change_seq`, and the thread
//! reads the chats changed since the last it saw whenever it is poked
//! (after a commit in this process: at once) or `PRAGMA data_version` moved
//! (a commit by another process, e.g. `shopchat reply`: within 50 ms).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::{json, Value};

use super::Reply;
use crate::chat;
use crate::error::Result;
use crate::store::messages::Since;
use crate::store::sessions::{self, Side};

/// Longest `wait` a poll may ask for, in seconds.
pub const MAX_WAIT_SECS: u64 = 30;
/// Parked polls of one chat (one per open tab); past it the oldest answers.
const PER_CHAT: usize = 4;
/// How long "typing" lasts without being renewed.
pub const TYPING_FOR: Duration = Duration::from_secs(6);
/// How often other processes' commits are looked for.
const WATCH_EVERY: Duration = Duration::from_millis(50);

/// Which side of the chat a poll is for (the other side's typing and seen
/// state is what it shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Visitor,
    Manager,
}

/// What a parked request waits for.
#[derive(Debug, Clone)]
pub enum Park {
    /// A chat's messages after `since`.
    Poll {
        session_id: String,
        role: Role,
        since: i64,
        limit: u32,
        state: Option<String>,
        /// The chat's `change_seq` read before its answer was computed: a
        /// change at or below it was already in that answer.
        change: i64,
    },
    /// The admin feed: chats changed after `since`.
    Feed { since: i64, state: Option<String> },
}

/// A request waiting for its answer.
pub struct Parked {
    pub park: Park,
    pub until: Instant,
    /// Turns the answer into the client's response (CORS, logging).
    pub respond: Box<dyn FnOnce(Reply) + Send>,
}

#[derive(Default)]
struct Typing {
    visitor_until: Option<Instant>,
    manager_until: Option<Instant>,
}

#[derive(Default)]
struct State {
    polls: HashMap<String, Vec<Parked>>,
    feeds: Vec<Parked>,
    parked: usize,
    typing: HashMap<String, Typing>,
    /// Chats whose parked polls should be answered, and for whom.
    woken: HashMap<String, WakeFor>,
    /// The feed should answer requests whose cursor is below this stamp
    /// (`i64::MAX`: every one, e.g. typing changed); 0: none.
    feed_woken: i64,
    poked: bool,
    stopping: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct WakeFor {
    visitor: bool,
    manager: bool,
    /// The change that woke them: polls that already saw it keep waiting
    /// (`i64::MAX` for typing, which is not stored).
    stamp: i64,
}

/// A wake for something not stored (typing): news to everyone.
const ANY: i64 = i64::MAX;

/// The waiting room.
pub struct Live {
    state: Mutex<State>,
    cond: Condvar,
    max_parked: usize,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Live {
    /// Starts the waiting room's thread with its own database connection.
    pub fn start(conn: Connection, max_parked: usize) -> Result<Arc<Live>> {
        let live = Arc::new(Live {
            state: Mutex::new(State::default()),
            cond: Condvar::new(),
            max_parked,
            thread: Mutex::new(None),
        });
        let handle = {
            let live = live.clone();
            std::thread::Builder::new()
                .name("live".into())
                .spawn(move || live.run(conn))
                .map_err(|e| {
                    crate::Error::Internal(format!("could not start the live thread: {e}"))
                })?
        };
        *live
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(handle);
        Ok(live)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Something was committed in this process: look for changed chats now.
    pub fn poke(&self) {
        self.lock().poked = true;
        self.cond.notify_one();
    }

    /// Whether a poll may wait: false when the room is full or closing (the
    /// poll is then answered at once, never refused).
    pub fn has_room(&self) -> bool {
        let st = self.lock();
        !st.stopping && st.parked < self.max_parked
    }

    /// Parks a request until its chat changes or `until`. When the room is
    /// full or closing, it is answered at once instead (never refused).
    pub fn park(&self, mut p: Parked) {
        let mut st = self.lock();
        if st.stopping || st.parked >= self.max_parked {
            p.until = Instant::now();
        }
        st.parked += 1;
        match &p.park {
            Park::Feed { .. } => st.feeds.push(p),
            Park::Poll { session_id, .. } => {
                let list = st.polls.entry(session_id.clone()).or_default();
                list.push(p);
                if list.len() > PER_CHAT {
                    // The oldest answers now; the newest waits.
                    list[0].until = Instant::now();
                }
            }
        }
        drop(st);
        self.cond.notify_one();
    }

    /// Puts back a request that was woken for nothing (no per-chat cap:
    /// it was counted before).
    fn repark(&self, p: Parked) {
        let mut st = self.lock();
        st.parked += 1;
        match &p.park {
            Park::Feed { .. } => st.feeds.push(p),
            Park::Poll { session_id, .. } => {
                st.polls.entry(session_id.clone()).or_default().insert(0, p);
            }
        }
    }

    /// Records typing by `role` in a chat; the other side's polls (and the
    /// admin feed, for visitors) wake when it changes.
    pub fn typing(&self, session_id: &str, role: Role, on: bool) {
        let mut st = self.lock();
        let now = Instant::now();
        let t = st.typing.entry(session_id.to_string()).or_default();
        let slot = match role {
            Role::Visitor => &mut t.visitor_until,
            Role::Manager => &mut t.manager_until,
        };
        let was = slot.is_some_and(|u| u > now);
        *slot = on.then_some(now + TYPING_FOR);
        if was != on {
            wake(&mut st, session_id, other(role));
            if role == Role::Visitor {
                st.feed_woken = ANY;
            }
            drop(st);
            self.cond.notify_one();
        }
    }

    /// Whether `role` is typing in a chat now.
    pub fn is_typing(&self, session_id: &str, role: Role) -> bool {
        let st = self.lock();
        typing_now(&st, session_id, role)
    }

    /// Chats whose visitor is typing now, sorted.
    pub fn visitors_typing(&self) -> Vec<String> {
        let st = self.lock();
        let now = Instant::now();
        let mut ids: Vec<String> = st
            .typing
            .iter()
            .filter(|(_, t)| t.visitor_until.is_some_and(|u| u > now))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Answers every parked request now and stops parking (shutdown).
    pub fn stop(&self) {
        {
            let mut st = self.lock();
            st.stopping = true;
            let now = Instant::now();
            for list in st.polls.values_mut() {
                for p in list {
                    p.until = now;
                }
            }
            for p in &mut st.feeds {
                p.until = now;
            }
        }
        self.cond.notify_one();
        // The thread answers them and exits.
        let t = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(t) = t {
            let _ = t.join();
        }
    }

    /// How many requests wait now.
    pub fn parked(&self) -> usize {
        self.lock().parked
    }

    fn run(&self, conn: Connection) {
        let mut last_change = sessions::max_change(&conn).unwrap_or(0);
        let mut data_version = crate::db::data_version(&conn).unwrap_or(0);
        let mut last_watch = Instant::now();
        loop {
            // Wait for a poke, a wake, a deadline, or the next look.
            let mut st = self.lock();
            loop {
                let now = Instant::now();
                if st.stopping || st.poked || !st.woken.is_empty() || st.feed_woken > 0 {
                    break;
                }
                let next = next_deadline(&st)
                    .unwrap_or(now + WATCH_EVERY)
                    .min(last_watch + WATCH_EVERY);
                if next <= now {
                    break;
                }
                st = self
                    .cond
                    .wait_timeout(st, next - now)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
            let poked = std::mem::take(&mut st.poked);
            drop(st);

            // Commits: ours (poked) or another process's (data_version).
            let mut look = poked;
            if last_watch.elapsed() >= WATCH_EVERY {
                last_watch = Instant::now();
                if let Ok(v) = crate::db::data_version(&conn) {
                    look |= v != data_version;
                    data_version = v;
                }
            }
            if look {
                match sessions::changed_after(&conn, last_change, 10_000) {
                    Ok(changed) if !changed.is_empty() => {
                        let mut st = self.lock();
                        for (id, stamp) in &changed {
                            last_change = last_change.max(*stamp);
                            wake(
                                &mut st,
                                id,
                                WakeFor {
                                    visitor: true,
                                    manager: true,
                                    stamp: *stamp,
                                },
                            );
                        }
                        st.feed_woken = st.feed_woken.max(last_change);
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("shopchat: live: could not read changes: {e}"),
                }
            }

            // Take what is due: woken chats, typing that ran out, deadlines.
            let (due, stopping) = {
                let mut st = self.lock();
                expire_typing(&mut st);
                let due = take_due(&mut st);
                (due, st.stopping)
            };
            let now = Instant::now();
            for p in due {
                let reply = match answer_value(&conn, self, &p.park) {
                    // Woken by a change that shows nothing new to this client (its own
                    // "seen", say): it goes on waiting.
                    Ok(v) if p.until > now && !stopping && nothing_new(&p.park, &v) => {
                        self.repark(p);
                        continue;
                    }
                    Ok(v) => Reply::ok(&v),
                    Err(e) => Reply::error(&e),
                };
                (p.respond)(reply);
            }
            if stopping && self.lock().parked == 0 {
                return;
            }
        }
    }
}

fn other(role: Role) -> WakeFor {
    match role {
        Role::Visitor => WakeFor {
            visitor: false,
            manager: true,
            stamp: ANY,
        },
        Role::Manager => WakeFor {
            visitor: true,
            manager: false,
            stamp: ANY,
        },
    }
}

fn wake(st: &mut State, session_id: &str, who: WakeFor) {
    if !st.polls.contains_key(session_id) {
        return;
    }
    let w = st.woken.entry(session_id.to_string()).or_default();
    w.visitor |= who.visitor;
    w.manager |= who.manager;
    w.stamp = w.stamp.max(who.stamp);
}

fn typing_now(st: &State, session_id: &str, role: Role) -> bool {
    let now = Instant::now();
    st.typing.get(session_id).is_some_and(|t| {
        match role {
            Role::Visitor => t.visitor_until,
            Role::Manager => t.manager_until,
        }
        .is_some_and(|u| u > now)
    })
}

/// Typing that ran out wakes the other side, like a "stopped typing".
fn expire_typing(st: &mut State) {
    let now = Instant::now();
    let mut ended: Vec<(String, Role)> = Vec::new();
    st.typing.retain(|id, t| {
        if t.visitor_until.is_some_and(|u| u <= now) {
            t.visitor_until = None;
            ended.push((id.clone(), Role::Visitor));
        }
        if t.manager_until.is_some_and(|u| u <= now) {
            t.manager_until = None;
            ended.push((id.clone(), Role::Manager));
        }
        t.visitor_until.is_some() || t.manager_until.is_some()
    });
    for (id, role) in ended {
        wake(st, &id, other(role));
        if role == Role::Visitor {
            st.feed_woken = ANY;
        }
    }
}

fn next_deadline(st: &State) -> Option<Instant> {
    let polls = st.polls.values().flatten().map(|p| p.until);
    let feeds = st.feeds.iter().map(|p| p.until);
    let typing = st
        .typing
        .values()
        .flat_map(|t| [t.visitor_until, t.manager_until])
        .flatten();
    polls.chain(feeds).chain(typing).min()
}

fn take_due(st: &mut State) -> Vec<Parked> {
    let now = Instant::now();
    let woken = std::mem::take(&mut st.woken);
    let feed_stamp = std::mem::take(&mut st.feed_woken);
    let mut due = Vec::new();
    let ids: Vec<String> = st.polls.keys().cloned().collect();
    for id in ids {
        let w = woken.get(&id).copied().unwrap_or_default();
        let list = st.polls.get_mut(&id).expect("listed");
        let mut keep = Vec::with_capacity(list.len());
        for p in list.drain(..) {
            let (role, seen) = match &p.park {
                Park::Poll { role, change, .. } => (*role, *change),
                Park::Feed { since, .. } => (Role::Manager, *since),
            };
            let for_role = match role {
                Role::Visitor => w.visitor,
                Role::Manager => w.manager,
            };
            // A change the answer already had is no news to it.
            let wake = for_role && w.stamp > seen;
            if wake || p.until <= now || st.stopping {
                due.push(p);
            } else {
                keep.push(p);
            }
        }
        if keep.is_empty() {
            st.polls.remove(&id);
        } else {
            *st.polls.get_mut(&id).expect("listed") = keep;
        }
    }
    let (now_due, keep): (Vec<Parked>, Vec<Parked>) =
        std::mem::take(&mut st.feeds).into_iter().partition(|p| {
            let since = match &p.park {
                Park::Feed { since, .. } => *since,
                Park::Poll { .. } => i64::MIN,
            };
            feed_stamp > since || p.until <= now || st.stopping
        });
    st.feeds = keep;
    due.extend(now_due);
    st.parked -= due.len();
    due
}

/// The answer to a parked request as it stands now.
pub fn answer_value(conn: &Connection, live: &Live, park: &Park) -> Result<Value> {
    match park {
        Park::Poll {
            session_id,
            role,
            since,
            limit,
            ..
        } => {
            let (_, poll) = chat::poll_by_id(conn, session_id, &Since::Seq(*since), *limit)?
                .ok_or_else(crate::Error::session_not_found)?;
            poll_json(live, &poll, session_id, *role)
        }
        Park::Feed { since, .. } => feed_json(conn, live, *since),
    }
}

/// Whether an answer shows the client nothing it has not seen: no messages
/// (or chats) and the same `state` token it sent. Without a token, any
/// change is news.
fn nothing_new(park: &Park, v: &Value) -> bool {
    let (state, list) = match park {
        Park::Poll { state, .. } => (state, "messages"),
        Park::Feed { state, .. } => (state, "sessions"),
    };
    state.as_deref().is_some_and(|st| v["state"] == st)
        && v[list].as_array().is_some_and(Vec::is_empty)
}

/// A poll's answer: the poll's own fields, the other side's typing and
/// seen state (`managerTyping`/`managerSeenSeq` for the visitor,
/// `visitorTyping`/`visitorSeenSeq` for managers), and the `state` token a
/// client passes back. Serialized straight into the answer's bytes: the
/// poll is the most frequent request, and a `Value` in between cost it a
/// map and a string per field of every message.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PollAnswer<'a> {
    #[serde(flatten)]
    pub poll: &'a chat::Poll,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_typing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_seen_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visitor_typing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visitor_seen_seq: Option<i64>,
    pub state: String,
}

impl<'a> PollAnswer<'a> {
    pub fn new(live: &Live, poll: &'a chat::Poll, session_id: &str, role: Role) -> Self {
        let (other, seen) = match role {
            Role::Visitor => (Role::Manager, poll.manager_seen_seq),
            Role::Manager => (Role::Visitor, poll.visitor_seen_seq),
        };
        let typing = live.is_typing(session_id, other);
        let state = poll_state(poll.session_status.as_str(), typing, seen);
        let (mine, theirs) = ((Some(typing), Some(seen)), (None, None));
        let ((manager_typing, manager_seen_seq), (visitor_typing, visitor_seen_seq)) = match role {
            Role::Visitor => (mine, theirs),
            Role::Manager => (theirs, mine),
        };
        PollAnswer {
            poll,
            manager_typing,
            manager_seen_seq,
            visitor_typing,
            visitor_seen_seq,
            state,
        }
    }
}

/// A poll's answer as a JSON value (for the waiting room, which looks into
/// it before answering).
pub fn poll_json(live: &Live, poll: &chat::Poll, session_id: &str, role: Role) -> Result<Value> {
    serde_json::to_value(PollAnswer::new(live, poll, session_id, role))
        .map_err(|e| crate::Error::Internal(e.to_string()))
}

/// What a poll's client has been shown besides messages, as a token.
pub fn poll_state(status: &str, typing: bool, seen: i64) -> String {
    format!("{status}.{}.{seen}", u8::from(typing))
}

/// The feed's answer: chats changed after `since` (oldest change first,
/// at most 100), the new cursor, and who is typing.
pub fn feed_json(conn: &Connection, live: &Live, since: i64) -> Result<Value> {
    const PAGE: u32 = 100;
    let changed = sessions::changed_after(conn, since, PAGE + 1)?;
    let more = changed.len() > PAGE as usize;
    let mut cursor = since;
    let mut items = Vec::new();
    for (id, stamp) in changed.into_iter().take(PAGE as usize) {
        cursor = stamp;
        if let Some(s) = super::admin::summary_json(conn, &id)? {
            items.push(s);
        }
    }
    let typing = live.visitors_typing();
    let state = feed_state(&typing);
    Ok(json!({
        "cursor": cursor,
        "sessions": items,
        "hasMore": more,
        "visitorTyping": typing,
        "state": state,
    }))
}

/// The feed's `state` token: who is typing.
pub fn feed_state(typing: &[String]) -> String {
    let set: HashSet<&str> = typing.iter().map(String::as_str).collect();
    let mut v: Vec<&str> = set.into_iter().collect();
    v.sort_unstable();
    crate::secret::hash(&v.join(","))[..12].to_string()
}

/// The `wait` of a poll: 0..=30 seconds (absent: 0).
pub fn parse_wait(wait: Option<&str>) -> Result<u64> {
    match wait.map(str::trim) {
        None | Some("") => Ok(0),
        Some(s) => match s.parse::<u64>() {
            Ok(n) if n <= MAX_WAIT_SECS => Ok(n),
            _ => Err(crate::Error::bad_request(format!(
                "wait must be a whole number of seconds from 0 to {MAX_WAIT_SECS}"
            ))),
        },
    }
}

/// The side a role's polls show.
pub fn seen_side(role: Role) -> Side {
    match role {
        Role::Visitor => Side::Visitor,
        Role::Manager => Side::Manager,
    }
}
