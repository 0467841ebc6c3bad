//! What a request must pass before any route sees it, so that a web page
//! the user visits can neither write events nor read the API
//! (docs/http-api.md#requests-from-web-pages, SECURITY.md):
//!
//! - every request: its `Host` is a loopback name or address, the listen
//!   address, or a name in `[http] allowed_hosts` ([`HostRule`]), else 421.
//!   A page whose name was rebound to 127.0.0.1 (DNS rebinding) sends its
//!   own name, so it is refused before it can read anything;
//! - every write ([`json_writes_only`]): an `application/json` body, else
//!   415, and no `Origin` but the daemon's own, else 403. A page can send
//!   `text/plain`, form and multipart bodies to any address without asking
//!   (CORS "simple requests"); a JSON body from another origin needs a
//!   preflight, which this server never grants;
//! - `POST /v1/logs`, `/v1/metrics` ([`otlp_writes_only`]): the same, with
//!   `application/x-protobuf` accepted beside JSON, as OTLP/HTTP sends;
//! - every response: no framing, no content sniffing ([`safe_headers`]).
//!
//! A refused request stores nothing, not even a `rejected_events` row (a
//! page must not be able to fill the disk); [`Refusals`] (in
//! [`crate::internal_events`]) counts it for `/metrics` and logs it at most
//! once a minute per reason.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::config::canonical_host;
pub use crate::internal_events::{Refusal, Refusals};

/// Which `Host` values this daemon answers to.
#[derive(Debug, Clone)]
pub struct HostRule {
    /// The address the listener is bound to: its port is the only one a
    /// `Host` may name, and its address is served as a name.
    listen: SocketAddr,
    /// `[http] allowed_hosts`, canonical.
    allowed: Vec<String>,
}

impl HostRule {
    pub fn new(listen: SocketAddr, allowed: Vec<String>) -> Self {
        HostRule { listen, allowed }
    }

    /// Whether a request whose `Host` is `host` is served: its name is
    /// `localhost`, a loopback address, the listen address (any address
    /// when listening on a wildcard one), or in `allowed_hosts`; its port,
    /// when it names one, is the listen port. An address is safe whatever
    /// it is: DNS rebinding needs a name.
    pub fn admits(&self, host: &str) -> bool {
        let Some((name, port)) = split_authority(host) else {
            return false;
        };
        if port.is_some_and(|port| port != self.listen.port()) {
            return false;
        }
        match name.parse::<IpAddr>() {
            Ok(ip) => {
                ip.is_loopback() || ip == self.listen.ip() || self.listen.ip().is_unspecified()
            }
            Err(_) => name == "localhost" || self.allowed.contains(&name),
        }
    }
}

/// `host[:port]` (an IPv6 address in brackets) → the canonical host and
/// the port; `None` when it is neither.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = match authority.rfind([':', ']']) {
        Some(i) if authority.as_bytes()[i] == b':' => {
            (&authority[..i], Some(authority[i + 1..].parse().ok()?))
        }
        _ => (authority, None),
    };
    // A bare IPv6 address has colons of its own: it needs brackets here.
    if host.contains(':') && !host.starts_with('[') {
        return None;
    }
    Some((canonical_host(host)?, port))
}

/// Whether `origin` (an `Origin` header) is this daemon as reached at
/// `host` (the request's admitted `Host`): `http://` and the same host
/// and port, port 80 when left out. `null` (sandboxed frames, files) is
/// never the daemon.
fn is_own_origin(origin: &str, host: &str) -> bool {
    let Some(authority) = origin.strip_prefix("http://") else {
        return false;
    };
    let port80 = |(name, port): (String, Option<u16>)| (name, port.unwrap_or(80));
    match (split_authority(authority), split_authority(host)) {
        (Some(origin), Some(host)) => port80(origin) == port80(host),
        _ => false,
    }
}

/// Whether a `Content-Type` is JSON: `application/json`, any parameters
/// (`; charset=utf-8`). Nothing else, `application/*+json` included: one
/// type, the one every hook client sends.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// The request's `Host`: the header, or an absolute URI's authority. Two
/// `Host` headers are none.
fn host_of(request: &Request) -> Option<&str> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().ok(),
        (None, _) => request.uri().authority().map(|a| a.as_str()),
        (Some(_), Some(_)) => None,
    }
}

/// What the guard needs: the rule and the counter, shared by every request.
pub struct Guard {
    pub hosts: HostRule,
    /// The same counter `/metrics` reads (in [`AppState`]).
    pub refusals: Arc<Refusals>,
}

/// Every route: refuses a request whose `Host` this daemon does not
/// answer to with 421 and a body that holds no data.
pub async fn admitted_hosts_only(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    match host_of(&request) {
        Some(host) if guard.hosts.admits(host) => next.run(request).await,
        given => {
            let shown = given.map_or_else(|| "no Host".to_string(), |h| format!("Host {h:?}"));
            guard.refusals.record(
                Refusal::Host,
                &format!("{shown} is not a name this daemon answers to"),
            );
            ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "this daemon answers only to localhost, loopback addresses, its listen address \
                 and the names in [http] allowed_hosts; add the name you reach it by there",
            )
            .into_response()
        }
    }
}

/// Every write route (`POST /hook`, and whatever ingests next): only a
/// JSON body (415), and only from the daemon's own origin when the request
/// names one (403). Runs before the handler reads the body: nothing of a
/// refused request is read or stored.
pub async fn json_writes_only(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    match write_refusal(request.headers(), host_of(&request)) {
        None => next.run(request).await,
        Some((refusal, status, why)) => {
            state.refusals.record(refusal, &why);
            ApiError::new(status, why).into_response()
        }
    }
}

/// Why a write with these headers is refused, if it is: the reason, the
/// status and a message.
fn write_refusal(headers: &HeaderMap, host: Option<&str>) -> Option<(Refusal, StatusCode, String)> {
    if let Some(refused) = origin_refusal(headers, host) {
        return Some(refused);
    }
    let content_type = headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes);
    match content_type.map(String::from_utf8_lossy) {
        Some(given) if is_json(&given) => None,
        given => Some((
            Refusal::ContentType,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "the body must be sent as Content-Type: application/json, not {}",
                given.map_or_else(|| "without one".to_string(), |g| format!("{g:?}"))
            ),
        )),
    }
}

/// `POST /v1/logs`, `/v1/metrics`: the same rule as every write ([`json_writes_only`]),
/// but OTLP/HTTP also sends `application/x-protobuf`, a type no page can
/// send cross-origin without a preflight either. Nothing else (415).
pub async fn otlp_writes_only(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let refused = origin_refusal(headers, host_of(&request)).or_else(|| {
        let given = headers
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        match given.as_deref().and_then(crate::ingest::otlp::Encoding::of) {
            Some(_) => None,
            None => Some((
                Refusal::ContentType,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "an OTLP export must be sent as Content-Type: application/x-protobuf or \
                     application/json, not {}",
                    given.map_or_else(|| "without one".to_string(), |g| format!("{g:?}"))
                ),
            )),
        }
    });
    match refused {
        None => next.run(request).await,
        Some((refusal, status, why)) => {
            state.refusals.record(refusal, &why);
            ApiError::new(status, why).into_response()
        }
    }
}

/// Why a write is refused for the `Origin` it names, if it is.
fn origin_refusal(
    headers: &HeaderMap,
    host: Option<&str>,
) -> Option<(Refusal, StatusCode, String)> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        if !host.is_some_and(|host| is_own_origin(&origin, host)) {
            return Some((
                Refusal::Origin,
                StatusCode::FORBIDDEN,
                format!(
                    "a write from the web page at {origin:?} is refused: only this daemon's own \
                     origin may write"
                ),
            ));
        }
    }
    None
}

/// Every response: it may not be framed by another page (`X-Frame-Options`
/// for old browsers, `frame-ancestors` for the rest) nor read as anything
/// but its declared type. The dashboard's own policy already says
/// `frame-ancestors 'none'`, and is kept.
pub async fn safe_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(listen: &str, allowed: &[&str]) -> HostRule {
        HostRule::new(
            listen.parse().unwrap(),
            allowed.iter().map(|s| s.to_string()).collect(),
        )
    }

    #[test]
    fn loopback_the_listen_address_and_allowed_names_are_served() {
        let r = rule("127.0.0.1:7717", &["build-host.lan"]);
        for host in [
            "localhost",
            "localhost:7717",
            "LOCALHOST.:7717",
            "127.0.0.1",
            "127.0.0.1:7717",
            "127.9.8.7:7717",
            "[::1]:7717",
            "[::1]",
            "build-host.lan:7717",
            "Build-Host.lan",
        ] {
            assert!(r.admits(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:7717",
            "localhost:80",
            "127.0.0.1:7718",
            "localhost.evil.example",
            "10.0.0.5:7717",
            "::1",
            "[::1]:x",
            "",
            "user@localhost",
            "build-host.lan:1",
        ] {
            assert!(!r.admits(host), "{host}");
        }
        // The listen address, and on a wildcard any address: a rebinding
        // page sends a name, never an address.
        assert!(rule("192.168.1.5:80", &[]).admits("192.168.1.5"));
        assert!(!rule("192.168.1.5:80", &[]).admits("192.168.1.6"));
        assert!(rule("0.0.0.0:7717", &[]).admits("192.168.1.5:7717"));
        assert!(rule("[::]:7717", &[]).admits("[fd00::5]:7717"));
        assert!(!rule("0.0.0.0:7717", &[]).admits("my-laptop:7717"));
    }

    #[test]
    fn only_the_daemon_as_reached_is_its_own_origin() {
        assert!(is_own_origin("http://127.0.0.1:7717", "127.0.0.1:7717"));
        assert!(is_own_origin("http://LOCALHOST:7717", "localhost:7717"));
        assert!(is_own_origin("http://[::1]:7717", "[::1]:7717"));
        assert!(is_own_origin("http://localhost", "localhost:80"));
        for (origin, host) in [
            ("http://evil.example", "127.0.0.1:7717"),
            ("http://127.0.0.1:8000", "127.0.0.1:7717"),
            ("http://localhost:7717", "127.0.0.1:7717"),
            ("https://127.0.0.1:7717", "127.0.0.1:7717"),
            ("null", "127.0.0.1:7717"),
            ("", "127.0.0.1:7717"),
        ] {
            assert!(!is_own_origin(origin, host), "{origin} at {host}");
        }
    }

    #[test]
    fn only_application_json_is_json() {
        for given in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            " application/json ;charset=UTF-8",
        ] {
            assert!(is_json(given), "{given}");
        }
        for given in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
            "application/ld+json",
            "text/json",
            "",
        ] {
            assert!(!is_json(given), "{given}");
        }
    }

    #[test]
    fn a_write_is_refused_for_its_origin_first_then_its_type() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        let host = Some("127.0.0.1:7717");
        let reason = |pairs: &[(&'static str, &'static str)]| {
            write_refusal(&headers(pairs), host).map(|(r, status, _)| (r, status.as_u16()))
        };
        assert_eq!(reason(&[("content-type", "application/json")]), None);
        assert_eq!(
            reason(&[
                ("content-type", "application/json"),
                ("origin", "http://127.0.0.1:7717")
            ]),
            None
        );
        assert_eq!(
            reason(&[("content-type", "text/plain")]),
            Some((Refusal::ContentType, 415))
        );
        assert_eq!(reason(&[]), Some((Refusal::ContentType, 415)));
        assert_eq!(
            reason(&[
                ("content-type", "text/plain"),
                ("origin", "http://evil.example")
            ]),
            Some((Refusal::Origin, 403))
        );
        assert_eq!(
            reason(&[("content-type", "application/json"), ("origin", "null")]),
            Some((Refusal::Origin, 403))
        );
    }
}
