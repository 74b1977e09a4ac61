//! Who may use the service: managers, each with a bearer token, and widget
//! API keys. Every change is one `store::write` transaction that checks and
//! writes together, so two terminals adding the same manager at once get
//! one manager and one clear error, never a half-done change.
//!
//! The terminal commands (`managers`, `keys`), `serve`'s first start and
//! `demo-data` all come here.

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::secret;
use crate::store::{self, keys, managers, managers::Manager};
use crate::time;

/// Checks a manager id: 1 to 32 of `a-z A-Z 0-9 - _`, and not `none`
/// (which means "unassigned" wherever a manager id is typed).
pub fn validate_manager_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && id != "none";
    if ok {
        Ok(())
    } else {
        Err(Error::bad_request(format!(
            "a manager id is 1 to 32 letters, digits, - or _ (and not 'none'), not '{id}'"
        )))
    }
}

/// Adds a manager and returns their new token (only its hash is stored).
pub fn add_manager(
    conn: &mut Connection,
    id: &str,
    name: Option<&str>,
    telegram_id: Option<i64>,
) -> Result<String> {
    validate_manager_id(id)?;
    let token = secret::new_manager_token();
    let manager = Manager {
        id: id.to_string(),
        display_name: name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(id)
            .to_string(),
        telegram_user_id: telegram_id,
        created_at: time::now(),
        deactivated_at: None,
    };
    store::write(conn, |tx| {
        let existing = managers::get(tx, id)?;
        if existing.as_ref().is_some_and(Manager::is_active) {
            return Err(Error::bad_request(format!(
                "manager '{id}' already exists; `shopchat managers token {id}` makes a new token"
            )));
        }
        if let Some(tg) = telegram_id {
            refuse_linked_elsewhere(tx, id, tg)?;
        }
        match existing {
            // A removed manager comes back under the same id, keeping their
            // messages (and their name, unless a new one is given).
            Some(old) => {
                let name = name
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .unwrap_or(&old.display_name);
                managers::reactivate(tx, id, name, &secret::hash(&token))?;
                if telegram_id.is_some() {
                    managers::set_telegram_id(tx, id, telegram_id)?;
                }
                Ok(())
            }
            None => managers::insert(tx, &manager, &secret::hash(&token)),
        }
    })?;
    Ok(token)
}

/// Gives a manager a new token; the old one stops working at once. `None`
/// when there is no such manager.
pub fn new_token(conn: &mut Connection, id: &str) -> Result<Option<String>> {
    let token = secret::new_manager_token();
    let changed = store::write(conn, |tx| {
        managers::set_token_hash(tx, id, &secret::hash(&token))
    })?;
    Ok(changed.then_some(token))
}

/// Links a manager to a Telegram user id, or unlinks them with `None`.
/// `false` when there is no such manager.
pub fn link_telegram(conn: &mut Connection, id: &str, telegram_id: Option<i64>) -> Result<bool> {
    store::write(conn, |tx| {
        if let Some(tg) = telegram_id {
            refuse_linked_elsewhere(tx, id, tg)?;
        }
        managers::set_telegram_id(tx, id, telegram_id)
    })
}

/// Removes a manager; their open chats become unassigned. One who wrote
/// messages is deactivated instead of deleted, so their name stays on what
/// they wrote (see [`managers::Removed`]).
pub fn remove_manager(conn: &mut Connection, id: &str) -> Result<managers::Removed> {
    let now = time::now();
    store::write(conn, |tx| managers::remove(tx, id, &now))
}

/// One Telegram user answers as one manager.
fn refuse_linked_elsewhere(conn: &Connection, id: &str, telegram_id: i64) -> Result<()> {
    match managers::by_telegram_id(conn, telegram_id)? {
        Some(other) if other.id != id => Err(Error::bad_request(format!(
            "Telegram user {telegram_id} is already linked to manager '{}'",
            other.id
        ))),
        _ => Ok(()),
    }
}

/// Makes a widget API key labelled `label` and returns it (only its hash
/// and first characters are stored).
pub fn add_key(conn: &mut Connection, label: &str) -> Result<String> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(Error::bad_request(
            "a key label is 1 to 64 printable characters, e.g. the shop's domain",
        ));
    }
    let key = secret::new_api_key();
    store::write(conn, |tx| {
        if keys::exists(tx, label)? {
            return Err(Error::bad_request(format!(
                "a key labelled '{label}' already exists; pick another label"
            )));
        }
        keys::insert(tx, label, &secret::hash(&key), &key[..8], &time::now())
    })?;
    Ok(key)
}

/// Revokes a key: widgets using it get 401. `false` when there is no such
/// active key.
pub fn revoke_key(conn: &mut Connection, label: &str) -> Result<bool> {
    store::write(conn, |tx| keys::revoke(tx, label, &time::now()))
}
