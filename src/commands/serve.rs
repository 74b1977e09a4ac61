//! `shopchat serve`: checks every setting, prepares the database, makes
//! the first manager and key when there are none, and runs the server until
//! SIGINT or SIGTERM.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::cli::{Cli, ServeArgs};
use crate::config::ServeConfig;
use crate::http::{Server, Shared};
use crate::store::{keys, managers};
use crate::telegram;

pub(super) fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let config = ServeConfig::from_args(cli.db.clone(), args)?;
    let tg = config.telegram.clone().map(Arc::new);
    let mail = config.email.clone().map(Arc::new);
    let mut conn = crate::db::init(&config.db)
        .with_context(|| format!("could not open the database {}", config.db.display()))?;

    let mut notes = Vec::new();
    if managers::count(&conn)? == 0 {
        let token = crate::accounts::add_manager(&mut conn, "admin", Some("Admin"), None)?;
        notes.push(format!(
            "  manager 'admin' created; token (shown once, keep it secret): {token}"
        ));
    }
    if config.env_api_keys.is_empty() && keys::active_count(&conn)? == 0 {
        let key = crate::accounts::add_key(&mut conn, "default")?;
        notes.push(format!(
            "  widget API key 'default' created (shown once): {key}"
        ));
    }
    drop(conn);

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("could not handle signals")?;
    }

    let nofile = crate::http::raise_fd_limit();
    let mut shared = Shared::new(config.clone());
    if let Some(tg) = &tg {
        shared.notify = Arc::new(telegram::OutboxNotify::new(tg));
        shared.telegram = Some(tg.clone());
    }
    let server = Server::start(shared)?;
    let tg_service = match &tg {
        Some(tg) => Some(
            telegram::Service::start(tg.clone(), config.db.clone())
                .context("could not start Telegram")?,
        ),
        None => None,
    };
    let followup = crate::followup::Service::start(
        config.db.clone(),
        mail.clone(),
        crate::followup::AWAY_EVERY,
    )
    .context("could not start the away and email threads")?;
    let url = format!("http://{}", server.addr());
    let mut out = std::io::stdout().lock();
    writeln!(out, "shopchat listening on {url}")?;
    writeln!(
        out,
        "  database {}, {} workers, up to {} connections (open-file limit {nofile})",
        config.db.display(),
        config.threads,
        server.max_connections()
    )?;
    for n in &notes {
        writeln!(out, "{n}")?;
    }
    if config.trust_proxy {
        writeln!(
            out,
            "  behind a proxy: client addresses come from X-Forwarded-For"
        )?;
    }
    match &tg {
        Some(tg) => writeln!(
            out,
            "  telegram: notifying {} chat(s); answers via {}",
            tg.chat_ids.len(),
            if tg.webhook_mode() {
                "webhook POST /api/telegram/webhook"
            } else {
                "getUpdates"
            }
        )?,
        None => writeln!(
            out,
            "  telegram: off (set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID; docs/TELEGRAM.md)"
        )?,
    }
    match &mail {
        Some(m) => writeln!(
            out,
            "  email follow-up: answers unseen for {} s go to the visitor's email via {}:{}",
            m.after.as_secs(),
            m.host,
            m.port
        )?,
        None => writeln!(
            out,
            "  email follow-up: off (set CHAT_SMTP_HOST; docs/OPERATIONS.md)"
        )?,
    }
    if notes.is_empty() {
        writeln!(
            out,
            "  tokens and keys were shown when made; `shopchat managers token admin` or `shopchat keys add NAME` make new ones"
        )?;
    }
    if config.demo {
        writeln!(out, "  demo shop with the widget: {url}/")?;
    } else {
        writeln!(out, "  demo shop: off (--no-demo)")?;
    }
    writeln!(out, "  admin panel:               {url}/chat")?;
    out.flush()?;
    drop(out);

    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "shopchat: stopping (answering requests in flight, at most {} s)",
        config.shutdown_grace.as_secs()
    );
    let deadline = std::time::Instant::now() + config.shutdown_grace;
    // Telegram stops beside the HTTP server (a Bot API call in flight may
    // take its whole timeout); neither may hold the exit past the grace.
    let tg_done = tg_service.map(|t| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            t.stop();
            let _ = tx.send(());
        });
        rx
    });
    let followup_done = {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            followup.stop();
            let _ = tx.send(());
        });
        rx
    };
    server.stop();
    let left = deadline.saturating_duration_since(std::time::Instant::now());
    if followup_done
        .recv_timeout(left.max(Duration::from_millis(100)))
        .is_err()
    {
        eprintln!("shopchat: an email in flight did not finish in time; it stays queued");
    }
    if let Some(rx) = tg_done {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if rx
            .recv_timeout(left.max(Duration::from_millis(100)))
            .is_err()
        {
            eprintln!("shopchat: Telegram did not stop in time; its pending messages stay queued");
        }
    }
    eprintln!("shopchat: stopped");
    Ok(())
}
