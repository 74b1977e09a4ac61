//! Background threads that stop together: `serve`'s Telegram threads and
//! its follow-ups (away sweep, email). They share one stop flag, which each
//! loop checks between steps; stopping (or dropping) sets it and joins them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A group of named threads with one stop flag. Dropping it stops them.
#[derive(Default)]
pub struct Threads {
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl Threads {
    pub fn new() -> Threads {
        Threads::default()
    }

    /// Starts `f` on a thread named `name`; `f` gets the group's stop flag.
    pub fn spawn(
        &mut self,
        name: &str,
        f: impl FnOnce(&AtomicBool) + Send + 'static,
    ) -> Result<()> {
        let stop = self.stop.clone();
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || f(&stop))
            .map_err(|e| Error::Internal(format!("could not start the {name} thread: {e}")))?;
        self.handles.push(handle);
        Ok(())
    }

    /// Sets the stop flag and waits for every thread to see it (work in
    /// flight, such as a network call, finishes or times out first).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.handles.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Sleeps up to `d`, waking early when `stop` is set.
pub fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(20);
    let deadline = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep(step.min(deadline - now));
    }
}
