//! `shopchat managers add|list|remove|token|link`.

use anyhow::{bail, Context};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::cli::{Cli, ManagersCommand};
use crate::secret;
use crate::store::managers::{self, Manager, Removed};
use crate::time;

/// Checks a manager id: 1..32 of a-z, A-Z, 0-9, - and _.
pub fn validate_id(id: &str) -> anyhow::Result<()> {
    if id.is_empty()
        || id.len() > 32
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        || id == "none"
    {
        bail!("a manager id is 1 to 32 letters, digits, - or _ (and not 'none'), not '{id}'");
    }
    Ok(())
}

/// Creates a manager and returns their new token.
pub fn create(
    conn: &rusqlite::Connection,
    id: &str,
    name: Option<&str>,
    telegram_id: Option<i64>,
) -> anyhow::Result<String> {
    validate_id(id)?;
    let existing = managers::get(conn, id)?;
    if existing.as_ref().is_some_and(Manager::is_active) {
        bail!("manager '{id}' already exists; `shopchat managers token {id}` makes a new token");
    }
    if let Some(tg) = telegram_id {
        if let Some(other) = managers::by_telegram_id(conn, tg)? {
            bail!(
                "Telegram user {tg} is already linked to manager '{}'",
                other.id
            );
        }
    }
    let token = secret::new_manager_token();
    if let Some(old) = existing {
        // A removed manager comes back under the same id, keeping their
        // messages.
        let name = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(&old.display_name);
        managers::reactivate(conn, id, name, &secret::hash(&token))?;
        if let Some(tg) = telegram_id {
            managers::set_telegram_id(conn, id, Some(tg))?;
        }
        return Ok(token);
    }
    let m = Manager {
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
    managers::insert(conn, &m, &secret::hash(&token))?;
    Ok(token)
}

pub fn run(cli: &Cli, cmd: &ManagersCommand) -> anyhow::Result<()> {
    let conn = crate::db::init(&cli.db)?;
    match cmd {
        ManagersCommand::Add {
            id,
            name,
            telegram_id,
        } => {
            let token = create(&conn, id, name.as_deref(), *telegram_id)?;
            eprintln!("Manager '{id}' added. Their token (shown once; keep it secret):");
            super::term::say(&token)?;
        }
        ManagersCommand::List { json } => {
            let list = managers::list(&conn)?;
            if *json {
                super::term::print_json(&list)?;
            } else if list.is_empty() {
                super::term::say("No managers yet: `shopchat managers add alice`.")?;
            } else {
                let mut t = Table::new();
                t.load_preset(UTF8_FULL_CONDENSED);
                t.set_header(["id", "name", "telegram", "since"]);
                for m in &list {
                    let since = m.created_at.get(..10).unwrap_or("").to_string();
                    t.add_row([
                        m.id.clone(),
                        m.display_name.clone(),
                        m.telegram_user_id
                            .map(|t| t.to_string())
                            .unwrap_or_default(),
                        match &m.deactivated_at {
                            Some(at) => format!("{since} (removed {})", at.get(..10).unwrap_or("")),
                            None => since,
                        },
                    ]);
                }
                super::term::say(t)?;
            }
        }
        ManagersCommand::Remove { id } => {
            let mut conn = conn;
            let now = time::now();
            match crate::store::write(&mut conn, |tx| managers::remove(tx, id, &now))? {
                Removed::NotFound => {
                    bail!("no manager '{id}'; `shopchat managers list` shows them")
                }
                Removed::Deleted => super::term::say(format!(
                    "Manager '{id}' removed; their open chats are now unassigned."
                ))?,
                Removed::Deactivated => super::term::say(format!(
                    "Manager '{id}' removed: their token no longer works and their open chats are unassigned. They wrote messages, so they are kept (deactivated) and their name stays on what they wrote."
                ))?,
            }
            return Ok(());
        }
        ManagersCommand::Token { id } => {
            let token = secret::new_manager_token();
            if !managers::set_token_hash(&conn, id, &secret::hash(&token))? {
                bail!("no manager '{id}'; `shopchat managers list` shows them");
            }
            eprintln!("New token for '{id}' (the old one no longer works):");
            super::term::say(&token)?;
        }
        ManagersCommand::Link {
            id,
            telegram_id,
            unlink,
        } => {
            let tg = if *unlink {
                None
            } else {
                Some(telegram_id.context("give the Telegram user id, or --unlink")?)
            };
            if let Some(tg) = tg {
                if let Some(other) = managers::by_telegram_id(&conn, tg)? {
                    if other.id != *id {
                        bail!(
                            "Telegram user {tg} is already linked to manager '{}'",
                            other.id
                        );
                    }
                }
            }
            if !managers::set_telegram_id(&conn, id, tg)? {
                bail!("no manager '{id}'; `shopchat managers list` shows them");
            }
            match tg {
                Some(tg) => {
                    super::term::say(format!("Manager '{id}' is linked to Telegram user {tg}."))?
                }
                None => {
                    super::term::say(format!("Manager '{id}' is no longer linked to Telegram."))?
                }
            }
        }
    }
    Ok(())
}
