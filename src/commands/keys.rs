//! `shopchat keys add|list|revoke`: widget API keys.

use anyhow::bail;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use super::term;
use crate::accounts;
use crate::cli::{Cli, KeysCommand};
use crate::store::keys;

pub(super) fn run(cli: &Cli, cmd: &KeysCommand) -> anyhow::Result<()> {
    let mut conn = term::open(cli)?;
    match cmd {
        KeysCommand::Add { label } => {
            let key = accounts::add_key(&mut conn, label)?;
            eprintln!(
                "Key '{}' added. Put it in the widget's data-api-key (shown once):",
                label.trim()
            );
            term::say(&key)?;
        }
        KeysCommand::List { json } => {
            let list = keys::list(&conn)?;
            if *json {
                term::print_json(&list)?;
            } else if list.is_empty() {
                term::say("No stored keys: `shopchat keys add myshop.example`.")?;
            } else {
                let mut t = Table::new();
                t.load_preset(UTF8_FULL_CONDENSED);
                t.set_header(["label", "key", "created", "state"]);
                for k in &list {
                    t.add_row([
                        k.id.clone(),
                        format!("{}…", k.hint),
                        k.created_at.get(..10).unwrap_or("").to_string(),
                        match &k.revoked_at {
                            Some(at) => format!("revoked {}", at.get(..10).unwrap_or("")),
                            None => "active".into(),
                        },
                    ]);
                }
                term::say(t)?;
            }
        }
        KeysCommand::Revoke { label } => {
            if !accounts::revoke_key(&mut conn, label)? {
                bail!("no active key labelled '{label}'; `shopchat keys list` shows them");
            }
            term::say(format!(
                "Key '{label}' revoked: widgets using it now get 401."
            ))?;
        }
    }
    Ok(())
}
