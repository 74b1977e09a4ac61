//! `shopchat settings show|set|unset`: the shop's settings in the
//! database (time zone, hours, away mode, texts), read by `serve` and the
//! terminal alike. Values are checked before they are stored.

use anyhow::bail;
use serde_json::json;

use super::term;
use crate::cli::{Cli, SettingsCommand};
use crate::shop::{self, Shop, KEYS};
use crate::store::{self, settings};

pub(super) fn run(cli: &Cli, cmd: &SettingsCommand) -> anyhow::Result<()> {
    let mut conn = term::open(cli)?;
    match cmd {
        SettingsCommand::Show { json } => {
            let stored = settings::all(&conn)?;
            let shop = Shop::load(&conn)?;
            let effective = |k: &str| -> String {
                match k {
                    "timezone" => shop.tz.name().to_string(),
                    "hours" => shop.hours.as_ref().map_or(
                        "always open".into(),
                        super::super::shop::WeeklyHours::describe,
                    ),
                    "away-after" => shop.away_after.map_or("off".into(), |m| format!("{m} min")),
                    "away-reply" => shop.away_reply.clone(),
                    "contact-first" => if shop.contact_first { "yes" } else { "no" }.into(),
                    _ => String::new(),
                }
            };
            if *json {
                let mut o = serde_json::Map::new();
                for k in KEYS {
                    let set = stored.iter().find(|(n, _)| n == k.name).map(|(_, v)| v);
                    o.insert(
                        k.name.into(),
                        json!({"value": set, "effective": effective(k.name)}),
                    );
                }
                return term::print_json(&o);
            }
            for k in KEYS {
                let set = stored.iter().any(|(n, _)| n == k.name);
                term::say(format!(
                    "{:<14} {}{}",
                    k.name,
                    effective(k.name),
                    if set { "" } else { "  (default)" }
                ))?;
            }
            term::say("\n`shopchat settings set NAME VALUE` changes one; NAME is one of:")?;
            for k in KEYS {
                term::say(format!("  {:<14} {}", k.name, k.help))?;
            }
        }
        SettingsCommand::Set { key, value } => {
            let value = value.join(" ");
            if value.trim().is_empty() {
                bail!("give a value, or `shopchat settings unset {key}`");
            }
            store::write(&mut conn, |tx| shop::set(tx, key, &value))?;
            let shop = Shop::load(&conn)?;
            let shown = match key.as_str() {
                "hours" => shop.hours.map(|h| h.describe()).unwrap_or_default(),
                "timezone" => shop.tz.name().to_string(),
                _ => value.trim().to_string(),
            };
            term::say(format!("{key} = {shown}"))?;
        }
        SettingsCommand::Unset { key } => {
            let was = store::write(&mut conn, |tx| shop::unset(tx, key))?;
            term::say(if was {
                format!("{key} is back to its default.")
            } else {
                format!("{key} was not set; it keeps its default.")
            })?;
        }
    }
    Ok(())
}
