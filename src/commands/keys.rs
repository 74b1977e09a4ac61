//! `shopchat keys add|list|revoke`: widget API keys.

use anyhow::bail;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::cli::{Cli, KeysCommand};
use crate::secret;
use crate::store::keys;
use crate::time;

/// Makes a key labelled `label` and returns it.
pub fn create(conn: &rusqlite::Connection, label: &str) -> anyhow::Result<String> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        bail!("a key label is 1 to 64 printable characters, e.g. the shop's domain");
    }
    if keys::exists(conn, label)? {
        bail!("a key labelled '{label}' already exists; pick another label");
    }
    let key = secret::new_api_key();
    keys::insert(conn, label, &secret::hash(&key), &key[..8], &time::now())?;
    Ok(key)
}

pub fn run(cli: &Cli, cmd: &KeysCommand) -> anyhow::Result<()> {
    let conn = crate::db::init(&cli.db)?;
    match cmd {
        KeysCommand::Add { label } => {
            let key = create(&conn, label)?;
            eprintln!(
                "Key '{}' added. Put it in the widget's data-api-key (shown once):",
                label.trim()
            );
            super::term::say(&key)?;
        }
        KeysCommand::List { json } => {
            let list = keys::list(&conn)?;
            if *json {
                super::term::print_json(&list)?;
            } else if list.is_empty() {
                super::term::say("No stored keys: `shopchat keys add myshop.example`.")?;
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
                super::term::say(t)?;
            }
        }
        KeysCommand::Revoke { label } => {
            if !keys::revoke(&conn, label, &time::now())? {
                bail!("no active key labelled '{label}'; `shopchat keys list` shows them");
            }
            super::term::say(format!(
                "Key '{label}' revoked: widgets using it now get 401."
            ))?;
        }
    }
    Ok(())
}
