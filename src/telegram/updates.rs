//! Incoming Telegram updates, from getUpdates long polling or the webhook:
//! a manager's reply to a notification (found by the stored `message_id`,
//! never by parsing text), `/close`, `/reply ID TEXT`, `/close ID`,
//! `/chats`. Only configured chats count, only linked managers act, and
//! every bot answer goes out through the outbox.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;
use serde_json::Value;

use super::client::{ApiError, Client};
use super::outbox::backoff;
use super::text::{cut, escape, who};
use super::Config;
use crate::background::sleep_unless_stopped;
use crate::chat::short_id;
use crate::chat::{self, Author, IdMatch, NoNotify};
use crate::error::{Error, Result};
use crate::store::sessions::{self, Filter};
use crate::store::telegram::{self as tg_store, Kind, NewRow};
use crate::store::{self, managers, Status};

/// A bot answer to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub chat_id: String,
    pub html: String,
    pub reply_to: Option<i64>,
    pub thread: Option<i64>,
    /// The session it is about: a reply to the answer then reaches it too.
    pub session_id: Option<String>,
}

/// What handling an update leads to, written in one transaction.
#[derive(Debug, Default)]
pub struct Outcome {
    pub answers: Vec<Answer>,
    /// (configured chat, Telegram `message_id`, session): messages about a session.
    pub maps: Vec<(String, i64, String)>,
}

/// Reads getUpdates until `stop` (or, in webhook mode, registers the
/// webhook and returns).
pub fn run(mut conn: Connection, client: &Client, config: &Config, stop: &AtomicBool) {
    if config.webhook_mode() {
        register_webhook(client, config, stop);
        return;
    }
    let t = &config.tuning;
    let mut failures: i64 = 0;
    while !stop.load(Ordering::SeqCst) {
        let offset = match tg_store::update_offset(&conn) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("shopchat: telegram: reading the update offset: {e}");
                sleep_unless_stopped(t.idle_interval, stop);
                continue;
            }
        };
        match client.get_updates(offset, t.poll_timeout) {
            Ok(updates) => {
                failures = 0;
                for u in &updates {
                    let Some(id) = u["update_id"].as_i64() else {
                        continue;
                    };
                    if let Err(e) = handle_update(&mut conn, config, u, Some(id + 1)) {
                        // Not acknowledged: the update comes again.
                        eprintln!("shopchat: telegram: handling update {id}: {e}");
                        sleep_unless_stopped(t.idle_interval, stop);
                        break;
                    }
                }
            }
            Err(ApiError::Api {
                code: 409,
                description,
                ..
            }) if description.contains("webhook") => {
                eprintln!(
                    "shopchat: telegram: a webhook is set, so getUpdates is refused; deleting it (set TELEGRAM_WEBHOOK_SECRET for webhook mode)"
                );
                if let Err(e) = client.delete_webhook() {
                    eprintln!("shopchat: telegram: deleteWebhook: {e}");
                    sleep_unless_stopped(t.max_backoff.min(Duration::from_secs(30)), stop);
                }
            }
            Err(e) => {
                failures += 1;
                let wait = backoff(
                    t.min_backoff,
                    t.max_backoff.min(Duration::from_secs(30)),
                    failures,
                );
                if failures == 1 || failures % 10 == 0 {
                    eprintln!(
                        "shopchat: telegram: getUpdates failed ({failures} in a row): {e}; retrying"
                    );
                }
                sleep_unless_stopped(wait, stop);
            }
        }
    }
}

fn register_webhook(client: &Client, config: &Config, stop: &AtomicBool) {
    let (Some(base), Some(secret)) = (&config.public_url, &config.webhook_secret) else {
        eprintln!(
            "shopchat: telegram: webhook mode without CHAT_PUBLIC_URL: register the webhook yourself (docs/TELEGRAM.md)"
        );
        return;
    };
    let url = format!("{base}/api/telegram/webhook");
    let mut attempt = 0;
    while !stop.load(Ordering::SeqCst) {
        attempt += 1;
        match client.set_webhook(&url, secret) {
            Ok(()) => {
                eprintln!("shopchat: telegram: webhook set to {url}");
                return;
            }
            Err(e) => {
                eprintln!("shopchat: telegram: setWebhook failed (attempt {attempt}): {e}");
                let t = &config.tuning;
                sleep_unless_stopped(backoff(t.min_backoff, t.max_backoff, attempt), stop);
            }
        }
    }
}

/// Handles one update and, in the same transaction as its answers,
/// acknowledges it by storing `next_offset` (getUpdates mode).
pub fn handle_update(
    conn: &mut Connection,
    config: &Config,
    update: &Value,
    next_offset: Option<i64>,
) -> Result<Outcome> {
    let outcome = process(conn, config, update)?;
    let now = crate::time::now();
    store::write(conn, |tx| {
        for a in &outcome.answers {
            tg_store::enqueue(
                tx,
                &NewRow {
                    chat_id: &a.chat_id,
                    kind: Kind::Bot,
                    session_id: a.session_id.as_deref(),
                    message_seq: None,
                    text: &a.html,
                    reply_to_message_id: a.reply_to,
                    message_thread_id: a.thread,
                },
                &now,
            )?;
        }
        for (chat, message_id, sid) in &outcome.maps {
            tg_store::map_message(tx, chat, *message_id, sid)?;
        }
        if let Some(o) = next_offset {
            tg_store::set_update_offset(tx, o)?;
        }
        Ok(())
    })?;
    Ok(outcome)
}

/// `/name@bot args` -> ("name", "args").
fn parse_command(text: &str) -> Option<(String, &str)> {
    let text = text.trim_start();
    let rest = text.strip_prefix('/')?;
    let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let name = word.split('@').next().unwrap_or("").to_ascii_lowercase();
    (!name.is_empty()).then_some((name, args.trim()))
}

const KNOWN: &[&str] = &["close", "reopen", "reply", "chats", "help", "start"];

/// Decides what an update means. Writes chat messages and closes sessions
/// (each its own transaction, idempotent on a repeated update); the answers
/// are returned for [`handle_update`] to enqueue.
pub fn process(conn: &mut Connection, config: &Config, update: &Value) -> Result<Outcome> {
    let mut out = Outcome::default();
    let Some(msg) = update.get("message") else {
        return Ok(out);
    };
    let (Some(chat_num), Some(message_id)) =
        (msg["chat"]["id"].as_i64(), msg["message_id"].as_i64())
    else {
        return Ok(out);
    };
    let Some(chat_id) = config.configured_chat(chat_num, msg["chat"]["username"].as_str()) else {
        eprintln!(
            "shopchat: telegram: ignored a message from chat {chat_num}, which is not in TELEGRAM_CHAT_ID"
        );
        return Ok(out);
    };
    let chat_id = chat_id.to_string();
    let text = msg["text"].as_str();
    let command = text.and_then(parse_command);
    let thread = (msg["is_topic_message"] == Value::Bool(true))
        .then(|| msg["message_thread_id"].as_i64())
        .flatten();

    let mut target = match msg["reply_to_message"]["message_id"].as_i64() {
        Some(r) => tg_store::session_for_message(conn, &chat_id, r)?,
        None => None,
    };
    if target.is_none() && config.topics {
        if let Some(t) = thread {
            target = tg_store::session_for_topic(conn, &chat_id, t)?;
        }
    }
    let known = command
        .as_ref()
        .is_some_and(|(c, _)| KNOWN.contains(&c.as_str()));
    if !known && target.is_none() {
        // Chatter among managers, or another bot's command.
        return Ok(out);
    }
    let mut answer = |html: String, session: Option<&str>| {
        out.answers.push(Answer {
            chat_id: chat_id.clone(),
            html,
            reply_to: Some(message_id),
            thread,
            session_id: session.map(str::to_string),
        });
    };

    let from = msg["from"]["id"].as_i64();
    let manager = match from {
        Some(id) => managers::by_telegram_id(conn, id)?,
        None => None,
    };
    let Some(manager) = manager else {
        answer(not_linked(from), None);
        return Ok(out);
    };

    match (command.as_ref().map(|(c, a)| (c.as_str(), *a)), &target) {
        (Some(("help" | "start", _)), _) => answer(help(config), None),
        (Some(("chats", _)), _) => answer(awaiting(conn)?, None),
        (Some(("close", "")), Some(sid)) => {
            let html = close(conn, sid)?;
            answer(html, Some(sid));
        }
        (Some(("close", arg)), _) => match resolve(conn, arg)? {
            Ok(sid) => {
                let html = close(conn, &sid)?;
                answer(html, Some(&sid));
            }
            Err(html) => answer(html, None),
        },
        (Some(("reopen", "")), Some(sid)) => {
            let html = reopen(conn, sid)?;
            answer(html, Some(sid));
        }
        (Some(("reopen", arg)), _) => match resolve(conn, arg)? {
            Ok(sid) => {
                let html = reopen(conn, &sid)?;
                answer(html, Some(&sid));
            }
            Err(html) => answer(html, None),
        },
        (Some(("reply", args)), _) => {
            let (id, body) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
            match resolve(conn, id)? {
                Ok(_) if body.trim().is_empty() => answer(
                    "Write the answer after the id: <code>/reply ID text</code>".into(),
                    None,
                ),
                Ok(sid) => {
                    let (html, sent) = post(conn, &chat_id, message_id, &sid, &manager.id, body)?;
                    if sent {
                        out.maps.push((chat_id.clone(), message_id, sid.clone()));
                    }
                    if let Some(html) = html {
                        answer(html, Some(&sid));
                    }
                }
                Err(html) => answer(html, None),
            }
        }
        (Some((_, _)), Some(_)) => answer(
            format!("Unknown command. {}", escape(&command_list())),
            None,
        ),
        (None, Some(sid)) => match text {
            None => answer(
                "Only text can be sent to the visitor; nothing was sent.".into(),
                Some(sid),
            ),
            Some(body) => {
                let (html, sent) = post(conn, &chat_id, message_id, sid, &manager.id, body)?;
                if sent {
                    out.maps.push((chat_id.clone(), message_id, sid.clone()));
                }
                if let Some(html) = html {
                    answer(html, Some(sid));
                }
            }
        },
        (Some(_) | None, None) => {}
    }
    Ok(out)
}

/// Stores a manager's reply. Returns the bot's answer (none for a repeated
/// update) and whether the message is stored.
fn post(
    conn: &mut Connection,
    chat_id: &str,
    message_id: i64,
    sid: &str,
    manager_id: &str,
    body: &str,
) -> Result<(Option<String>, bool)> {
    // The Telegram message identifies the reply: a repeated update (a crash
    // before the offset was saved, a webhook retry) stores nothing twice.
    let client_id = format!("tg:{chat_id}:{message_id}");
    match chat::post_message(
        conn,
        &NoNotify,
        sid,
        Author::Manager(manager_id),
        body,
        Some(&client_id),
    ) {
        Ok((_, true)) => {
            let s = sessions::get(conn, sid)?.ok_or_else(Error::session_not_found)?;
            Ok((
                Some(format!(
                    "✓ Sent to <b>{}</b> (chat <code>{}</code>).",
                    escape(&cut(&who(&s), 200)),
                    short_id(sid)
                )),
                true,
            ))
        }
        Ok((_, false)) => Ok((None, true)),
        Err(Error::SessionClosed) => Ok((Some(closed_answer(conn, sid)?), false)),
        Err(Error::BadRequest(m)) => Ok((Some(format!("Not sent: {}", escape(&m))), false)),
        Err(Error::NotFound(_)) => Ok((
            Some("That chat no longer exists; nothing was sent.".into()),
            false,
        )),
        Err(e) => Err(e),
    }
}

fn closed_answer(conn: &Connection, sid: &str) -> Result<String> {
    let s = sessions::get(conn, sid)?.ok_or_else(Error::session_not_found)?;
    Ok(format!(
        "Chat <code>{}</code> with <b>{}</b> is {}: the visitor no longer sees answers there, so nothing was sent.",
        short_id(sid),
        escape(&cut(&who(&s), 200)),
        s.status.as_str()
    ))
}

fn close(conn: &mut Connection, sid: &str) -> Result<String> {
    let before = sessions::get(conn, sid)?.ok_or_else(Error::session_not_found)?;
    let s = chat::close(conn, sid)?;
    Ok(if before.status == Status::Active {
        format!(
            "Chat <code>{}</code> with <b>{}</b> is closed.",
            short_id(sid),
            escape(&cut(&who(&s), 200))
        )
    } else {
        format!(
            "Chat <code>{}</code> with <b>{}</b> was already {}.",
            short_id(sid),
            escape(&cut(&who(&s), 200)),
            s.status.as_str()
        )
    })
}

fn reopen(conn: &mut Connection, sid: &str) -> Result<String> {
    let before = sessions::get(conn, sid)?.ok_or_else(Error::session_not_found)?;
    let who = escape(&cut(&who(&before), 200));
    Ok(match chat::reopen(conn, sid) {
        Ok(_) if before.status == Status::Active => {
            format!(
                "Chat <code>{}</code> with <b>{who}</b> is already open.",
                short_id(sid)
            )
        }
        Ok(_) => format!(
            "Chat <code>{}</code> with <b>{who}</b> is open again; reply to answer.",
            short_id(sid)
        ),
        Err(Error::Conflict(why)) => format!(
            "Chat <code>{}</code> with <b>{who}</b> was not reopened: {}.",
            short_id(sid),
            escape(&why)
        ),
        Err(e) => return Err(e),
    })
}

/// A session from a short id: `Ok(Ok(id))`, or `Ok(Err(answer))` saying
/// what is wrong.
fn resolve(conn: &Connection, prefix: &str) -> Result<std::result::Result<String, String>> {
    Ok(match chat::find_by_prefix(conn, prefix, 6)? {
        IdMatch::TooShort | IdMatch::Malformed => Err(format!(
            "Give a chat id (4 or more characters, as shown in notifications), not “{}”. /chats lists the chats waiting for an answer.",
            escape(&cut(prefix, 40))
        )),
        IdMatch::None => Err(format!(
            "No chat id starts with <code>{}</code>.",
            escape(&prefix.trim().to_ascii_lowercase())
        )),
        IdMatch::One(id) => Ok(id),
        IdMatch::Many(ids) => Err(format!(
            "<code>{}</code> matches several chats ({}); give more characters.",
            escape(&prefix.trim().to_ascii_lowercase()),
            ids.iter()
                .map(|id| format!("<code>{}</code>", short_id(id)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    })
}

/// `/chats`: the active chats whose last message is the visitor's.
fn awaiting(conn: &Connection) -> Result<String> {
    let (list, total) = sessions::list(
        conn,
        &Filter {
            status: Some(Status::Active),
            awaiting_reply: Some(true),
            limit: 20,
            ..Filter::default()
        },
    )?;
    if list.is_empty() {
        return Ok("No chat is waiting for an answer.".into());
    }
    let mut html = format!("<b>Waiting for an answer ({total}):</b>\n");
    for s in &list {
        let last = s
            .last_message
            .as_ref()
            .map(|m| cut(&m.message_text.replace('\n', " "), 80))
            .unwrap_or_default();
        html.push_str(&format!(
            "<code>{}</code> <b>{}</b>: {}\n",
            short_id(&s.session.id),
            escape(&cut(&who(&s.session), 60)),
            escape(&last)
        ));
    }
    if total > list.len() as i64 {
        html.push_str(&format!("…and {} more.\n", total - list.len() as i64));
    }
    html.push_str("Answer with <code>/reply ID text</code>, or reply to a notification.");
    Ok(html)
}

fn not_linked(from: Option<i64>) -> String {
    match from {
        Some(id) => format!(
            "You are not linked to a shopchat manager, so nothing was sent. Your Telegram user id is <code>{id}</code>; an admin can link you with:\n<code>shopchat managers link NAME {id}</code>\n(or <code>shopchat managers add NAME --telegram-id {id}</code>)."
        ),
        None => "Only linked managers can answer chats (see <code>shopchat managers link</code>); nothing was sent.".into(),
    }
}

fn command_list() -> String {
    "Reply to a notification to answer the visitor; reply /close to close the chat, /reopen to open it again. Also: /reply ID text, /close ID, /reopen ID, /chats (chats waiting for an answer)."
        .into()
}

fn help(config: &Config) -> String {
    let mut h = escape(&command_list());
    if config.topics {
        h.push_str("\nIn forum-topic mode, write in a chat's topic to answer it.");
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_parsed_with_or_without_the_bot_name() {
        assert_eq!(parse_command("/close"), Some(("close".into(), "")));
        assert_eq!(
            parse_command("/reply@shop_bot 3f2a  hello there "),
            Some(("reply".into(), "3f2a  hello there"))
        );
        assert_eq!(parse_command("hello /close"), None);
        assert_eq!(parse_command("/"), None);
    }
}
