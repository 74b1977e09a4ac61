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
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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

/// The key a client address is limited by: an IPv4 address as it is, an
/// IPv6 address by its /64 (one home or one phone gets a whole /64, and
/// could otherwise step through it to dodge the limit).
pub fn client_key(addr: &str) -> String {
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                v4.to_string()
            } else {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
        _ => addr.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        assert_eq!(client_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(
            client_key("2001:db8:1:2:aaaa::1"),
            client_key("2001:db8:1:2:ffff:ffff:1:2")
        );
        assert_ne!(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:3::1"));
        assert_eq!(client_key("::ffff:198.51.100.1"), "198.51.100.1");
        assert_eq!(client_key("not an address"), "not an address");
    }

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
