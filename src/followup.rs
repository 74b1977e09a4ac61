//! The background work `serve` does for visitors nobody has answered: the
//! away sweep (the auto-reply after the shop's `away-after` minutes) and,
//! when SMTP is configured, the email follow-ups (deciding which answers
//! are due, and the outbox sender). Each thread has its own connection;
//! HTTP never waits for them.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::background::{sleep_unless_stopped, Threads};
use crate::email;
use crate::error::Result;

/// How often the away sweep looks (it also runs at start).
pub const AWAY_EVERY: Duration = Duration::from_secs(5);

/// The running threads. Dropping it stops them.
pub struct Service(Threads);

impl Service {
    /// Starts the away sweep every `away_every`, and the email worker when
    /// `email` is set.
    pub fn start(
        db: PathBuf,
        email: Option<Arc<email::Config>>,
        away_every: Duration,
    ) -> Result<Service> {
        let mut threads = Threads::new();
        {
            let mut conn = crate::db::open(&db)?;
            threads.spawn("away", move |stop| {
                while !stop.load(Ordering::SeqCst) {
                    if let Err(e) = crate::chat::away_sweep(&mut conn, chrono::Utc::now()) {
                        eprintln!("shopchat: away: {e}");
                    }
                    sleep_unless_stopped(away_every, stop);
                }
            })?;
        }
        if let Some(config) = email {
            let mut conn = crate::db::open(&db)?;
            threads.spawn("email", move |stop| {
                if let Err(e) = email::make_pending_due(&mut conn) {
                    eprintln!("shopchat: email: outbox: {e}");
                }
                let mut last_prune: Option<Instant> = None;
                while !stop.load(Ordering::SeqCst) {
                    if last_prune.is_none_or(|t| t.elapsed() > Duration::from_hours(1)) {
                        last_prune = Some(Instant::now());
                        if let Err(e) = email::prune(&mut conn) {
                            eprintln!("shopchat: email: pruning the outbox: {e}");
                        }
                    }
                    if let Err(e) = email::enqueue_due(&mut conn, &config) {
                        eprintln!("shopchat: email: {e}");
                    }
                    let mut worked = false;
                    // Send what is due, a few at a time between looks.
                    for _ in 0..10 {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        match email::send_next(&mut conn, &config) {
                            Ok(email::Step::Worked) => worked = true,
                            Ok(email::Step::Idle) => break,
                            Err(e) => {
                                eprintln!("shopchat: email: outbox: {e}");
                                break;
                            }
                        }
                    }
                    if !worked {
                        sleep_unless_stopped(config.tuning.tick, stop);
                    }
                }
            })?;
        }
        Ok(Service(threads))
    }

    /// Stops the threads; an SMTP delivery in flight finishes (or times out).
    pub fn stop(self) {
        self.0.stop();
    }
}
