//! Telegram outages: 500s, 429 with `retry_after`, a hanging API. Nothing is
//! lost, nothing is sent twice after success, and the chat API stays as
//! fast as when Telegram is healthy.

use std::time::{Duration, Instant};

use crate::telegram_fake::{eventually, quiet_period, stays, Harness, Mode};

const CHATS: [&str; 2] = ["-1001", "-1002"];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Load<'a> {
    h: &'a Harness,
    sessions: Vec<(String, String)>,
    texts: Vec<String>,
    latencies: Vec<Duration>,
}

impl Load<'_> {
    /// Every visitor writes once and polls once; the latencies are kept.
    fn round(&mut self, phase: &str, i: usize) -> Vec<Duration> {
        let mut lat = Vec::new();
        for (n, (sid, usid)) in self.sessions.iter().enumerate() {
            let text = format!("[{phase} v{n} #{i}]");
            let t = Instant::now();
            self.h.server.visitor_says(sid, usid, &text);
            lat.push(t.elapsed());
            let t = Instant::now();
            self.h.visitor_poll(sid, usid);
            lat.push(t.elapsed());
            self.texts.push(text);
        }
        self.latencies.extend(lat.iter().copied());
        std::thread::sleep(Duration::from_millis(60));
        lat
    }
}

/// Waits until the fake has answered `method` with `status` at least `n`
/// times since `since`, while the visitors keep writing.
fn until_calls(
    load: &mut Load,
    phase: &str,
    status: u16,
    n: usize,
    since: Instant,
) -> Vec<Duration> {
    let mut lat = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut i = 0;
    loop {
        let seen = load
            .h
            .fake
            .calls("sendMessage")
            .iter()
            .filter(|c| c.status == status && c.at >= since)
            .count();
        if seen >= n {
            return lat;
        }
        assert!(
            Instant::now() < deadline,
            "the worker never got answer {status}"
        );
        if i < 3 {
            lat.extend(load.round(phase, i));
        } else {
            std::thread::sleep(Duration::from_millis(50));
        }
        i += 1;
    }
}

#[test]
fn an_outage_loses_nothing_and_does_not_slow_the_chat() {
    let h = Harness::start(&CHATS);
    let sessions = (0..3)
        .map(|i| h.server.open_chat(&format!("visitor {i}")))
        .collect();
    let mut load = Load {
        h: &h,
        sessions,
        texts: Vec::new(),
        latencies: Vec::new(),
    };

    // Healthy: the baseline.
    let mut baseline = Vec::new();
    for i in 0..4 {
        baseline.extend(load.round("ok", i));
    }

    // 500s, then 429 with retry_after, then a hang past the timeout.
    let mut outage = Vec::new();
    let t500 = Instant::now();
    h.fake.set_mode(Mode::Fail(500));
    outage.extend(until_calls(&mut load, "e500", 500, 3, t500));
    let t429 = Instant::now();
    h.fake.set_mode(Mode::TooMany(1));
    outage.extend(until_calls(&mut load, "e429", 429, 1, t429));
    let first_429 = h
        .fake
        .calls("sendMessage")
        .into_iter()
        .find(|c| c.status == 429)
        .unwrap()
        .at;
    let thang = Instant::now();
    h.fake.set_mode(Mode::Hang(Duration::from_secs(4)));
    outage.extend(until_calls(&mut load, "hang", 0, 1, thang));
    // While the worker waits on the hung call, the chat answers as usual.
    for i in 0..3 {
        outage.extend(load.round("during-hang", i));
    }
    // The worker gives up on the hung call at its 1.5 s timeout.
    assert!(
        eventually(Duration::from_secs(10), || h.outbox().iter().any(|r| r
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("timed out")))),
        "no timeout recorded: {:#?}",
        h.outbox()
    );
    h.fake.set_mode(Mode::Ok);

    // Every message reaches each chat exactly once.
    let texts = load.texts.clone();
    let delivered = eventually(Duration::from_secs(30), || {
        CHATS.iter().all(|chat| {
            let sent = h.fake.sent_to(chat);
            texts
                .iter()
                .all(|t| sent.iter().any(|m| m.text.contains(t.as_str())))
        })
    });
    assert!(delivered, "not everything arrived: {:#?}", h.fake.sent());
    let once = || {
        CHATS.iter().all(|chat| {
            let sent = h.fake.sent_to(chat);
            texts
                .iter()
                .all(|t| sent.iter().filter(|m| m.text.contains(t.as_str())).count() == 1)
        })
    };
    assert!(
        stays(quiet_period(), once),
        "something reached a chat twice: {:#?}",
        h.fake.sent()
    );
    assert!(h.outbox().iter().all(|r| r.sent_at.is_some()));

    // retry_after was honoured: nothing went out within 1 s of the 429.
    let next = h
        .fake
        .calls("sendMessage")
        .into_iter()
        .find(|c| c.at > first_429)
        .unwrap();
    assert!(
        next.at - first_429 >= Duration::from_millis(950),
        "retried {:?} after a 429 with retry_after=1",
        next.at - first_429
    );

    // The chat was as fast during the outage as before it. Medians of a few
    // milliseconds are noisy, so compare with a floor, and bound the worst
    // case well below the Bot API timeout the worker was stuck in.
    let (b, o) = (median(baseline), median(outage.clone()));
    let floor = Duration::from_millis(20);
    assert!(
        o <= b.max(floor) * 4,
        "median latency {o:?} during the outage vs {b:?} before"
    );
    let worst = outage.iter().max().unwrap();
    assert!(*worst < Duration::from_secs(1), "a request took {worst:?}");
}

#[test]
fn failures_back_off_exponentially() {
    let h = Harness::start(&["-1001"]);
    h.fake.set_mode(Mode::Fail(502));
    let (sid, usid) = h.server.open_chat("Olena");
    h.server.visitor_says(&sid, &usid, "hello");
    assert!(eventually(Duration::from_secs(10), || h
        .fake
        .calls("sendMessage")
        .len()
        >= 5));
    let calls = h.fake.calls("sendMessage");
    let gaps: Vec<Duration> = calls.windows(2).map(|w| w[1].at - w[0].at).collect();
    // 100 ms, 200, 400, 800 (the cap), 800 ...
    assert!(gaps[0] >= Duration::from_millis(90), "{gaps:?}");
    assert!(gaps[2] >= Duration::from_millis(380), "{gaps:?}");
    assert!(gaps[2] > gaps[0] * 2, "{gaps:?}");
    let row = h.outbox().into_iter().next().unwrap();
    assert!(row.attempts >= 4 && row.sent_at.is_none());
    assert!(row.last_error.unwrap().contains("502"));
    h.fake.set_mode(Mode::Ok);
    assert!(h.fake.wait_for(Duration::from_secs(5), |s| s
        .iter()
        .any(|m| m.text.contains("hello"))));
}
