//! The tiny_http 0.12 task-pool race, reproduced with upstream's own pool
//! (`old_task_pool.rs`, copied unchanged from tiny_http 0.12.0).
//!
//! A burst of 64 connections arrives; each task stands for a keep-alive
//! connection and holds its thread for 2 s. A correct pool starts all 64 at
//! once. Upstream's counts an idle thread as "waiting" until that thread has
//! woken and re-taken the lock, so spawns in between queue behind threads
//! that are already taken, and those connections wait for others to close.
//!
//!     rustc -O --edition 2021 bench/pool-race/main.rs -o /tmp/pool-race && /tmp/pool-race
#[allow(dead_code)]
mod old_task_pool;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    for round in 1..=5 {
        let pool = old_task_pool::TaskPool::new();
        // Let its 4 idle threads reach their condvar.
        std::thread::sleep(Duration::from_millis(100));
        let started = Arc::new(AtomicUsize::new(0));
        let t0 = Instant::now();
        for _ in 0..64 {
            let started = started.clone();
            pool.spawn(Box::new(move || {
                started.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_secs(2));
            }));
        }
        std::thread::sleep(Duration::from_millis(500));
        let n = started.load(Ordering::SeqCst);
        println!(
            "round {round}: {n} of 64 connections being served 0.5 s after a burst ({} still queued behind open ones)",
            64 - n
        );
        let _ = t0;
        std::thread::sleep(Duration::from_secs(5));
    }
}
