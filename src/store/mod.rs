//! Every SQL statement lives here. Functions take a `&Connection` (a
//! `Transaction` derefs to one) and return rows as plain structs that
//! serialize to the API's JSON.

/// An enum stored in the database and serialized to JSON as the same fixed
/// strings, the ones the API has always used. The compiler checks every
/// use; a string the database holds that is none of them is an error when
/// the row is read.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and serialized form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// The value whose stored form is `s`.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                v: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let s = v.as_str()?;
                $name::parse(s).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("'{s}' is not a {}", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}

pub mod email;
pub mod health;
pub mod keys;
pub mod managers;
pub mod messages;
pub mod sessions;
pub mod settings;
pub mod stats;
pub mod telegram;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rusqlite::{Connection, TransactionBehavior};
use serde::Serialize;

use crate::error::Result;

/// A chat between one visitor and the shop.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub user_name: Option<String>,
    pub user_phone: Option<String>,
    /// Where the visitor wants answers by email, if they left an address.
    pub user_email: Option<String>,
    pub status: Status,
    pub manager_id: Option<String>,
    /// The visitor's secret: only ever shown to the visitor.
    pub user_session_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// When the away auto-reply was posted (the chat is "away": the widget
    /// asks for an email). Not part of the API's session object.
    #[serde(skip)]
    pub away_at: Option<String>,
}

impl Session {
    /// The session as managers see it: without the visitor's secret.
    #[must_use]
    pub fn redacted(mut self) -> Self {
        self.user_session_id = None;
        self
    }

    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }
}

/// One message. `seq` is the polling cursor.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub seq: i64,
    pub session_id: String,
    pub sender: Sender,
    pub message_text: String,
    pub manager_id: Option<String>,
    pub created_at: String,
    /// The shop's automatic away reply (sender `manager`, no manager): it
    /// does not count as an answer. Only present when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auto: bool,
}

/// A session in a listing.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    #[serde(flatten)]
    pub session: Session,
    pub last_message: Option<Message>,
    pub message_count: i64,
    pub awaiting_reply: bool,
    /// With a search that matched a message's text: that message (the
    /// newest one that matched), cut to the matching line.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub text_match: Option<TextMatch>,
}

/// The message a search found in a chat, as a snippet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TextMatch {
    pub seq: i64,
    pub sender: Sender,
    pub created_at: String,
    /// The line of the message that matched, cut around the match (with
    /// "…" where cut).
    pub snippet: String,
}

text_enum! {
    /// Where a chat is: only active chats take new messages.
    pub enum Status {
        Active = "active",
        Closed = "closed",
        /// Closed and old: kept, out of the usual lists.
        Archived = "archived",
    }
}

text_enum! {
    /// Who wrote a message.
    pub enum Sender {
        /// The visitor.
        User = "user",
        Manager = "manager",
    }
}

/// Runs `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up
/// front, so a read-then-write never fails with `SQLITE_BUSY` half-way
/// (the busy timeout covers the wait instead).
///
/// Writers of this process also queue on one mutex first: `SQLite`'s own
/// busy handler sleeps and retries (up to 100 ms a try), which under load
/// let some writers wait a second while others went ahead. Other processes
/// (the terminal) still meet the busy timeout, and wait their turn.
pub fn write<T>(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction) -> Result<T>,
) -> Result<T> {
    static WRITERS: Mutex<()> = Mutex::new(());
    let _turn = WRITERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let result = (|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    })();
    match &result {
        Ok(_) => STORAGE_FULL.store(false, Ordering::Relaxed),
        Err(crate::Error::StorageFull) => STORAGE_FULL.store(true, Ordering::Relaxed),
        Err(_) => {}
    }
    result
}

/// Set when a write of this process failed because the disk is full;
/// cleared by the next write that succeeds.
static STORAGE_FULL: AtomicBool = AtomicBool::new(false);

/// Whether the last write of this process failed for lack of disk space.
pub fn storage_full() -> bool {
    STORAGE_FULL.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use rusqlite::types::{FromSql, ValueRef};

    use super::telegram::Kind;
    use super::{Sender, Status};

    #[test]
    fn enums_keep_the_strings_of_the_database_and_the_api() {
        let names = |all: &[&str]| all.join(",");
        let status: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names(&status), "active,closed,archived");
        let sender: Vec<&str> = Sender::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names(&sender), "user,manager");
        let kind: Vec<&str> = Kind::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names(&kind), "new_session,message,bot");
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            let read = Status::column_result(ValueRef::Text(s.as_str().as_bytes())).unwrap();
            assert_eq!(read, *s);
        }
        assert!(Status::column_result(ValueRef::Text(b"deleted")).is_err());
        assert!(Sender::column_result(ValueRef::Integer(1)).is_err());
    }
}
