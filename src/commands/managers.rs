//! `shopchat managers add|list|remove|token|link`.

use anyhow::{bail, Context};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use super::term;
use crate::accounts;
use crate::cli::{Cli, ManagersCommand};
use crate::store::managers::{self, Removed};

pub(super) fn run(cli: &Cli, cmd: &ManagersCommand) -> anyhow::Result<()> {
    let mut conn = term::open(cli)?;
    let unknown = |id: &str| format!("no manager '{id}'; `shopchat managers list` shows them");
    match cmd {
        ManagersCommand::Add {
            id,
            name,
            telegram_id,
        } => {
            let token = accounts::add_manager(&mut conn, id, name.as_deref(), *telegram_id)?;
            eprintln!("Manager '{id}' added. Their token (shown once; keep it secret):");
            term::say(&token)?;
        }
        ManagersCommand::List { json } => {
            let list = managers::list(&conn)?;
            if *json {
                term::print_json(&list)?;
            } else if list.is_empty() {
                term::say("No managers yet: `shopchat managers add alice`.")?;
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
                term::say(t)?;
            }
        }
        ManagersCommand::Remove { id } => {
            match accounts::remove_manager(&mut conn, id)? {
                Removed::NotFound => bail!(unknown(id)),
                Removed::Deleted => term::say(format!(
                    "Manager '{id}' removed; their open chats are now unassigned."
                ))?,
                Removed::Deactivated => term::say(format!(
                    "Manager '{id}' removed: their token no longer works and their open chats are unassigned. They wrote messages, so they are kept (deactivated) and their name stays on what they wrote."
                ))?,
            }
        }
        ManagersCommand::Token { id } => {
            let Some(token) = accounts::new_token(&mut conn, id)? else {
                bail!(unknown(id));
            };
            eprintln!("New token for '{id}' (the old one no longer works):");
            term::say(&token)?;
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
            if !accounts::link_telegram(&mut conn, id, tg)? {
                bail!(unknown(id));
            }
            match tg {
                Some(tg) => term::say(format!("Manager '{id}' is linked to Telegram user {tg}."))?,
                None => term::say(format!("Manager '{id}' is no longer linked to Telegram."))?,
            }
        }
    }
    Ok(())
}
