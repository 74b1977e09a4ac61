//! The widget, the demo page, the admin panel and the `OpenAPI` document,
//! compiled into the binary. Static files carry an `ETag`; admin pages a
//! strict CSP.

use std::sync::LazyLock;

use super::{Ctx, Reply, Request};
use crate::error::{Error, Result};

const WIDGET_JS: &str = include_str!("../web/widget.js");
const DEMO_HTML: &str = include_str!("../web/demo.html");
const ADMIN_HTML: &str = include_str!("../web/admin.html");
const ADMIN_JS: &str = include_str!("../web/admin.js");
const ADMIN_CSS: &str = include_str!("../web/admin.css");
/// The HTTP API's one machine-readable description, as kept in docs/.
const OPENAPI_JSON: &str = include_str!("../../docs/openapi.json");

const ADMIN_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

struct Asset {
    body: &'static str,
    content_type: &'static str,
    etag: String,
}

fn asset_of(body: &'static str, content_type: &'static str) -> Asset {
    let etag = format!("\"{}\"", &crate::secret::hash(body)[..16]);
    Asset {
        body,
        content_type,
        etag,
    }
}

static WIDGET: LazyLock<Asset> =
    LazyLock::new(|| asset_of(WIDGET_JS, "application/javascript; charset=utf-8"));
static ADMIN: LazyLock<Asset> = LazyLock::new(|| asset_of(ADMIN_HTML, "text/html; charset=utf-8"));
static ADMIN_SCRIPT: LazyLock<Asset> =
    LazyLock::new(|| asset_of(ADMIN_JS, "application/javascript; charset=utf-8"));
static ADMIN_STYLE: LazyLock<Asset> =
    LazyLock::new(|| asset_of(ADMIN_CSS, "text/css; charset=utf-8"));
static OPENAPI: LazyLock<Asset> =
    LazyLock::new(|| asset_of(OPENAPI_JSON, "application/json; charset=utf-8"));

/// Serves a static asset, answering 304 when the client has it.
fn serve(req: &Request, a: &Asset) -> Reply {
    let fresh = req
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == a.etag));
    let mut r = if fresh {
        Reply::empty(304)
    } else {
        Reply {
            status: 200,
            content_type: a.content_type,
            body: if req.method == "HEAD" {
                Vec::new()
            } else {
                a.body.as_bytes().to_vec()
            },
            headers: Vec::new(),
            park: None,
        }
    };
    r.headers.push(("ETag", a.etag.clone()));
    // Revalidate every time: cheap with the ETag, and a new version of the
    // widget reaches every shop at once.
    r.headers.push(("Cache-Control", "no-cache".into()));
    r
}

/// GET /widget.js, loadable from any site.
pub(super) fn widget(req: &Request) -> Reply {
    serve(req, &WIDGET).with_header("Access-Control-Allow-Origin", "*")
}

/// GET /api/openapi.json: public, so API tools on any origin may load it.
pub(super) fn openapi(req: &Request) -> Reply {
    serve(req, &OPENAPI).with_header("Access-Control-Allow-Origin", "*")
}

/// GET /chat and /chat/:id: the admin panel's one page.
pub(super) fn admin_page(req: &Request) -> Reply {
    serve(req, &ADMIN)
        .with_header("Content-Security-Policy", ADMIN_CSP)
        .with_header("X-Frame-Options", "DENY")
        .with_header("Referrer-Policy", "no-referrer")
}

/// GET /assets/admin.js and /assets/admin.css.
pub(super) fn asset(req: &Request, name: &str) -> Result<Reply> {
    match name {
        "admin.js" => Ok(serve(req, &ADMIN_SCRIPT)),
        "admin.css" => Ok(serve(req, &ADMIN_STYLE)),
        _ => Err(Error::not_found(format!("no such asset: {name}"))),
    }
}

/// GET /: the demo shop, with this server's demo key filled in; 404 with
/// `--no-demo`.
pub(super) fn demo_page(req: &Request, ctx: &Ctx) -> Result<Reply> {
    let Some(demo_key) = ctx.shared.demo_key.as_deref() else {
        return Err(Error::not_found(
            "the demo page is turned off on this server (--no-demo)",
        ));
    };
    let base = ctx.shared.config.public_url.clone().unwrap_or_else(|| {
        let host = req.header("host").unwrap_or("127.0.0.1:8080");
        format!("http://{host}")
    });
    let html = DEMO_HTML
        .replace("{{API_KEY}}", &crate::html::escape(demo_key))
        .replace("{{BASE_URL}}", &crate::html::escape(&base));
    Ok(Reply {
        status: 200,
        content_type: "text/html; charset=utf-8",
        body: if req.method == "HEAD" {
            Vec::new()
        } else {
            html.into_bytes()
        },
        headers: vec![("Cache-Control", "no-store".into())],
        park: None,
    })
}
