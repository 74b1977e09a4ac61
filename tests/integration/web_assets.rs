//! The files `serve` compiles in: content types, caching, the admin CSP, and
//! a demo page whose key works.

use crate::common::TestServer;

#[test]
fn static_files_have_types_etags_and_revalidate() {
    let s = TestServer::start();
    for (path, ctype) in [
        ("/widget.js", "application/javascript"),
        ("/assets/admin.js", "application/javascript"),
        ("/assets/admin.css", "text/css"),
        ("/chat", "text/html"),
    ] {
        let r = s.call("GET", path, &[], None);
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.header("content-type").unwrap().starts_with(ctype),
            "{path}: {r:?}"
        );
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
        let etag = r.header("etag").expect("an ETag").to_string();
        let again = s.call("GET", path, &[("If-None-Match", &etag)], None);
        assert_eq!(again.status, 304, "{path}");
        assert!(again.text.is_empty());
    }
    let widget = s.call("GET", "/widget.js", &[], None);
    assert!(
        widget.text.len() < 48 * 1024,
        "widget.js is {} bytes",
        widget.text.len()
    );
    assert_eq!(widget.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn admin_pages_carry_a_strict_content_security_policy() {
    let s = TestServer::start();
    for path in ["/chat", "/chat/3f2a8c1e-0d5b-4c7a-9e6f-1a2b3c4d5e6f"] {
        let r = s.call("GET", path, &[], None);
        assert_eq!(r.status, 200);
        let csp = r.header("content-security-policy").expect("a CSP");
        assert!(
            csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert!(
            !r.text.contains("<script>") && !r.text.contains("<style"),
            "no inline code under the CSP"
        );
    }
}

#[test]
fn the_demo_page_embeds_the_widget_with_a_key_that_works() {
    let s = TestServer::start();
    let page = s.call("GET", "/", &[("Host", "chat.test:8080")], None);
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(!page.text.contains("{{"), "every placeholder is filled");
    assert!(
        page.text.contains("http://chat.test:8080/widget.js"),
        "the embed snippet names this server"
    );
    let start =
        page.text.find("data-api-key=\"").expect("the widget tag") + "data-api-key=\"".len();
    let key = &page.text[start..start + page.text[start..].find('"').unwrap()];
    let r = s.call(
        "POST",
        "/api/public/chat/sessions",
        &[("X-API-Key", key), ("Content-Type", "application/json")],
        Some("{}"),
    );
    assert_eq!(r.status, 201, "the demo key {key} works: {r:?}");
}

#[test]
fn no_demo_turns_off_the_demo_page_and_its_key() {
    let s = crate::live::Live::start(crate::live::Opts::args(&["--no-demo"]));
    assert!(
        s.stdout.iter().any(|l| l.contains("demo shop: off")),
        "{:?}",
        s.stdout
    );
    let r = crate::common::call(&format!("{}/", s.url), "GET", &[], None);
    assert_eq!(r.status, 404, "{r:?}");
    assert!(r.text.contains("--no-demo"), "the 404 says why: {}", r.text);
    // The widget itself and real keys keep working.
    let w = crate::common::call(&format!("{}/widget.js", s.url), "GET", &[], None);
    assert_eq!(w.status, 200);
    s.open_chat();
    // No demo key exists to accept: only the configured keys do.
    let mut config = shopchat::config::ServeConfig::for_tests("unused.db".into());
    config.demo = false;
    config.env_api_keys = vec!["sck_from_the_environment".into()];
    let shared = shopchat::http::Shared::new(config);
    assert!(shared.demo_key.is_none());
    assert_eq!(
        shared.static_key_hashes,
        vec![shopchat::secret::hash("sck_from_the_environment")]
    );
}
