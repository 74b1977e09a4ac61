//! The `OpenAPI` document (docs/openapi.json): served as kept, and in step
//! with the route table: every arm of the dispatcher in `ROUTES`, every
//! route described, every described operation routed, and `Allow` naming
//! exactly the described methods.
//! (tests/schemathesis/run.sh checks the answers against it.)

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use shopchat::http::routes::ROUTES;

use crate::common::TestServer;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> (String, Value) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
    let text = std::fs::read_to_string(path).expect("docs/openapi.json");
    let doc = serde_json::from_str(&text).expect("docs/openapi.json is JSON");
    (text, doc)
}

/// `/api/chat/sessions/{id}` -> `/api/chat/sessions/:id`, as in ROUTES.
fn route_pattern(path: &str) -> String {
    path.split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => format!(":{name}"),
                None => seg.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Each described path with its methods, upper-case.
fn described(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .expect("a path item")
                .keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .map(|k| k.to_ascii_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// A concrete path for a described one.
fn concrete(path: &str) -> String {
    path.replace("{id}", "6f1c1a3e-0000-4000-8000-000000000000")
        .replace("{name}", "admin.js")
}

#[test]
fn the_document_is_served_exactly_as_kept_in_docs() {
    let (text, doc) = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    let s = TestServer::start();
    let r = s.call("GET", "/api/openapi.json", &[], None);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(r.text, text, "the served document is docs/openapi.json");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let etag = r.header("etag").expect("an ETag").to_string();
    let again = s.call(
        "GET",
        "/api/openapi.json",
        &[("If-None-Match", &etag)],
        None,
    );
    assert_eq!(again.status, 304);
}

#[test]
fn every_reference_in_the_document_resolves() {
    let (text, doc) = document();
    let mut broken = Vec::new();
    for part in text.split("\"$ref\": \"#").skip(1) {
        let pointer = &part[..part.find('"').unwrap()];
        if doc.pointer(pointer).is_none() {
            broken.push(pointer.to_string());
        }
    }
    assert!(broken.is_empty(), "unresolved $refs: {broken:?}");
}

#[test]
fn every_route_is_described_and_every_described_operation_is_a_route() {
    let (_, doc) = document();
    let routes: BTreeSet<String> = ROUTES.iter().map(|(m, p)| format!("{m} {p}")).collect();
    let mut operations = BTreeSet::new();
    for (path, methods) in described(&doc) {
        for m in &methods {
            // Answered for a whole path, not routes of their own: CORS
            // preflights on the public API, HEAD beside a page's GET.
            let implicit = (m == "OPTIONS" && path.starts_with("/api/public/"))
                || (m == "HEAD" && methods.contains("GET"));
            if !implicit {
                operations.insert(format!("{m} {}", route_pattern(&path)));
            }
        }
    }
    let undescribed: Vec<_> = routes.difference(&operations).collect();
    let unrouted: Vec<_> = operations.difference(&routes).collect();
    assert!(
        undescribed.is_empty() && unrouted.is_empty(),
        "routes missing from docs/openapi.json: {undescribed:?}; \
         operations in docs/openapi.json missing from ROUTES: {unrouted:?}"
    );
}

#[test]
fn the_server_takes_exactly_the_described_methods_on_every_path() {
    let (_, doc) = document();
    let s = TestServer::start();
    for (path, methods) in described(&doc) {
        let url = concrete(&path);
        let r = s.call("PATCH", &url, &[], None);
        assert_eq!(r.status, 405, "PATCH {url}: {r:?}");
        let allow: BTreeSet<String> = r
            .header("allow")
            .unwrap_or_else(|| panic!("405 without Allow on {url}"))
            .split(',')
            .map(|m| m.trim().to_string())
            .collect();
        assert_eq!(allow, methods, "Allow on {path} vs the document");
        for m in &methods {
            let body = (m == "POST").then_some("{}");
            let r = s.call(m, &url, &[("Content-Type", "application/json")], body);
            let unrouted =
                r.status == 405 || (r.status == 404 && r.text.contains("no such endpoint"));
            assert!(!unrouted, "{m} {path} is described but not routed: {r:?}");
        }
    }
}

/// `("GET" | "HEAD", ["chat", _])` -> `GET /chat/:`; `:` stands for any
/// path segment, as the dispatcher binds it.
fn arm_routes(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = source;
    while let Some(start) = rest.find("(\"") {
        rest = &rest[start + 1..];
        let Some(end) = rest.find("])") else { break };
        let arm = &rest[..end];
        rest = &rest[end..];
        let Some((methods, segs)) = arm.split_once(", [") else {
            continue;
        };
        let methods: Vec<&str> = methods
            .split('|')
            .map(|m| m.trim().trim_matches('"'))
            .collect();
        if !methods
            .iter()
            .all(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()))
        {
            continue;
        }
        let path: String = segs
            .split(',')
            .map(|seg| match seg.trim() {
                quoted if quoted.starts_with('"') => quoted.trim_matches('"').to_string(),
                _ => ":".to_string(),
            })
            .map(|seg| format!("/{seg}"))
            .collect();
        for m in methods {
            found.insert(format!("{m} {path}"));
        }
    }
    found
}

#[test]
fn every_arm_of_the_dispatcher_is_in_the_route_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/routes.rs");
    let source = std::fs::read_to_string(path).expect("src/http/routes.rs");
    let body = &source[source.find("pub fn route(").expect("fn route")..];
    let body = &body[..body
        .find("\nfn allowed_methods")
        .expect("fn allowed_methods")];
    let arms = arm_routes(body);
    assert!(arms.len() >= ROUTES.len(), "read too few arms: {arms:?}");
    let any_segment = |p: &str| {
        p.split('/')
            .map(|seg| if seg.starts_with(':') { ":" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    };
    let table: BTreeSet<String> = ROUTES
        .iter()
        .map(|(m, p)| format!("{m} {}", any_segment(p)))
        .collect();
    // HEAD is answered beside a page's GET, not a route of its own.
    let missing: Vec<&String> = arms
        .iter()
        .filter(|a| !a.starts_with("HEAD ") && !table.contains(*a))
        .collect();
    assert!(
        missing.is_empty(),
        "dispatched by route() but missing from ROUTES: {missing:?}"
    );
    let undispatched: Vec<&String> = table.iter().filter(|r| !arms.contains(*r)).collect();
    assert!(
        undispatched.is_empty(),
        "in ROUTES but not dispatched by route(): {undispatched:?}"
    );
}
