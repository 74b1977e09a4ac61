//! The rules of a chat, shared by the HTTP API, the terminal and Telegram:
//! validation, create-or-get, idempotent sends, close, assign, polling.
//! Each write is one `BEGIN IMMEDIATE` transaction.

use rusqlite::{Connection, Transaction};

use crate::error::{Error, Result};
use crate::shop::Shop;
use crate::store::messages::{NewMessage, Since};
use crate::store::{self, managers, messages, sessions, Message, Sender, Session, Status};
use crate::time;

pub const MAX_TEXT_CHARS: usize = 4000;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_PHONE_CHARS: usize = 32;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_CLIENT_ID_CHARS: usize = 64;
pub const MAX_USER_SESSION_ID_CHARS: usize = 128;
pub const MIN_USER_SESSION_ID_CHARS: usize = 16;
pub const DEFAULT_POLL_LIMIT: u32 = 100;
pub const MAX_POLL_LIMIT: u32 = 500;

/// Something managers should be told about, handed to a [`Notify`] inside
/// the transaction that stores it.
#[derive(Debug)]
pub enum Event<'a> {
    /// A chat's first visitor message: the chat exists for managers from
    /// now on, and its one "new chat" notification carries the message.
    NewSession(&'a Session, &'a Message),
    /// Any later visitor message.
    VisitorMessage(&'a Session, &'a Message),
}

/// Writes notifications (the Telegram outbox) in the same transaction as
/// the event, so an acknowledged message always has its notification.
pub trait Notify: Send + Sync {
    fn enqueue(&self, tx: &Transaction, event: &Event) -> Result<()>;
}

/// No notifications (Telegram not configured, or the terminal).
pub struct NoNotify;

impl Notify for NoNotify {
    fn enqueue(&self, _: &Transaction, _: &Event) -> Result<()> {
        Ok(())
    }
}

/// Who writes a message.
#[derive(Debug, Clone, Copy)]
pub enum Author<'a> {
    Visitor,
    Manager(&'a str),
}

/// A visitor's contact details, validated.
#[derive(Debug, Clone, Default)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl Contact {
    /// Trims and validates; empty strings count as absent.
    pub fn new(name: Option<&str>, phone: Option<&str>) -> Result<Self> {
        Contact::with_email(name, phone, None)
    }

    /// Name, phone and email, trimmed and validated.
    pub fn with_email(
        name: Option<&str>,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> Result<Self> {
        let name = non_empty(name);
        let phone = non_empty(phone);
        let email = non_empty(email);
        if let Some(e) = &email {
            validate_email(e)?;
        }
        if let Some(n) = &name {
            if n.chars().count() > MAX_NAME_CHARS {
                return Err(Error::bad_request(format!(
                    "userName is longer than {MAX_NAME_CHARS} characters"
                )));
            }
            if n.chars().any(char::is_control) {
                return Err(Error::bad_request(
                    "userName must not contain control characters",
                ));
            }
        }
        if let Some(p) = &phone {
            if p.chars().count() > MAX_PHONE_CHARS {
                return Err(Error::bad_request(format!(
                    "userPhone is longer than {MAX_PHONE_CHARS} characters"
                )));
            }
            if !p
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-'))
            {
                return Err(Error::bad_request(
                    "userPhone may contain only digits, spaces, + ( ) and -",
                ));
            }
        }
        Ok(Contact { name, phone, email })
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.phone.is_none() && self.email.is_none()
    }
}

/// Checks an email address the way a form does: one `@`, a dot in the
/// domain, no spaces, at most 254 characters. Delivery is the real test.
pub fn validate_email(e: &str) -> Result<&str> {
    let ok = e.chars().count() <= MAX_EMAIL_CHARS
        && !e.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(e)
    } else {
        Err(Error::bad_request(format!(
            "userEmail must be an email address like name@example.com (at most {MAX_EMAIL_CHARS} characters)"
        )))
    }
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Trims and checks a message text: 1..4000 characters.
pub fn validate_text(text: &str) -> Result<&str> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Error::bad_request("messageText is empty"));
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::bad_request(format!(
            "messageText is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(t)
}

/// Checks a clientMessageId: 1..64 printable characters.
pub fn validate_client_id(id: Option<&str>) -> Result<Option<&str>> {
    match id {
        None => Ok(None),
        Some(id) if id.is_empty() || id.chars().count() > MAX_CLIENT_ID_CHARS => {
            Err(Error::bad_request(format!(
                "clientMessageId must be 1..{MAX_CLIENT_ID_CHARS} characters"
            )))
        }
        Some(id) if id.chars().any(char::is_control) => Err(Error::bad_request(
            "clientMessageId must not contain control characters",
        )),
        Some(id) => Ok(Some(id)),
    }
}

/// Checks a visitor secret given by a client: 16..128 of `A-Za-z0-9_-`.
pub fn validate_user_session_id(id: &str) -> Result<&str> {
    let ok = (MIN_USER_SESSION_ID_CHARS..=MAX_USER_SESSION_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(id)
    } else {
        Err(Error::bad_request(format!(
            "userSessionId must be {MIN_USER_SESSION_ID_CHARS}..{MAX_USER_SESSION_ID_CHARS} characters of A-Z, a-z, 0-9, - and _"
        )))
    }
}

/// Session ids are canonical lower-case UUIDs; anything else is simply not
/// found (never a 500).
pub fn is_session_id(id: &str) -> bool {
    id.len() == 36 && uuid::Uuid::parse_str(id).is_ok_and(|u| u.hyphenated().to_string() == id)
}

/// The fewest characters of a session id that managers may type.
pub const MIN_ID_PREFIX: usize = 4;
/// How many characters of a session id managers are shown.
pub const SHORT_ID_LEN: usize = 8;

/// The short id managers see (the terminal, Telegram).
pub fn short_id(id: &str) -> &str {
    id.get(..SHORT_ID_LEN).unwrap_or(id)
}

/// What a typed session id (any prefix) names.
#[derive(Debug, Clone, PartialEq)]
pub enum IdMatch {
    /// Fewer than [`MIN_ID_PREFIX`] characters.
    TooShort,
    /// Not hex digits and hyphens, so no id can start with it.
    Malformed,
    None,
    One(String),
    /// Up to `limit` of the ids that start with it.
    Many(Vec<String>),
}

/// Finds the session a manager means by `input`: a whole id or a unique
/// prefix of [`MIN_ID_PREFIX`]+ characters (case-insensitive).
pub fn find_by_prefix(conn: &Connection, input: &str, limit: usize) -> Result<IdMatch> {
    let prefix = input.trim().to_ascii_lowercase();
    if prefix.chars().count() < MIN_ID_PREFIX {
        return Ok(IdMatch::TooShort);
    }
    if prefix.len() > 36 || !prefix.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Ok(IdMatch::Malformed);
    }
    let mut ids = sessions::ids_with_prefix(conn, &prefix, limit.max(2))?;
    Ok(match ids.len() {
        0 => IdMatch::None,
        1 => IdMatch::One(ids.remove(0)),
        _ => IdMatch::Many(ids),
    })
}

/// The first message of a chat being opened (the widget opens a chat with
/// it, so no chat exists before the visitor wrote).
#[derive(Debug, Clone, Copy)]
pub struct FirstMessage<'a> {
    pub text: &'a str,
    pub client_message_id: Option<&'a str>,
}

/// What [`open_session`] did.
#[derive(Debug)]
pub struct Opened {
    pub session: Session,
    /// A new chat was made.
    pub created: bool,
    /// The first message, if one was given, and whether it is new (false:
    /// an idempotent retry).
    pub message: Option<(Message, bool)>,
}

/// The visitor's active session for `user_session_id`, or a new one, with
/// `first` stored in the same transaction when given. A new chat of a
/// returning visitor (same `user_session_id`) takes the name, phone and
/// email they gave before, unless given now. `before_create` runs only
/// when a session would be created (rate limits).
pub fn open_session(
    conn: &mut Connection,
    notify: &dyn Notify,
    user_session_id: Option<&str>,
    contact: &Contact,
    first: Option<FirstMessage>,
    before_create: impl FnOnce() -> Result<()>,
) -> Result<Opened> {
    let first = match first {
        Some(f) => Some(FirstMessage {
            text: validate_text(f.text)?,
            client_message_id: validate_client_id(f.client_message_id)?,
        }),
        None => None,
    };
    if let Some(usid) = user_session_id {
        validate_user_session_id(usid)?;
        if let Some(s) = sessions::active_for_visitor(conn, usid)? {
            return existing(conn, notify, s, contact, first);
        }
    }
    before_create()?;
    let opened = store::write(conn, |tx| {
        // Re-check inside the write lock: a concurrent request may have
        // created it.
        if let Some(usid) = user_session_id {
            if let Some(s) = sessions::active_for_visitor(tx, usid)? {
                return Ok(Err(s));
            }
        }
        let usid = user_session_id.map_or_else(crate::secret::new_user_session_id, str::to_string);
        let (name, phone, email) = match user_session_id {
            Some(u) => sessions::visitor_contact(tx, u)?,
            None => (None, None, None),
        };
        let now = time::now();
        let session = Session {
            id: uuid::Uuid::new_v4().to_string(),
            user_name: contact.name.clone().or(name),
            user_phone: contact.phone.clone().or(phone),
            user_email: contact.email.clone().or(email),
            status: Status::Active,
            manager_id: None,
            user_session_id: Some(usid),
            created_at: now.clone(),
            updated_at: now,
            away_at: None,
        };
        sessions::insert(tx, &session)?;
        let message = match first {
            Some(f) => Some(insert_message(
                tx,
                notify,
                &session,
                Author::Visitor,
                f.text,
                f.client_message_id,
            )?),
            None => None,
        };
        let session = sessions::get(tx, &session.id)?.ok_or_else(Error::session_not_found)?;
        Ok(Ok(Opened {
            session,
            created: true,
            message: message.map(|m| (m, true)),
        }))
    })?;
    match opened {
        Ok(o) => Ok(o),
        Err(s) => existing(conn, notify, s, contact, first),
    }
}

/// The visitor's active chat: contact filled in, the first message posted.
fn existing(
    conn: &mut Connection,
    notify: &dyn Notify,
    s: Session,
    contact: &Contact,
    first: Option<FirstMessage>,
) -> Result<Opened> {
    let id = s.id.clone();
    let mut session = update_contact(conn, s, contact)?;
    let message = match first {
        Some(f) => {
            let m = post_message(
                conn,
                notify,
                &id,
                Author::Visitor,
                f.text,
                f.client_message_id,
            )?;
            session = sessions::get(conn, &id)?.ok_or_else(Error::session_not_found)?;
            Some(m)
        }
        None => None,
    };
    Ok(Opened {
        session,
        created: false,
        message,
    })
}

/// Fills in a name, phone or email the visitor gives later (the form after
/// the first message, the away prompt, a returning visitor).
pub fn update_contact(conn: &mut Connection, s: Session, contact: &Contact) -> Result<Session> {
    let name = contact
        .name
        .as_deref()
        .filter(|n| s.user_name.as_deref() != Some(n));
    let phone = contact
        .phone
        .as_deref()
        .filter(|p| s.user_phone.as_deref() != Some(p));
    let email = contact
        .email
        .as_deref()
        .filter(|e| s.user_email.as_deref() != Some(e));
    if name.is_none() && phone.is_none() && email.is_none() {
        return Ok(s);
    }
    store::write(conn, |tx| {
        sessions::update_contact(tx, &s.id, name, phone, email, &time::now())?;
        sessions::get(tx, &s.id)?.ok_or_else(Error::session_not_found)
    })
}

/// Stores a message. A retry with the same `client_message_id` returns the
/// first message and `false` instead of storing a duplicate.
pub fn post_message(
    conn: &mut Connection,
    notify: &dyn Notify,
    session_id: &str,
    author: Author,
    text: &str,
    client_message_id: Option<&str>,
) -> Result<(Message, bool)> {
    let text = validate_text(text)?;
    let client_message_id = validate_client_id(client_message_id)?;
    store::write(conn, |tx| {
        let session = sessions::get(tx, session_id)?.ok_or_else(Error::session_not_found)?;
        if let Some(cid) = client_message_id {
            if let Some(m) = messages::by_client_id(tx, session_id, cid)? {
                return Ok((m, false));
            }
        }
        if !session.is_active() {
            return Err(Error::SessionClosed);
        }
        Ok((
            insert_message(tx, notify, &session, author, text, client_message_id)?,
            true,
        ))
    })
}

/// Inserts a message into an active session, inside the caller's
/// transaction, with what follows from it: the managers' notification (a
/// chat's first visitor message announces the chat), the away auto-reply
/// (a visitor writing outside the shop's hours, once per chat), and the
/// first answering manager taking an unassigned chat.
fn insert_message(
    tx: &Transaction,
    notify: &dyn Notify,
    session: &Session,
    author: Author,
    text: &str,
    client_message_id: Option<&str>,
) -> Result<Message> {
    let first = sessions::message_count(tx, &session.id)? == 0;
    let (sender, manager_id) = match author {
        Author::Visitor => (Sender::User, None),
        Author::Manager(id) => (Sender::Manager, Some(id)),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let now = time::now();
    let message = messages::insert(
        tx,
        &NewMessage {
            id: &id,
            session_id: &session.id,
            sender,
            text,
            manager_id,
            client_message_id,
            created_at: &now,
            auto: false,
        },
    )?;
    match author {
        Author::Visitor => {
            if first {
                notify.enqueue(tx, &Event::NewSession(session, &message))?;
            } else {
                notify.enqueue(tx, &Event::VisitorMessage(session, &message))?;
            }
            if session.away_at.is_none() {
                let shop = Shop::load(tx)?;
                if !shop.is_open(chrono::Utc::now()) {
                    auto_reply(tx, &session.id, &shop)?;
                }
            }
        }
        // The first manager to answer an unassigned chat takes it, so
        // two managers do not answer the same visitor.
        Author::Manager(id) if session.manager_id.is_none() => {
            sessions::set_manager(tx, &session.id, Some(id), &now)?;
        }
        Author::Manager(_) => {}
    }
    Ok(message)
}

/// Posts the shop's away auto-reply in a chat (once: the caller checks).
fn auto_reply(tx: &Transaction, session_id: &str, shop: &Shop) -> Result<Message> {
    let id = uuid::Uuid::new_v4().to_string();
    messages::insert(
        tx,
        &NewMessage {
            id: &id,
            session_id,
            sender: Sender::Manager,
            text: &shop.away_reply,
            manager_id: None,
            client_message_id: None,
            created_at: &time::now(),
            auto: true,
        },
    )
}

/// The away sweep (run by `serve` every few seconds): chats whose visitor
/// has waited longer than the shop's `away-after` minutes get the
/// auto-reply, once. Returns how many.
pub fn away_sweep(conn: &mut Connection, now: chrono::DateTime<chrono::Utc>) -> Result<usize> {
    let shop = Shop::load(conn)?;
    let Some(minutes) = shop.away_after else {
        return Ok(0);
    };
    let cutoff = time::format(now - chrono::Duration::minutes(i64::from(minutes)));
    let due = sessions::away_due(conn, &cutoff, 100)?;
    let mut n = 0;
    for id in due {
        n += store::write(conn, |tx| {
            // Re-check in the write lock: an answer may have come meanwhile.
            if !sessions::away_due(tx, &cutoff, 100)?.contains(&id) {
                return Ok(0);
            }
            auto_reply(tx, &id, &shop)?;
            Ok(1)
        })?;
    }
    Ok(n)
}

/// Opens a closed (or archived) chat again; an open one stays as it is. A
/// visitor has one open chat at a time, so a chat whose visitor has
/// started another cannot be reopened (409 `conflict`).
pub fn reopen(conn: &mut Connection, session_id: &str) -> Result<Session> {
    store::write(conn, |tx| {
        let s = sessions::get(tx, session_id)?.ok_or_else(Error::session_not_found)?;
        if s.is_active() {
            return Ok(s);
        }
        if let Some(usid) = &s.user_session_id {
            if let Some(other) = sessions::active_for_visitor(tx, usid)? {
                return Err(Error::Conflict(format!(
                    "the visitor has another open chat ({}); answer there, or close it first",
                    short_id(&other.id)
                )));
            }
        }
        sessions::set_status(tx, session_id, Status::Active, &time::now())?;
        sessions::get(tx, session_id)?.ok_or_else(Error::session_not_found)
    })
}

/// Closes a session; closing a closed (or archived) one changes nothing.
pub fn close(conn: &mut Connection, session_id: &str) -> Result<Session> {
    store::write(conn, |tx| {
        let s = sessions::get(tx, session_id)?.ok_or_else(Error::session_not_found)?;
        if !s.is_active() {
            return Ok(s);
        }
        sessions::set_status(tx, session_id, Status::Closed, &time::now())?;
        sessions::get(tx, session_id)?.ok_or_else(Error::session_not_found)
    })
}

/// Assigns a session to a manager, or unassigns it with `None`.
pub fn assign(
    conn: &mut Connection,
    session_id: &str,
    manager_id: Option<&str>,
) -> Result<Session> {
    store::write(conn, |tx| {
        let s = sessions::get(tx, session_id)?.ok_or_else(Error::session_not_found)?;
        if let Some(m) = manager_id {
            if !managers::get(tx, m)?.is_some_and(|m| m.is_active()) {
                let known: Vec<String> = managers::list_active(tx)?
                    .into_iter()
                    .map(|m| m.id)
                    .collect();
                return Err(Error::bad_request(format!(
                    "unknown manager '{m}'; known managers: {}",
                    known.join(", ")
                )));
            }
        }
        if s.manager_id.as_deref() == manager_id {
            return Ok(s);
        }
        sessions::set_manager(tx, session_id, manager_id, &time::now())?;
        sessions::get(tx, session_id)?.ok_or_else(Error::session_not_found)
    })
}

/// Records that one side has seen a chat up to `seq`; never moves
/// backwards. Returns whether it moved.
pub fn mark_seen(
    conn: &mut Connection,
    session_id: &str,
    side: sessions::Side,
    seq: i64,
) -> Result<bool> {
    if seq < 0 {
        return Err(Error::bad_request("seq must be a whole number >= 0"));
    }
    store::write(conn, |tx| sessions::mark_seen(tx, session_id, side, seq))
}

/// Parses a poll's `since`: a seq, an RFC 3339 timestamp, or absent.
pub fn parse_since(since: Option<&str>) -> Result<Since> {
    match since.map(str::trim) {
        None | Some("") => Ok(Since::Start),
        Some(s) => {
            if let Ok(n) = s.parse::<i64>() {
                if n < 0 {
                    return Err(Error::bad_request(
                        "since must be a seq (>= 0) or an RFC 3339 time",
                    ));
                }
                Ok(Since::Seq(n))
            } else if let Some(t) = time::parse(s) {
                Ok(Since::Time(time::format(time::clamp_to_rfc3339(t))))
            } else {
                Err(Error::bad_request(
                    "since must be a seq (>= 0) or an RFC 3339 time",
                ))
            }
        }
    }
}

/// Parses a `limit`: 1.. and at most `max` (larger values are capped).
pub fn parse_limit(limit: Option<&str>, default: u32, max: u32) -> Result<u32> {
    match limit.map(str::trim) {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n.min(u64::from(max)) as u32),
            _ => Err(Error::bad_request(format!(
                "limit must be a whole number from 1 to {max}"
            ))),
        },
    }
}

/// One page of a poll.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Poll {
    pub messages: Vec<Message>,
    /// The seq of the last message returned, or `since` unchanged.
    pub cursor: serde_json::Value,
    pub has_more: bool,
    pub session_status: Status,
    /// The chat has had the away auto-reply: nobody could answer, so the
    /// widget asks for an email.
    pub away: bool,
    /// The highest seq the visitor has seen (the HTTP layer shows it to
    /// managers as `visitorSeenSeq`).
    #[serde(skip)]
    pub visitor_seen_seq: i64,
    /// The highest seq the managers have seen (shown to the visitor as
    /// `managerSeenSeq`).
    #[serde(skip)]
    pub manager_seen_seq: i64,
    /// The chat's `change_seq` as of this answer (read with the messages,
    /// or before them): a change at or below it is in the answer, so it is
    /// no news to a long-poll that waits after it.
    #[serde(skip)]
    pub change: i64,
}

/// A poll by session id, in one read: the session (for the caller to check
/// who asks), how far each side has seen it, its change stamp, and its
/// messages after `since`. `None` when there is no such session. A time `since` (old
/// clients) takes the two-step way.
pub fn poll_by_id(
    conn: &Connection,
    session_id: &str,
    since: &Since,
    limit: u32,
) -> Result<Option<(Session, Poll)>> {
    let after = match since {
        Since::Start => 0,
        Since::Seq(s) => *s,
        Since::Time(_) => {
            let Some(session) = sessions::get(conn, session_id)? else {
                return Ok(None);
            };
            let page = poll(conn, &session, since, limit)?;
            return Ok(Some((session, page)));
        }
    };
    let Some(page) = messages::session_and_since(conn, session_id, after, limit)? else {
        return Ok(None);
    };
    let cursor = match page.messages.last() {
        Some(m) => serde_json::json!(m.seq),
        None => serde_json::json!(after),
    };
    let poll = Poll {
        messages: page.messages,
        cursor,
        has_more: page.has_more,
        session_status: page.session.status,
        away: page.session.away_at.is_some(),
        visitor_seen_seq: page.visitor_seen_seq,
        manager_seen_seq: page.manager_seen_seq,
        change: page.change_seq,
    };
    Ok(Some((page.session, poll)))
}

/// Messages of `session` after `since`.
pub fn poll(conn: &Connection, session: &Session, since: &Since, limit: u32) -> Result<Poll> {
    // Read before the messages: a change after this is news to the answer.
    let change = sessions::change_of(conn, &session.id)?;
    let (msgs, has_more) = messages::since(conn, &session.id, since, limit)?;
    let (visitor_seen_seq, manager_seen_seq) = sessions::seen(conn, &session.id)?;
    let cursor = match (msgs.last(), since) {
        (Some(m), _) => serde_json::json!(m.seq),
        (None, Since::Start) => serde_json::json!(0),
        (None, Since::Seq(s)) => serde_json::json!(s),
        (None, Since::Time(t)) => serde_json::json!(t),
    };
    Ok(Poll {
        messages: msgs,
        cursor,
        has_more,
        session_status: session.status,
        away: session.away_at.is_some(),
        visitor_seen_seq,
        manager_seen_seq,
        change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_find_one_many_or_no_session() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::db::init(&dir.path().join("chat.db")).unwrap();
        let at = "2026-01-01T00:00:00.000Z".to_string();
        for id in [
            "abcd0000-0000-4000-8000-000000000001",
            "abcd0000-0000-4000-8000-000000000002",
            "ef010000-0000-4000-8000-000000000003",
        ] {
            let s = Session {
                id: id.into(),
                user_name: None,
                user_phone: None,
                status: Status::Active,
                manager_id: None,
                user_session_id: None,
                created_at: at.clone(),
                updated_at: at.clone(),
                user_email: None,
                away_at: None,
            };
            store::write(&mut conn, |tx| sessions::insert(tx, &s)).unwrap();
        }
        let one = "ef010000-0000-4000-8000-000000000003".to_string();
        assert_eq!(
            find_by_prefix(&conn, "ef01", 5).unwrap(),
            IdMatch::One(one.clone())
        );
        assert_eq!(
            find_by_prefix(&conn, " EF010000 ", 5).unwrap(),
            IdMatch::One(one.clone())
        );
        assert_eq!(find_by_prefix(&conn, &one, 5).unwrap(), IdMatch::One(one));
        match find_by_prefix(&conn, "abcd", 5).unwrap() {
            IdMatch::Many(ids) => assert_eq!(ids.len(), 2),
            other => panic!("expected two matches, got {other:?}"),
        }
        assert_eq!(find_by_prefix(&conn, "abc", 5).unwrap(), IdMatch::TooShort);
        assert_eq!(
            find_by_prefix(&conn, "zzzz", 5).unwrap(),
            IdMatch::Malformed
        );
        assert_eq!(find_by_prefix(&conn, "0000", 5).unwrap(), IdMatch::None);
    }

    #[test]
    fn session_ids_must_be_canonical_uuids() {
        assert!(is_session_id("3f2a8c1e-0d5b-4c7a-9e6f-1a2b3c4d5e6f"));
        assert!(!is_session_id("3F2A8C1E-0D5B-4C7A-9E6F-1A2B3C4D5E6F"));
        assert!(!is_session_id("3f2a8c1e0d5b4c7a9e6f1a2b3c4d5e6f"));
        assert!(!is_session_id("../../etc/passwd"));
        assert!(!is_session_id(""));
    }

    #[test]
    fn since_accepts_seq_time_or_nothing() {
        assert_eq!(parse_since(None).unwrap(), Since::Start);
        assert_eq!(parse_since(Some("42")).unwrap(), Since::Seq(42));
        assert_eq!(
            parse_since(Some("2026-11-24T07:42:56.123456+02:00")).unwrap(),
            Since::Time("2026-11-24T05:42:56.123Z".into())
        );
        // An offset can take a time out of years 0000..9999, which RFC 3339
        // cannot write: the cursor echoed back must still be a valid time,
        // and mean the same (no message is that old, or that new).
        assert_eq!(
            parse_since(Some("0000-01-01T00:00:00+01:00")).unwrap(),
            Since::Time("0000-01-01T00:00:00.000Z".into())
        );
        assert_eq!(
            parse_since(Some("9999-12-31T23:59:59-01:00")).unwrap(),
            Since::Time("9999-12-31T23:59:59.999Z".into())
        );
        assert!(parse_since(Some("-1")).is_err());
        assert!(parse_since(Some("yesterday")).is_err());
    }

    #[test]
    fn limits_are_capped_and_checked() {
        assert_eq!(parse_limit(None, 100, 500).unwrap(), 100);
        assert_eq!(parse_limit(Some("9999"), 100, 500).unwrap(), 500);
        assert!(parse_limit(Some("0"), 100, 500).is_err());
        assert!(parse_limit(Some("ten"), 100, 500).is_err());
    }

    #[test]
    fn contact_is_validated_like_the_api() {
        assert!(Contact::new(Some("Олена"), Some("+380 (67) 123-45-67")).is_ok());
        assert!(Contact::new(None, Some("call me")).is_err());
        assert!(Contact::new(Some(&"x".repeat(101)), None).is_err());
        let c = Contact::new(Some("  "), Some("")).unwrap();
        assert!(c.name.is_none() && c.phone.is_none());
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(validate_text("  hi \n").unwrap(), "hi");
        assert!(validate_text(" \n\t ").is_err());
        assert!(validate_text(&"я".repeat(4000)).is_ok());
        assert!(validate_text(&"я".repeat(4001)).is_err());
    }
}
