//! Token buckets for the public API's rate limits, shared by all workers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Error, Result};

/// A set of token buckets, one per key (a client address, a session).
pub struct RateLimiter {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Buckets kept before idle ones are dropped.
const MAX_KEYS: usize = 50_000;

impl RateLimiter {
    /// `per_sec` tokens refill each second up to `burst`; 0 turns it off.
    pub fn new(per_sec: f64, burst: f64) -> Self {
        RateLimiter {
            per_sec,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`, or says when to retry.
    pub fn check(&self, key: &str) -> Result<()> {
        if self.per_sec <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            let (per_sec, burst) = (self.per_sec, self.burst);
            map.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_sec < burst
            });
        }
        let (tokens, at) = map.entry(key.to_string()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_sec).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) / self.per_sec;
            Err(Error::TooManyRequests {
                retry_after: wait.ceil().max(1.0) as u64,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuses_with_retry_after() {
        let l = RateLimiter::new(10.0 / 60.0, 10.0);
        for _ in 0..10 {
            l.check("1.2.3.4").unwrap();
        }
        match l.check("1.2.3.4") {
            Err(Error::TooManyRequests { retry_after }) => assert!((1..=6).contains(&retry_after)),
            other => panic!("expected 429, got {other:?}"),
        }
        l.check("5.6.7.8").unwrap();
    }

    #[test]
    fn zero_rate_is_off() {
        let l = RateLimiter::new(0.0, 0.0);
        for _ in 0..1000 {
            l.check("k").unwrap();
        }
    }
}
