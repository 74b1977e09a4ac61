//! deploy/ as shipped. Debian's nginx runs the shipped site
//! (deploy/nginx/shopchat.conf), and Debian's Caddy the shipped Caddyfile,
//! on loopback in front of the real `shopchat serve --trust-proxy
//! --no-demo`, as deploy/shopchat.service starts it, over HTTPS with a
//! certificate made at start. The files are changed only where a test
//! machine must differ: server name, certificate, ports, upstream port, log
//! and data paths. Clients connect from addresses of their own (127.0.0.2,
//! 127.0.0.3, ...), as visitors on the internet do, so the proxy and
//! shopchat see one address per visitor. Also: the backup script's
//! rotation, the systemd units checked by systemd-analyze, and the tests
//! docs/SECURITY.md names.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::clikit::BIN;
use crate::live::{self, heavy, parse_answer, Lat, Live, Opts, Prepared, RawAnswer};
use crate::telegram_fake::TestPki;

const SITE: &str = include_str!("../../deploy/nginx/shopchat.conf");
const CADDYFILE: &str = include_str!("../../deploy/Caddyfile");

/// `127.0.0.N`: a visitor (or attacker) of its own.
fn addr(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A Debian package's program these tests need (./test.sh installs it),
/// or the one named by the environment variable `var`.
fn program(var: &str, paths: &[&str], package: &str) -> PathBuf {
    let candidates = std::env::var_os(var)
        .map(PathBuf::from)
        .into_iter()
        .chain(paths.iter().map(PathBuf::from));
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    panic!(
        "the deploy tests need Debian's {package}: `apt-get install {package}` \
         (./test.sh installs it when run as root), or set {var}"
    );
}

/// A free TCP port on 127.0.0.1 (nginx cannot listen on port 0 and tell).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The shipped site with what a test machine must change, each change
/// checked so that the test follows the file (a line renamed there fails
/// here, loudly).
fn site_for_test(dir: &Path, https: u16, http: u16, upstream: SocketAddr) -> String {
    let d = dir.display();
    let edits: [(&str, String); 10] = [
        (
            "/etc/letsencrypt/live/chat.shop.example/fullchain.pem",
            format!("{d}/chain.pem"),
        ),
        (
            "/etc/letsencrypt/live/chat.shop.example/privkey.pem",
            format!("{d}/key.pem"),
        ),
        (
            "server_name chat.shop.example;",
            "server_name localhost;".into(),
        ),
        (
            "listen 443 ssl http2;",
            format!("listen 127.0.0.1:{https} ssl http2;"),
        ),
        ("listen [::]:443 ssl http2;", String::new()),
        ("listen 80;", format!("listen 127.0.0.1:{http};")),
        ("listen [::]:80;", String::new()),
        ("server 127.0.0.1:8080;", format!("server {upstream};")),
        ("/var/log/nginx/", format!("{d}/")),
        ("root /var/www/html;", format!("root {d}/acme;")),
    ];
    let mut site = SITE.to_string();
    for (from, to) in edits {
        assert!(
            site.contains(from),
            "deploy/nginx/shopchat.conf no longer has `{from}`; update this test's edits"
        );
        site = site.replace(from, &to);
    }
    let left: Vec<&str> = site
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains("chat.shop.example"))
        .collect();
    assert!(left.is_empty(), "not changed for the test: {left:?}");
    site
}

/// Debian's /etc/nginx/nginx.conf as docs/DEPLOY.md leaves it (its http
/// settings, `worker_connections` 4096, `worker_rlimit_nofile` 8192), with
/// its paths in `dir`. `user root`: the workers read the test key in a
/// private temporary folder (ignored when not run as root).
fn main_for_test(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "user root;
worker_processes auto;
worker_rlimit_nofile 8192;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
daemon off;
events {{
    worker_connections 4096;
}}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_prefer_server_ciphers on;
    access_log {d}/access.log;
    gzip on;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    include {d}/site.conf;
}}
"
    )
}

/// The shipped Caddyfile with what a test machine must change: the site's
/// name and port, the test certificate (so no ACME), its own ports, no
/// admin endpoint, data in `dir`; each change checked.
fn caddyfile_for_test(dir: &Path, https: u16, http: u16, upstream: SocketAddr) -> String {
    let d = dir.display();
    let edits: [(&str, String); 3] = [
        (
            "\n{\n",
            format!(
                "\n{{\n\tadmin off\n\thttp_port {http}\n\thttps_port {https}\n\
                 \tstorage file_system {d}/caddy\n"
            ),
        ),
        (
            "\nchat.shop.example {\n",
            format!("\nhttps://localhost:{https} {{\n\ttls {d}/chain.pem {d}/key.pem\n"),
        ),
        (
            "reverse_proxy 127.0.0.1:8080 {",
            format!("reverse_proxy {upstream} {{"),
        ),
    ];
    let mut file = CADDYFILE.to_string();
    for (from, to) in edits {
        assert_eq!(
            file.matches(from).count(),
            1,
            "deploy/Caddyfile no longer has `{from}` once; update this test's edits"
        );
        file = file.replacen(from, &to, 1);
    }
    file
}

/// nginx or Caddy with the shipped configuration, in front of `upstream`.
/// Stopped when dropped.
struct Proxy {
    name: &'static str,
    child: Child,
    dir: tempfile::TempDir,
    https: SocketAddr,
    http: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
}

impl Proxy {
    /// Debian's nginx with the shipped site.
    fn nginx(upstream: SocketAddr) -> Proxy {
        let bin = program(
            "SHOPCHAT_NGINX",
            &["/usr/sbin/nginx", "/usr/local/sbin/nginx"],
            "nginx",
        );
        Proxy::start("nginx", |p, https, http| {
            std::fs::create_dir_all(p.join("tmp")).unwrap();
            std::fs::create_dir_all(p.join("acme")).unwrap();
            std::fs::write(p.join("site.conf"), site_for_test(p, https, http, upstream)).unwrap();
            std::fs::write(p.join("nginx.conf"), main_for_test(p)).unwrap();
            let mut c = Command::new(&bin);
            c.arg("-p")
                .arg(p)
                .arg("-e")
                .arg(p.join("error.log"))
                .arg("-c")
                .arg(p.join("nginx.conf"));
            c
        })
    }

    /// Debian's Caddy with the shipped Caddyfile.
    fn caddy(upstream: SocketAddr) -> Proxy {
        let bin = program(
            "SHOPCHAT_CADDY",
            &["/usr/bin/caddy", "/usr/local/bin/caddy"],
            "caddy",
        );
        Proxy::start("Caddy", |p, https, http| {
            std::fs::write(
                p.join("Caddyfile"),
                caddyfile_for_test(p, https, http, upstream),
            )
            .unwrap();
            let mut c = Command::new(&bin);
            c.args(["run", "--adapter", "caddyfile", "--config"])
                .arg(p.join("Caddyfile"))
                .env("HOME", p)
                .env("XDG_DATA_HOME", p)
                .env("XDG_CONFIG_HOME", p);
            c
        })
    }

    /// Writes the test certificate into a fresh folder, lets `prepare`
    /// write the configuration and make the command, runs it and waits
    /// until both ports listen.
    fn start(name: &'static str, prepare: impl Fn(&Path, u16, u16) -> Command) -> Proxy {
        let pki = TestPki::new();
        let mut last_error = String::new();
        // A port picked free may be taken before the proxy binds it: try
        // again.
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir");
            let p = dir.path();
            std::fs::write(p.join("chain.pem"), &pki.chain_pem).unwrap();
            std::fs::write(p.join("key.pem"), &pki.key_pem).unwrap();
            let (https, http) = (free_port(), free_port());
            let log = std::fs::File::create(p.join("stderr.log")).unwrap();
            let mut child = prepare(p, https, http)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
            let https = SocketAddr::from(([127, 0, 0, 1], https));
            let http = SocketAddr::from(([127, 0, 0, 1], http));
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    last_error = format!(
                        "{}{}",
                        std::fs::read_to_string(p.join("stderr.log")).unwrap_or_default(),
                        std::fs::read_to_string(p.join("error.log")).unwrap_or_default()
                    );
                    break;
                }
                if TcpStream::connect(https).is_ok() && TcpStream::connect(http).is_ok() {
                    return Proxy {
                        name,
                        child,
                        dir,
                        https,
                        http,
                        tls: client_tls(&pki.ca_pem),
                    };
                }
                assert!(
                    Instant::now() < deadline,
                    "{name} did not listen within 10 s"
                );
                thread::sleep(Duration::from_millis(10));
            }
        }
        panic!("{name} would not start with the shipped configuration:\n{last_error}");
    }

    /// A TLS connection to the proxy from `from`, handshake done.
    fn connect(&self, from: IpAddr) -> std::io::Result<Tls> {
        let mut sock = connect_from(from, self.https)?;
        sock.set_nodelay(true)?;
        sock.set_read_timeout(Some(Duration::from_secs(5)))?;
        sock.set_write_timeout(Some(Duration::from_secs(5)))?;
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut conn =
            rustls::ClientConnection::new(self.tls.clone(), name).map_err(std::io::Error::other)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut sock)?;
        }
        Ok(rustls::StreamOwned::new(conn, sock))
    }

    /// Sends `bytes` over HTTPS from `from` and reads until the proxy closes
    /// the connection or `wait` passes.
    fn raw(&self, from: IpAddr, bytes: &[u8], wait: Duration) -> RawAnswer {
        let Ok(mut s) = self.connect(from) else {
            return RawAnswer::default();
        };
        let _ = s.write_all(bytes).and_then(|()| s.flush());
        read_all(&mut s, wait)
    }

    /// One request over HTTPS from `from` on a new connection.
    fn call(
        &self,
        from: IpAddr,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let req = request(method, path, headers, body, true);
        let a = self.raw(from, req.as_bytes(), Duration::from_secs(40));
        Answer::from(a)
    }

    /// GET /healthz through the proxy from `from`: (status, how long),
    /// connection and TLS handshake included.
    fn health(&self, from: IpAddr) -> (u16, Duration) {
        let started = Instant::now();
        let a = self.call(from, "GET", "/healthz", &[], None);
        (a.status, started.elapsed())
    }

    /// /healthz through the proxy answers 200 within `ms` (one retry, for a
    /// CI hiccup).
    fn assert_healthy_within(&self, from: IpAddr, ms: u64) {
        let limit = Duration::from_millis(ms);
        let (status, took) = self.health(from);
        if status == 200 && took <= limit {
            return;
        }
        let (status2, took2) = self.health(from);
        assert!(
            status2 == 200 && took2 <= limit,
            "/healthz through {}: {status} in {took:?}, then {status2} in {took2:?} (limit {limit:?})\n{}",
            self.name,
            self.error_log()
        );
    }

    /// The highest resident memory of nginx's master and workers so far,
    /// the largest of them, in MiB.
    fn peak_rss_mib(&self) -> f64 {
        let master = self.child.id();
        let children = std::fs::read_to_string(format!("/proc/{master}/task/{master}/children"))
            .unwrap_or_default();
        std::iter::once(master.to_string())
            .chain(children.split_whitespace().map(str::to_string))
            .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
            .filter_map(|st| {
                st.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            })
            .fold(0.0, f64::max)
            / 1024.0
    }

    fn error_log(&self) -> String {
        let p = self.dir.path();
        let mut s = String::new();
        for f in ["error.log", "shopchat.error.log", "stderr.log"] {
            s += &std::fs::read_to_string(p.join(f)).unwrap_or_default();
        }
        live::tail(&s, 2000).to_string()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // TERM: nginx's master stops its workers and exits (a KILL would
        // leave the workers listening); Caddy stops.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A client TLS setup that trusts only the test CA.
fn client_tls(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let ca = rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes())
        .expect("the test CA is PEM");
    roots.add(ca).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A TCP connection from a chosen local address.
fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    s.bind(&SocketAddr::new(from, 0).into())?;
    s.connect_timeout(&to.into(), Duration::from_secs(5))?;
    Ok(s.into())
}

/// An HTTP/1.1 request's bytes.
fn request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    close: bool,
) -> String {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
    for (k, v) in headers {
        r += &format!("{k}: {v}\r\n");
    }
    if close {
        r += "Connection: close\r\n";
    }
    if let Some(b) = body {
        r += &format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        );
    }
    r += "\r\n";
    r += body.unwrap_or("");
    r
}

/// Reads from a TLS connection until it closes or `wait` passes.
fn read_all(s: &mut Tls, wait: Duration) -> RawAnswer {
    let deadline = Instant::now() + wait;
    let mut all = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return parse_answer(all, false);
        }
        let _ = s.sock.set_read_timeout(Some(left));
        match s.read(&mut buf) {
            Ok(0) => return parse_answer(all, true),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return parse_answer(all, false)
            }
            // A reset, or a close without TLS close_notify: closed.
            Err(_) => return parse_answer(all, true),
        }
    }
}

/// Reads one answer (head and body, by Content-Length or chunked) from a
/// keep-alive TLS connection.
fn read_one(s: &mut Tls, wait: Duration) -> Answer {
    let deadline = Instant::now() + wait;
    let mut all = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        if let Some(a) = complete_answer(&all) {
            return a;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Answer::from(parse_answer(all, false));
        }
        let _ = s.sock.set_read_timeout(Some(left));
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return Answer::from(parse_answer(all, true)),
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
}

/// The answer in `all`, once all of it is there.
fn complete_answer(all: &[u8]) -> Option<Answer> {
    let end = all.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&all[..end]).to_lowercase();
    let rest = &all[end + 4..];
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(rest)?
    } else {
        let len = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap_or(0));
        if rest.len() < len {
            return None;
        }
        rest[..len].to_vec()
    };
    let mut whole = all[..end + 4].to_vec();
    whole.extend_from_slice(&body);
    Some(Answer::from(parse_answer(whole, false)))
}

/// A chunked body, once its last chunk has arrived.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&rest[..eol]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        if rest.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// An answer with its body as JSON (Null if it is not JSON).
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    json: Value,
    raw: RawAnswer,
}

impl From<RawAnswer> for Answer {
    fn from(raw: RawAnswer) -> Answer {
        let body = if raw
            .head
            .to_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(&raw.body).unwrap_or_default()
        } else {
            raw.body.clone()
        };
        Answer {
            status: raw.status,
            head: raw.head.clone(),
            json: serde_json::from_slice(&body).unwrap_or(Value::Null),
            raw,
        }
    }
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// The real server as deploy/shopchat.service runs it.
fn serve_as_deployed(db: &Path, key: &str, opts: Opts) -> Live {
    let mut opts = opts;
    opts.args
        .extend(["--trust-proxy".into(), "--no-demo".into()]);
    Live::on(db, key, opts)
}

/// A database with a widget key and the manager `olga`, whose token is
/// returned too.
fn prepared_with_manager() -> (Prepared, String) {
    let p = Prepared::new();
    let mut conn = shopchat::db::open_existing(&p.db).unwrap();
    let token =
        shopchat::accounts::add_manager(&mut conn, "olga", Some("Olga"), None).expect("manager");
    (p, token)
}

/// A visitor's chat through nginx from `from`: (session id, secret).
fn open_chat(nx: &Proxy, from: IpAddr, key: &str) -> (String, String) {
    let a = nx.call(
        from,
        "POST",
        "/api/public/chat/sessions",
        &[("X-API-Key", key)],
        Some("{}"),
    );
    assert_eq!(a.status, 201, "{a:?}");
    (
        a.json["session"]["id"].as_str().unwrap().to_string(),
        a.json["session"]["userSessionId"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

#[test]
fn a_widget_conversation_works_through_nginx_and_a_long_poll_gets_the_reply_at_once() {
    let (p, token) = prepared_with_manager();
    let s = serve_as_deployed(&p.db, &p.key, Opts::default());
    let nx = Proxy::nginx(s.addr);

    // Plain HTTP only redirects, to this server's name (never to a Host a
    // client made up).
    let a = Answer::from(live::raw(
        nx.http,
        b"GET /chat?x=1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    ));
    assert_eq!(a.status, 301, "{a:?}");
    assert_eq!(
        a.header("location").as_deref(),
        Some("https://localhost/chat?x=1")
    );
    let secrets = conversation(&nx, &p.key, &token);

    // Neither nginx's access log nor shopchat's has a secret in it: the
    // manager's token, the visitors' secrets (the widget key is public).
    let nginx_log = std::fs::read_to_string(nx.dir.path().join("shopchat.access.log")).unwrap();
    assert!(
        nginx_log.contains("/api/public/chat/sessions/"),
        "{nginx_log}"
    );
    let shopchat_log = s.stderr();
    for secret in &secrets {
        assert!(
            !nginx_log.contains(secret.as_str()),
            "nginx logged {secret}"
        );
        assert!(
            !shopchat_log.contains(secret.as_str()),
            "shopchat logged {secret}"
        );
    }
    assert!(!nginx_log.contains("userSessionId="), "{nginx_log}");
}

#[test]
fn a_widget_conversation_works_through_caddy_and_a_long_poll_gets_the_reply_at_once() {
    let (p, token) = prepared_with_manager();
    let s = serve_as_deployed(&p.db, &p.key, Opts::default());
    let cx = Proxy::caddy(s.addr);

    // Plain HTTP only redirects to HTTPS.
    let a = Answer::from(live::raw(
        cx.http,
        format!(
            "GET /chat?x=1 HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\r\n",
            cx.http.port()
        )
        .as_bytes(),
        Duration::from_secs(5),
    ));
    assert!(a.status == 301 || a.status == 308, "{a:?}");
    let to = a.header("location").unwrap_or_default();
    assert!(
        to.starts_with("https://localhost") && to.ends_with("/chat?x=1"),
        "{a:?}"
    );
    let secrets = conversation(&cx, &p.key, &token);
    let shopchat_log = s.stderr();
    for secret in &secrets {
        assert!(
            !shopchat_log.contains(secret.as_str()),
            "shopchat logged {secret}"
        );
    }
}

/// A conversation through `nx` as the widget and the panel have it; the
/// secrets it used (for checking logs).
fn conversation(nx: &Proxy, key: &str, token: &str) -> Vec<String> {
    let (visitor, other, manager) = (addr(2), addr(3), addr(4));
    let bearer = format!("Bearer {token}");

    // The widget and the panel load; the demo page is off.
    let w = nx.call(visitor, "GET", "/widget.js", &[], None);
    assert_eq!(w.status, 200);
    assert!(
        w.header("content-type").unwrap().contains("javascript"),
        "{w:?}"
    );
    assert!(w.header("strict-transport-security").is_some(), "{w:?}");
    assert_eq!(nx.call(manager, "GET", "/chat", &[], None).status, 200);
    assert_eq!(nx.call(visitor, "GET", "/", &[], None).status, 404);

    // A poll that waits the longest a client may ask for, with nothing
    // happening, comes back as usual: the proxy does not cut it.
    let (quiet_sid, quiet_usid) = open_chat(nx, other, key);
    let quiet = {
        let nx = &nx;
        let path = format!("/api/public/chat/sessions/{quiet_sid}/messages?since=0&wait=30");
        let (key, usid) = (key.to_string(), quiet_usid.clone());
        move || {
            let started = Instant::now();
            let a = nx.call(
                other,
                "GET",
                &path,
                &[("X-API-Key", &key), ("X-User-Session-Id", &usid)],
                None,
            );
            (a, started.elapsed())
        }
    };
    thread::scope(|sc| {
        let quiet = sc.spawn(quiet);

        // The visitor writes; a manager sees it waiting.
        let (sid, usid) = open_chat(nx, visitor, key);
        let visitor_headers = [("X-API-Key", key), ("X-User-Session-Id", usid.as_str())];
        let a = nx.call(
            visitor,
            "POST",
            &format!("/api/public/chat/sessions/{sid}/messages"),
            &visitor_headers,
            Some(r#"{"messageText":"Is the linen shirt in M in stock?","clientMessageId":"m1"}"#),
        );
        assert_eq!(a.status, 201, "{a:?}");
        let list = nx.call(
            manager,
            "GET",
            "/api/chat/sessions?awaitingReply=true",
            &[("Authorization", &bearer)],
            None,
        );
        assert_eq!(list.status, 200, "{list:?}");
        assert_eq!(list.json["sessions"][0]["id"], sid.as_str());

        // The widget long-polls (wait=25) with the state of its last poll.
        let first = nx.call(
            visitor,
            "GET",
            &format!("/api/public/chat/sessions/{sid}/messages?since=0"),
            &visitor_headers,
            None,
        );
        assert_eq!(first.status, 200, "{first:?}");
        let cursor = first.json["cursor"].as_i64().unwrap();
        let state = first.json["state"].as_str().unwrap().to_string();
        let poll_path = format!(
            "/api/public/chat/sessions/{sid}/messages?since={cursor}&wait=25&state={state}"
        );
        let answered = AtomicBool::new(false);
        let (a, took) = thread::scope(|inner| {
            let poll = inner.spawn(|| {
                let a = nx.call(visitor, "GET", &poll_path, &visitor_headers, None);
                answered.store(true, Ordering::SeqCst);
                (a, Instant::now())
            });
            // It waits (nothing is new)...
            assert!(
                crate::telegram_fake::stays(Duration::from_millis(300), || !answered
                    .load(Ordering::SeqCst)),
                "the long-poll came back with nothing new"
            );
            // ...until a manager answers, and then it comes back at once.
            let reply = nx.call(
                manager,
                "POST",
                &format!("/api/chat/sessions/{sid}/messages"),
                &[("Authorization", &bearer)],
                Some(r#"{"messageText":"Yes! Ordering today ships tomorrow."}"#),
            );
            assert_eq!(reply.status, 201, "{reply:?}");
            let replied = Instant::now();
            let (a, at) = poll.join().unwrap();
            (a, at.saturating_duration_since(replied))
        });
        assert_eq!(a.status, 200, "{a:?}");
        assert!(took < Duration::from_millis(500), "the reply took {took:?}");
        let msgs = a.json["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 1, "{a:?}");
        assert_eq!(msgs[0]["sender"], "manager");
        assert_eq!(
            msgs[0]["messageText"],
            "Yes! Ordering today ships tomorrow."
        );

        // The other way: the panel's feed long-poll sees the visitor's
        // next message at once.
        let feed = nx.call(
            manager,
            "GET",
            "/api/chat/feed",
            &[("Authorization", &bearer)],
            None,
        );
        let feed_path = format!(
            "/api/chat/feed?since={}&wait=25",
            feed.json["cursor"].as_i64().unwrap()
        );
        let (f, took) = thread::scope(|inner| {
            let waiting = inner.spawn(|| {
                let a = nx.call(
                    manager,
                    "GET",
                    &feed_path,
                    &[("Authorization", &bearer)],
                    None,
                );
                (a, Instant::now())
            });
            let a = nx.call(
                visitor,
                "POST",
                &format!("/api/public/chat/sessions/{sid}/messages"),
                &visitor_headers,
                Some(r#"{"messageText":"Great, thanks!","clientMessageId":"m2"}"#),
            );
            assert_eq!(a.status, 201, "{a:?}");
            let sent = Instant::now();
            let (f, at) = waiting.join().unwrap();
            (f, at.saturating_duration_since(sent))
        });
        assert_eq!(f.status, 200, "{f:?}");
        assert_eq!(f.json["sessions"][0]["id"], sid.as_str(), "{f:?}");
        assert!(took < Duration::from_millis(500), "the feed took {took:?}");

        // An old client sends the secret in the query string: it works, and
        // no log keeps it.
        let old = nx.call(
            visitor,
            "GET",
            &format!("/api/public/chat/sessions/{sid}/messages?since=0&userSessionId={usid}"),
            &[("X-API-Key", key)],
            None,
        );
        assert_eq!(old.status, 200, "{old:?}");

        let (a, took) = quiet.join().unwrap();
        assert_eq!(a.status, 200, "a 30 s poll through {}: {a:?}", nx.name);
        assert_eq!(a.json["messages"].as_array().map(Vec::len), Some(0));
        assert!(
            took >= Duration::from_secs(29) && took < Duration::from_secs(35),
            "the quiet poll took {took:?}"
        );
    });

    vec![token.to_string(), quiet_usid]
}

#[test]
fn x_forwarded_for_reaches_shopchat_so_its_limits_are_per_visitor_not_per_proxy() {
    let p = Prepared::new();
    // The default: 10 new chats a minute per client address.
    let s = serve_as_deployed(&p.db, &p.key, Opts::default());
    let nx = Proxy::nginx(s.addr);
    limits_are_per_visitor(&nx, &s, &p.key);

    // nginx's own limit is per client too: one address flooding gets 429
    // (JSON, with Retry-After) from nginx, and another is served as usual.
    let mut flood = nx.connect(addr(5)).unwrap();
    let req = request("GET", "/healthz", &[], None, false);
    let mut statuses = Vec::new();
    for _ in 0..400 {
        if flood.write_all(req.as_bytes()).is_err() {
            break;
        }
        let a = read_one(&mut flood, Duration::from_secs(5));
        statuses.push(a.status);
        if a.status == 429 {
            assert_eq!(a.json["error"]["code"], "too_many_requests", "{a:?}");
            assert_eq!(a.header("retry-after").as_deref(), Some("1"));
            break;
        }
        assert_eq!(a.status, 200, "{a:?}");
    }
    assert_eq!(
        statuses.last(),
        Some(&429),
        "no limit after {} requests",
        statuses.len()
    );
    assert!(
        statuses.len() > 150,
        "limited after only {} requests",
        statuses.len()
    );
    nx.assert_healthy_within(addr(6), 100);
}

/// Through `nx`, shopchat's limit on new chats counts each visitor's
/// address, and a forged X-Forwarded-For changes nothing.
fn limits_are_per_visitor(nx: &Proxy, s: &Live, key: &str) {
    let new_chat = |from: IpAddr, extra: &[(&str, &str)]| {
        let mut headers = vec![("X-API-Key", key)];
        headers.extend_from_slice(extra);
        nx.call(
            from,
            "POST",
            "/api/public/chat/sessions",
            &headers,
            Some("{}"),
        )
    };
    for i in 0..10 {
        assert_eq!(new_chat(addr(2), &[]).status, 201, "chat {i}");
    }
    let limited = new_chat(addr(2), &[]);
    assert_eq!(limited.status, 429, "{limited:?}");
    assert!(limited.header("retry-after").is_some(), "{limited:?}");
    // shopchat's own answer, passed through as it is (the proxy's JSON
    // refusals are only for what the proxy itself refuses).
    assert_eq!(limited.json["error"]["code"], "too_many_requests");
    let message = limited.json["error"]["message"].as_str().unwrap_or("");
    assert!(!message.contains("this address"), "{limited:?}");
    // shopchat's limiter said so, not nginx's (whose limits are far above).
    assert!(
        crate::telegram_fake::eventually(Duration::from_secs(5), || s
            .stderr()
            .contains("POST /api/public/chat/sessions 429")),
        "{}",
        live::tail(&s.stderr(), 2000)
    );
    // A made-up X-Forwarded-For does not buy a fresh limit: nginx sets the
    // header to the address it sees.
    for forged in ["198.51.100.7", "198.51.100.7, 203.0.113.9"] {
        let a = new_chat(addr(2), &[("X-Forwarded-For", forged)]);
        assert_eq!(a.status, 429, "forged {forged}: {a:?}");
    }
    // Another visitor behind the same proxy is not limited by the first.
    assert_eq!(new_chat(addr(3), &[]).status, 201);
    // (Without --trust-proxy, where shopchat is reachable directly, the
    // header counts for nothing: api_public.rs shows it.)
}

/// Every hostile request of hostile.rs, sent through nginx: what comes
/// back (status 0: nothing, the connection was closed).
#[test]
fn hostile_requests_through_nginx_are_refused_there_and_never_reach_shopchat() {
    let _g = heavy();
    let p = Prepared::new();
    let s = serve_as_deployed(&p.db, &p.key, Opts::default());
    let nx = Proxy::nginx(s.addr);
    let idle = s.settled_threads();
    let (attacker, bystander) = (addr(2), addr(9));
    // Every attack aims at a path under /hostile/, so shopchat's request
    // log shows whether any of them reached it.
    let smuggled = "GET /hostile/smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
    let big_chunk = format!("{:x}\r\n{}\r\n0\r\n\r\n", 70 * 1024, "a".repeat(70 * 1024));
    let p = "POST /hostile/post HTTP/1.1\r\nHost: t";
    let cases: Vec<(&str, &[u16], String)> = vec![
        ("huge Content-Length", &[413], format!("{p}\r\nContent-Length: 1000000000000\r\n\r\nabc")),
        ("HTTP/2.0 request line", &[400, 505], "GET /hostile/h2 HTTP/2.0\r\nHost: t\r\n\r\n".into()),
        ("h2 preface", &[0, 400, 505], "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".into()),
        ("Content-Length: -1", &[400], format!("{p}\r\nContent-Length: -1\r\n\r\n{smuggled}")),
        (
            "two Content-Lengths",
            &[400],
            format!("{p}\r\nContent-Length: 2\r\nContent-Length: {}\r\n\r\n{{}}{smuggled}", 2 + smuggled.len()),
        ),
        (
            "Content-Length and Transfer-Encoding",
            &[400],
            format!("{p}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"),
        ),
        ("Transfer-Encoding: identity", &[400, 501], format!("{p}\r\nTransfer-Encoding: identity\r\n\r\n{smuggled}")),
        ("a chunked body over 64 KiB", &[413], format!("{p}\r\nTransfer-Encoding: chunked\r\n\r\n{big_chunk}{smuggled}")),
        ("a 100 KiB request line", &[414], format!("GET /hostile/{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(100 << 10))),
        (
            "a 100 KiB header line",
            &[400, 431],
            format!("GET /hostile/h HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "a".repeat(100 << 10)),
        ),
        (
            "Connection: Upgrade",
            &[400, 404],
            "GET /hostile/upgrade HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".into(),
        ),
    ];
    for (what, want, req) in &cases {
        let a = nx.raw(attacker, req.as_bytes(), Duration::from_secs(5));
        assert!(want.contains(&a.status), "{what}: {a:?}");
        assert!(
            a.answers() <= 1,
            "{what}: a second answer means the smuggled request ran: {a:?}"
        );
        assert!(
            a.closed || *what == "Connection: Upgrade",
            "{what}: not closed: {a:?}"
        );
        nx.assert_healthy_within(bystander, 100);
    }
    // One endless header line and one endless chunk-size line: refused
    // after 8 KiB, the rest read and thrown away (nginx's lingering close),
    // memory bounded.
    for (what, head, want) in [
        (
            "header line",
            "GET /hostile/flood HTTP/1.1\r\nHost: t\r\nX-Big: ",
            400,
        ),
        (
            "chunk-size line",
            "POST /hostile/flood HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1",
            400,
        ),
    ] {
        let mut c = nx.connect(attacker).unwrap();
        c.write_all(head.as_bytes()).unwrap();
        let chunk = vec![b'0'; 64 << 10];
        for _ in 0..(32 << 20) / chunk.len() {
            if c.write_all(&chunk).is_err() {
                break;
            }
        }
        let a = read_one(&mut c, Duration::from_secs(5));
        assert_eq!(a.status, want, "{what}: {a:?}");
        nx.assert_healthy_within(bystander, 100);
    }
    let rss = nx.peak_rss_mib();
    assert!(rss < 64.0, "nginx's largest process peaked at {rss} MiB");
    // The only requests shopchat saw were the health checks, and the
    // /hostile/upgrade one (an ordinary GET once nginx drops the Upgrade).
    let log = s.stderr();
    let reached: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("/hostile/") && !l.contains("/hostile/upgrade"))
        .collect();
    assert!(reached.is_empty(), "reached shopchat: {reached:?}");
    s.assert_healthy_within(100);
    s.threads_back_to(idle, Duration::from_secs(5));
    assert!(s.peak_rss_mib() < 64.0, "peak RSS {} MiB", s.peak_rss_mib());
}

/// Sets the flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Many slow connections, one thread writing a byte to each in turn.
fn trickle(mut conns: Vec<Tls>, every: Duration, stop: &AtomicBool) {
    for c in &conns {
        let _ = c.sock.set_write_timeout(Some(Duration::from_millis(50)));
    }
    while !stop.load(Ordering::SeqCst) {
        for c in &mut conns {
            let _ = c.write_all(b"a").and_then(|()| c.flush());
        }
        thread::sleep(every);
    }
}

#[test]
fn slow_and_idle_clients_through_nginx_hold_nginx_connections_not_shopchats() {
    let _g = heavy();
    let _ = shopchat::http::raise_fd_limit();
    let p = Prepared::new();
    let s = serve_as_deployed(&p.db, &p.key, Opts::default());
    let nx = Proxy::nginx(s.addr);
    let idle_threads = s.settled_threads();
    let (sid, usid) = open_chat(&nx, addr(9), &p.key);
    let fds_before = s.fds();
    // From ten addresses: 300 slow bodies, 300 slow headers, 300 idle.
    let attackers: Vec<IpAddr> = (20..30).map(addr).collect();
    let body_head = format!(
        "POST /api/public/chat/sessions/{sid}/messages HTTP/1.1\r\nHost: t\r\nX-API-Key: {}\r\n\
         X-User-Session-Id: {usid}\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n",
        p.key
    );
    let mut slow = Vec::new();
    let mut idle = Vec::new();
    for i in 0..900 {
        let mut c = nx
            .connect(attackers[i % attackers.len()])
            .expect("attacker connects");
        match i % 3 {
            0 => c.write_all(body_head.as_bytes()).unwrap(),
            1 => c
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
                .unwrap(),
            _ => {}
        }
        if i % 3 == 2 {
            idle.push(c);
        } else {
            slow.push(c);
        }
    }
    let stop = AtomicBool::new(false);
    let (lat, fds_during) = thread::scope(|sc| {
        sc.spawn(|| trickle(slow, Duration::from_millis(100), &stop));
        // Stops the trickling however this scope ends (a failed assert
        // included), or the scope would wait for it forever.
        let _stop = StopOnDrop(&stop);
        // A normal visitor polls on its keep-alive connection meanwhile.
        let poller = sc.spawn(|| {
            let mut c = nx.connect(addr(9)).unwrap();
            let req = request(
                "GET",
                &format!("/api/public/chat/sessions/{sid}/messages?since=0"),
                &[("X-API-Key", &p.key), ("X-User-Session-Id", &usid)],
                None,
                false,
            );
            let mut lat = Vec::new();
            let end = Instant::now() + Duration::from_secs(3);
            while Instant::now() < end {
                let t = Instant::now();
                c.write_all(req.as_bytes()).unwrap();
                let a = read_one(&mut c, Duration::from_secs(5));
                assert_eq!(a.status, 200, "a poll during the attack: {a:?}");
                lat.push(t.elapsed());
                // 20 a second: nginx's per-client rate, never past it.
                thread::sleep(Duration::from_millis(50));
            }
            Lat(lat)
        });
        let mut fds = 0;
        for _ in 0..5 {
            nx.assert_healthy_within(addr(8), 100);
            s.assert_healthy_within(100);
            fds = fds.max(s.fds());
            thread::sleep(Duration::from_millis(300));
        }
        (poller.join().unwrap(), fds)
    });
    assert!(lat.0.len() >= 40, "only {} polls", lat.0.len());
    // About 60 polls: the slowest one is one scheduling hiccup of a shared
    // 2-core machine, so the bound is on the 95th percentile, and the
    // slowest must still be well under the widget's patience.
    assert!(
        lat.p(0.95) < Duration::from_millis(100) && lat.p(1.0) < Duration::from_millis(500),
        "polls through nginx: p50 {:?}, p95 {:?}, slowest {:?}",
        lat.p(0.5),
        lat.p(0.95),
        lat.p(1.0)
    );
    // 900 attackers, and shopchat held a few more connections than before
    // (nginx's keep-alive pool), not hundreds.
    assert!(
        fds_during < fds_before + 80,
        "shopchat's fds: {fds_before} before, {fds_during} during"
    );
    drop(idle);
    nx.assert_healthy_within(addr(8), 100);
    s.threads_back_to(idle_threads, Duration::from_secs(10));
}

#[test]
fn a_burst_of_200_visitors_and_50_posting_through_nginx_all_get_their_answers() {
    let _g = heavy();
    let p = Prepared::new();
    let s = serve_as_deployed(&p.db, &p.key, Opts::default().env("CHAT_SESSION_RATE", "0"));
    let nx = Proxy::nginx(s.addr);
    // 200 visitors, each from its own address, all at once.
    let conns: Vec<Tls> = (0..200u8)
        .map(|i| {
            let from = IpAddr::V4(Ipv4Addr::new(127, 0, 1, i + 1));
            let mut c = nx.connect(from).expect("connects");
            c.write_all(request("GET", "/healthz", &[], None, false).as_bytes())
                .unwrap();
            c
        })
        .collect();
    let answered = conns
        .into_iter()
        .map(|mut c| read_one(&mut c, Duration::from_secs(5)).status)
        .filter(|&st| st == 200)
        .count();
    assert_eq!(answered, 200);

    // 50 visitors posting back to back for 2 s, each from its own address:
    // every request answered (201, or 429 from a limit) within a second,
    // and every 201 stored.
    let chats: Vec<(IpAddr, String, String)> = (0..50u8)
        .map(|i| {
            let from = IpAddr::V4(Ipv4Addr::new(127, 0, 2, i + 1));
            let (sid, usid) = open_chat(&nx, from, &p.key);
            (from, sid, usid)
        })
        .collect();
    let acked = AtomicUsize::new(0);
    let sent = AtomicUsize::new(0);
    let end = Instant::now() + Duration::from_secs(2);
    let lat: Vec<Duration> = thread::scope(|sc| {
        let handles: Vec<_> = chats
            .iter()
            .enumerate()
            .map(|(v, (from, sid, usid))| {
                let (nx, acked, sent, key) = (&nx, &acked, &sent, &p.key);
                sc.spawn(move || {
                    let mut c = nx.connect(*from).unwrap();
                    let mut lat = Vec::new();
                    let mut n = 0;
                    while Instant::now() < end {
                        n += 1;
                        let body = format!(
                            "{{\"messageText\":\"m{n}\",\"clientMessageId\":\"v{v}-{n}\"}}"
                        );
                        let req = request(
                            "POST",
                            &format!("/api/public/chat/sessions/{sid}/messages"),
                            &[("X-API-Key", key), ("X-User-Session-Id", usid)],
                            Some(&body),
                            false,
                        );
                        let t = Instant::now();
                        sent.fetch_add(1, Ordering::SeqCst);
                        if c.write_all(req.as_bytes()).is_err() {
                            c = nx.connect(*from).unwrap();
                            c.write_all(req.as_bytes()).unwrap();
                        }
                        let a = read_one(&mut c, Duration::from_secs(30));
                        lat.push(t.elapsed());
                        assert!(
                            a.status == 201 || a.status == 429,
                            "visitor {v} message {n}: {a:?}"
                        );
                        if a.status == 201 {
                            acked.fetch_add(1, Ordering::SeqCst);
                        } else {
                            thread::sleep(Duration::from_millis(200));
                        }
                        if a.raw.closed || a.header("connection").as_deref() == Some("close") {
                            c = nx.connect(*from).unwrap();
                        }
                    }
                    lat
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    crate::live::assert_every_post_answered_and_stored(
        lat,
        sent.load(Ordering::SeqCst),
        acked.load(Ordering::SeqCst),
        &s.db,
    );
}

#[test]
fn with_shopchat_down_nginx_answers_503_in_shopchats_json_shape() {
    let p = Prepared::new();
    let mut s = serve_as_deployed(&p.db, &p.key, Opts::default());
    let nx = Proxy::nginx(s.addr);
    nx.assert_healthy_within(addr(2), 1000);
    s.signal("KILL");
    let _ = s.wait_exit(Duration::from_secs(5));
    let a = nx.call(addr(2), "GET", "/healthz", &[], None);
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(a.json["error"]["code"], "unavailable", "{a:?}");
    assert_eq!(a.header("retry-after").as_deref(), Some("5"));
}

#[test]
fn through_caddy_limits_are_per_visitor_bodies_over_64_kib_are_refused_and_a_down_server_is_json() {
    let p = Prepared::new();
    let mut s = serve_as_deployed(&p.db, &p.key, Opts::default());
    let cx = Proxy::caddy(s.addr);
    limits_are_per_visitor(&cx, &s, &p.key);

    // A body over 64 KiB, declared or chunked: 413 from Caddy, in
    // shopchat's JSON shape or shopchat's own.
    let big = "a".repeat(70 * 1024);
    let declared = format!(
        "POST /api/public/chat/sessions HTTP/1.1\r\nHost: localhost\r\nX-API-Key: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{big}",
        p.key,
        big.len()
    );
    let chunked = format!(
        "POST /api/public/chat/sessions HTTP/1.1\r\nHost: localhost\r\nX-API-Key: {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        p.key,
        big.len()
    );
    let huge = "POST /api/public/chat/sessions HTTP/1.1\r\nHost: localhost\r\n\
                Content-Length: 1000000000000\r\n\r\nabc"
        .to_string();
    for (what, req) in [("declared", declared), ("chunked", chunked), ("huge", huge)] {
        let a = Answer::from(cx.raw(addr(5), req.as_bytes(), Duration::from_secs(5)));
        assert_eq!(a.status, 413, "{what}: {a:?}");
        assert_eq!(
            a.json["error"]["code"], "payload_too_large",
            "{what}: {a:?}"
        );
    }
    cx.assert_healthy_within(addr(6), 100);

    // shopchat down: 503, JSON, Retry-After.
    s.signal("KILL");
    let _ = s.wait_exit(Duration::from_secs(5));
    let a = cx.call(addr(6), "GET", "/healthz", &[], None);
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(a.json["error"]["code"], "unavailable", "{a:?}");
    assert_eq!(a.header("retry-after").as_deref(), Some("5"));
}

#[test]
fn the_backup_script_keeps_the_newest_14_daily_and_12_monthly_copies() {
    let p = Prepared::new();
    let dir = tempfile::tempdir().unwrap();
    let (daily, monthly) = (dir.path().join("daily"), dir.path().join("monthly"));
    std::fs::create_dir_all(&daily).unwrap();
    std::fs::create_dir_all(&monthly).unwrap();
    // Twenty old daily copies and fifteen old monthly ones, and a file
    // that is not a copy (left alone).
    for d in 1..=20 {
        std::fs::write(daily.join(format!("chat-2020-01-{d:02}.db")), "old").unwrap();
    }
    for m in 1..=15 {
        std::fs::write(
            monthly.join(format!("chat-{}-{:02}.db", 2018 + m / 12, m % 12 + 1)),
            "old",
        )
        .unwrap();
    }
    std::fs::write(daily.join("notes.txt"), "mine").unwrap();
    let run = || {
        let out = Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/shopchat-backup"
        ))
        .env("CHAT_DB", &p.db)
        .env("SHOPCHAT_BACKUP_DIR", dir.path())
        .env("SHOPCHAT_BIN", BIN)
        .output()
        .expect("the script runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(run().contains("integrity check ok"));
    // Again the same day: the day's copy is replaced, nothing else moves.
    run();
    let names = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    // Named by the local date, as `date` gives it.
    let date = |fmt: &str| {
        let out = Command::new("date").arg(fmt).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let new_daily = format!("chat-{}.db", date("+%F"));
    let new_monthly = format!("chat-{}.db", date("+%Y-%m"));
    let (d, m) = (names(&daily), names(&monthly));
    let mut want: Vec<String> = (8..=20)
        .map(|d| format!("chat-2020-01-{d:02}.db"))
        .collect();
    want.extend([new_daily.clone(), "notes.txt".into()]);
    want.sort();
    assert_eq!(
        d, want,
        "the newest 14 daily copies (and a file that is not one)"
    );
    assert_eq!(m.len(), 12, "{m:?}");
    assert!(m.contains(&new_monthly), "{m:?}");
    assert!(m.contains(&"chat-2018-06.db".to_string()), "{m:?}");
    assert!(!m.contains(&"chat-2018-05.db".to_string()), "{m:?}");
    let copy = shopchat::db::open_existing(&daily.join(new_daily)).unwrap();
    assert_eq!(shopchat::db::integrity_check(&copy).unwrap(), "ok");
}

#[test]
fn the_systemd_units_pass_systemd_analyze_verify() {
    let Ok(analyze) = which("systemd-analyze") else {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/shopchat-backup");
    for unit in [
        "shopchat.service",
        "shopchat-backup.service",
        "shopchat-backup.timer",
    ] {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("deploy")
                .join(unit),
        )
        .unwrap()
        // The binaries where this test has them.
        .replace("/usr/local/bin/shopchat-backup", script)
        .replace("/usr/local/bin/shopchat ", &format!("{BIN} "));
        std::fs::write(dir.path().join(unit), text).unwrap();
    }
    let out = Command::new(analyze)
        .current_dir(dir.path())
        .args([
            "verify",
            "--man=no",
            "./shopchat.service",
            "./shopchat-backup.service",
            "./shopchat-backup.timer",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}

fn which(name: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(["/usr/bin".into(), "/bin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}

/// docs/SECURITY.md proves each claim by naming a test: `module::test` (a
/// test in tests/integration/module.rs, or a unit test under src/), or
/// `NAME.test.mjs` "title" (a browser test). Each must exist, so a renamed
/// or deleted test cannot leave a claim without its proof.
#[test]
fn docs_security_md_names_only_tests_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let md = std::fs::read_to_string(root.join("docs/SECURITY.md")).unwrap();
    // Line breaks inside a title are spaces.
    let md = md.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut missing = Vec::new();
    let mut named = 0;
    for (i, chunk) in md.split('`').enumerate() {
        if i % 2 == 0 {
            continue;
        }
        if let Some(file) = chunk.strip_suffix(".test.mjs") {
            // The title follows the file name: `x.test.mjs` "title".
            let rest = md.split(&format!("`{chunk}`")).nth(1).unwrap_or("");
            let title = rest
                .trim_start()
                .strip_prefix('"')
                .and_then(|t| t.split('"').next())
                .unwrap_or_else(|| panic!("`{chunk}` without a \"title\" after it"));
            let js = std::fs::read_to_string(root.join(format!("tests/e2e/{file}.test.mjs")))
                .unwrap_or_default();
            if !js.contains(&format!("'{title}'")) {
                missing.push(format!("{chunk} \"{title}\""));
            }
            named += 1;
            continue;
        }
        let parts: Vec<&str> = chunk.split("::").collect();
        let is_test_path = parts.len() >= 2
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
        if !is_test_path {
            continue;
        }
        let (name, module) = parts.split_last().unwrap();
        let module: Vec<&str> = module.iter().copied().filter(|m| *m != "tests").collect();
        let candidates = [
            root.join(format!("tests/integration/{}.rs", module.join("/"))),
            root.join(format!("src/{}.rs", module.join("/"))),
            root.join(format!("src/{}/mod.rs", module.join("/"))),
        ];
        let found = candidates.iter().any(|f| {
            std::fs::read_to_string(f).is_ok_and(|src| src.contains(&format!("fn {name}()")))
        });
        if !found {
            missing.push(chunk.to_string());
        }
        named += 1;
    }
    assert!(named > 40, "only {named} tests named");
    assert!(
        missing.is_empty(),
        "docs/SECURITY.md names tests that do not exist: {missing:#?}"
    );
}
