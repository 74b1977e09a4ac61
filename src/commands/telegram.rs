//! `shopchat telegram test|chats`: check the bot token and every configured
//! chat with a real message, and find chat and user ids.

use anyhow::{bail, Context};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::cli::{Cli, TelegramArgs, TelegramCommand};
use crate::telegram::client::{ApiError, Client, Outgoing};
use crate::telegram::Config;

pub(super) fn run(_cli: &Cli, cmd: &TelegramCommand) -> anyhow::Result<()> {
    match cmd {
        TelegramCommand::Test {
            telegram,
            public_url,
        } => test(telegram, public_url.as_deref()),
        TelegramCommand::Chats { telegram } => chats(telegram),
    }
}

/// Checks the token with getMe, then sends a test message to each chat.
///
/// Directly, not through the outbox, on purpose: this command exists to
/// say at once and in words whether the token and each chat work, which a
/// queued message could not (see ARCHITECTURE.md).
fn test(args: &TelegramArgs, public_url: Option<&str>) -> anyhow::Result<()> {
    let public_url = crate::config::public_url(public_url)?;
    let config = Config::from_args(args, public_url)?.context(
        "Telegram is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID (see docs/TELEGRAM.md)",
    )?;
    let client = Client::new(&config)?;
    let base = &config.api_base;
    match client.get_me() {
        Ok(name) => println!("✓ bot token accepted: the bot is @{name}"),
        Err(ApiError::Api {
            code: code @ (401 | 404),
            ..
        }) => bail!(
            "the bot token was refused (getMe answered {code} Unauthorized): copy it again from @BotFather (/mybots, your bot, API Token) into TELEGRAM_BOT_TOKEN"
        ),
        Err(ApiError::Transport(m)) => bail!(
            "could not reach {base}: {m}\n  Check this machine's network, DNS, firewall or proxy, and TELEGRAM_API_BASE."
        ),
        Err(ApiError::Tls(m)) => bail!("could not connect securely to {base}: {m}"),
        Err(e) => bail!("getMe failed: {e}"),
    }
    let mut failed = 0;
    for chat in &config.chat_ids {
        let r = client.send_message(&Outgoing {
            chat_id: chat,
            html: "✅ <b>shopchat</b> test message: new chats and visitor messages will be announced in this chat.",
            ..Outgoing::default()
        });
        match r {
            Ok(_) => println!("✓ chat {chat}: test message sent"),
            Err(e) => {
                failed += 1;
                println!("✗ chat {chat}: {e}");
                println!("  {}", hint(&e));
            }
        }
    }
    if config.webhook_mode() {
        match &config.public_url {
            Some(u) => println!("  webhook mode: `serve` registers {u}/api/telegram/webhook"),
            None => println!(
                "  webhook mode without CHAT_PUBLIC_URL: register the webhook yourself (docs/TELEGRAM.md)"
            ),
        }
    }
    if failed > 0 {
        bail!(
            "{failed} of {} chat(s) in TELEGRAM_CHAT_ID did not get the test message",
            config.chat_ids.len()
        );
    }
    Ok(())
}

/// What to do about a failed sendMessage.
fn hint(e: &ApiError) -> String {
    match e {
        ApiError::Api {
            code: 400,
            description,
            ..
        } if description.contains("chat not found") => {
            "The id is wrong, or the bot is not in that chat: add the bot to the group (for a private chat, press Start in the bot first). `shopchat telegram chats` lists the chats the bot has seen.".into()
        }
        ApiError::Api { code: 400, .. } => {
            "Telegram refused the message for this chat; check the chat id (groups and channels have negative ids, e.g. -1001234567890).".into()
        }
        ApiError::Api { code: 403, .. } => {
            "The bot may not write there: it was removed from the group, blocked by the user, or is not an admin of the channel. Add it back and try again.".into()
        }
        ApiError::Api {
            code: 429,
            retry_after,
            ..
        } => format!(
            "Telegram asks to slow down; try again in {} s.",
            retry_after.unwrap_or(30)
        ),
        ApiError::Transport(_) => {
            "The network failed half-way; check this machine's connection and try again.".into()
        }
        ApiError::Tls(_) => {
            "The secure connection failed although getMe got through; try again.".into()
        }
        _ => "See the message above; docs/TELEGRAM.md has the setup steps.".into(),
    }
}

/// Lists the chats and senders in the bot's pending updates (without
/// acknowledging them, so `serve` still gets them).
fn chats(args: &TelegramArgs) -> anyhow::Result<()> {
    // Finding the chat id is what this is for, so TELEGRAM_CHAT_ID may be unset.
    let config = Config::bot_only(args)?;
    if config.token.is_empty() {
        bail!("set TELEGRAM_BOT_TOKEN first");
    }
    let client = Client::new(&config)?;
    let updates = match client.get_updates(0, std::time::Duration::ZERO) {
        Ok(u) => u,
        Err(ApiError::Api { code: 409, .. }) => bail!(
            "Telegram refused getUpdates (409): a webhook is set or `shopchat serve` is reading updates right now. Stop it (or use webhook mode's logs) and try again."
        ),
        Err(e) => bail!("getUpdates failed: {e}"),
    };
    let mut chats: Vec<(i64, String, String)> = Vec::new();
    let mut users: Vec<(i64, String)> = Vec::new();
    for u in &updates {
        let Some(m) = u
            .get("message")
            .or_else(|| u.get("channel_post"))
            .or_else(|| u.get("my_chat_member"))
        else {
            continue;
        };
        let c = &m["chat"];
        if let Some(id) = c["id"].as_i64() {
            let title = c["title"]
                .as_str()
                .or(c["username"].as_str())
                .or(c["first_name"].as_str())
                .unwrap_or("")
                .to_string();
            if !chats.iter().any(|(i, _, _)| *i == id) {
                chats.push((id, c["type"].as_str().unwrap_or("").to_string(), title));
            }
        }
        let f = &m["from"];
        if let Some(id) = f["id"].as_i64() {
            let name = [f["first_name"].as_str(), f["last_name"].as_str()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let name = match f["username"].as_str() {
                Some(u) => format!("{name} (@{u})"),
                None => name,
            };
            if !users.iter().any(|(i, _)| *i == id) {
                users.push((id, name));
            }
        }
    }
    if chats.is_empty() {
        println!(
            "The bot has no recent messages. Add it to your managers' group and send a message there (e.g. /start), then run this again."
        );
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["chat id (TELEGRAM_CHAT_ID)", "type", "title"]);
    for (id, kind, title) in &chats {
        t.add_row([id.to_string(), kind.clone(), title.clone()]);
    }
    println!("{t}");
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(["user id (managers link NAME ID)", "name"]);
    for (id, name) in &users {
        t.add_row([id.to_string(), name.clone()]);
    }
    println!("{t}");
    Ok(())
}
