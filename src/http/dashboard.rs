//! `GET /`: the dashboard. Its files are embedded in the binary, no build
//! step; the page reads the API like any other client. Its content security
//! policy lets it reach this daemon only, so no request leaves the host.
//!
//! For users: docs/dashboard.md.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("dashboard/index.html");
/// One module script: the pure formatting rules first (format.mjs, which
/// the e2e unit test imports on its own), then the page, which uses them.
const DASHBOARD_JS: &str = concat!(
    include_str!("dashboard/format.mjs"),
    "\n",
    include_str!("dashboard/dashboard.js")
);
const DASHBOARD_CSS: &str = include_str!("dashboard/dashboard.css");

/// What the page may load: its own script, style and API; `data:` for the
/// empty favicon. Nothing inline, nothing from another origin.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The paths served here, which need no API token: they hold no data.
pub const PATHS: [&str; 3] = ["/", "/dashboard.js", "/dashboard.css"];

pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", DASHBOARD_JS)
}

pub async fn style() -> Response {
    asset("text/css; charset=utf-8", DASHBOARD_CSS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // Small and embedded: revalidate rather than run an old build's page.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
