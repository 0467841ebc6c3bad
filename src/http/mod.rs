//! The HTTP server (docs/http-api.md, docs/dashboard.md): the JSON API over [`crate::query`], the
//! dashboard at `/` ([`dashboard`]), `/metrics` for Prometheus, `/healthz`,
//! `POST /hook`, the HTTP ingest edge ([`crate::ingest::http`]), and
//! `POST /v1/logs` and `/v1/metrics`, the OTLP/HTTP receiver ([`otlp`]),
//! and OTLP/gRPC on a listener of its own ([`grpc`]).
//!
//! Readers run on read-only connections of their own, on blocking threads
//! ([`readers`]); nothing here touches the writer's connection. Only
//! `/hook` (an event to commit) and `/healthz` (a round trip) talk to the
//! writer thread, through its handle, like every other edge.
//!
//! Loopback by default. A listen address that is not loopback needs a token
//! (`[http] token`, `HOOKMETER_HTTP_TOKEN`); with a token set, every
//! endpoint but `/healthz` and the dashboard's own files wants
//! `Authorization: Bearer <token>` (the page asks for it). Before that,
//! [`guard`] refuses a `Host` this daemon does not answer to, and a write
//! that a web page of another origin could have sent.

mod api;
mod dashboard;
pub mod grpc;
mod guard;
mod hook;
mod metrics;
mod otlp;
mod params;
mod readers;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, HttpToken, Limits};
use crate::ingest::http::HookEdge;
use crate::internal_events::{OtlpCounters, TranscriptCounters};
use crate::pricing::PriceTable;
use crate::store::writer::WriterHandle;

pub use guard::Refusals;
pub use readers::Readers;

/// The price table in force, shared with whoever reloads it (SIGHUP): the
/// writer prices with its own copy, the API shows this one.
pub type PricesInForce = Arc<RwLock<Arc<PriceTable>>>;

/// Everything a request handler may need, shared by all of them.
pub struct AppState {
    /// Read-only connections for queries.
    pub readers: Arc<Readers>,
    /// For `/healthz`'s round trip and the writer's `/metrics` histograms.
    pub writer: WriterHandle,
    /// `POST /hook`.
    pub hook: HookEdge,
    /// `GET /api/costs/pricing`.
    pub prices: PricesInForce,
    /// Counted for the `hookmeter_spool_files` gauge.
    pub spool: PathBuf,
    /// Required as `Authorization: Bearer` when set.
    pub token: Option<HttpToken>,
    /// `max_line_bytes` caps a `/hook` body; `idle_timeout` bounds reading
    /// it, a request's headers and `/healthz`'s wait; `max_connections`
    /// caps connections at once.
    pub limits: Limits,
    /// How `/metrics` labels its series.
    pub metrics: MetricsSettings,
    /// `[http] allowed_hosts`: names a request's `Host` may carry besides
    /// loopback and the listen address.
    pub allowed_hosts: Vec<String>,
    /// Requests the guard refused, by reason: logged there, shown by
    /// `/metrics`.
    pub refusals: Arc<Refusals>,
    /// What the transcript tail read, refused and restarted: counted
    /// there, shown by `/metrics`.
    pub transcripts: Arc<TranscriptCounters>,
    /// `[otlp] max_body`: the largest `/v1/logs` export, as sent and inflated.
    pub otlp_max_body: usize,
    /// What `/v1/logs` received and made of it, shown by `/metrics`.
    pub otlp: Arc<OtlpCounters>,
    /// Whether the OTLP/gRPC listener is serving (its default port may be
    /// taken), shown by `/metrics`.
    pub grpc_listening: bool,
    /// The push's counters, shown by `/metrics`; `None` when `[push]` is off.
    pub push: Option<Arc<crate::push::PushStats>>,
}

/// What `/metrics` needs beside the database.
#[derive(Debug, Clone)]
pub struct MetricsSettings {
    /// Distinct values per provider, model and agent label before `other`.
    pub max_label_values: usize,
    /// The `host` label of `hookmeter_info`.
    pub host: String,
}

/// A listen address that cannot be used as configured: the daemon refuses
/// to start (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(
        "invalid HTTP listen address {addr:?}: {reason}; give HOST:PORT (e.g. 127.0.0.1:7717) \
         with --http or HOOKMETER_HTTP, or off to disable the HTTP API"
    )]
    BadAddress { addr: String, reason: String },
    #[error(
        "invalid OTLP/gRPC listen address {addr:?}: {reason}; give HOST:PORT (e.g. \
         127.0.0.1:4317) in [otlp] grpc or HOOKMETER_OTLP_GRPC, or off to disable it"
    )]
    GrpcBadAddress { addr: String, reason: String },
    #[error(
        "OTLP/gRPC listen address {addr} is not loopback, so it needs a token: set [http] \
         token in the config file or HOOKMETER_HTTP_TOKEN, or listen on 127.0.0.1:4317"
    )]
    GrpcTokenRequired { addr: String },
    #[error(
        "cannot listen for OTLP/gRPC on {addr}: {source}; choose another address with [otlp] \
         grpc or HOOKMETER_OTLP_GRPC (port 0 picks a free one), or turn it off with grpc = false"
    )]
    GrpcCannotBind {
        addr: String,
        source: std::io::Error,
    },
    #[error(
        "HTTP listen address {addr} is not loopback, so the API needs a token: set [http] token \
         in the config file or HOOKMETER_HTTP_TOKEN, or listen on 127.0.0.1 (--http 127.0.0.1:7717)"
    )]
    TokenRequired { addr: String },
}

/// Where the HTTP server is to listen, checked against the auth rule.
#[derive(Debug, Clone)]
pub struct Listen {
    /// As the user wrote it, for messages.
    pub given: String,
    pub addrs: Vec<SocketAddr>,
}

/// The HTTP listen address of `config`, resolved; `None` when HTTP is off.
pub fn plan(config: &Config) -> Result<Option<Listen>, ListenError> {
    let Some(given) = &config.http else {
        return Ok(None);
    };
    let bad = |reason: String| ListenError::BadAddress {
        addr: given.clone(),
        reason,
    };
    let addrs: Vec<SocketAddr> = given
        .to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(bad("it resolves to no address".into()));
    }
    let open = addrs.iter().any(|a| !a.ip().is_loopback());
    if open && config.http_token.is_none() {
        return Err(ListenError::TokenRequired {
            addr: given.clone(),
        });
    }
    Ok(Some(Listen {
        given: given.clone(),
        addrs,
    }))
}

/// Binds the listener; the error names the address and how to change or
/// disable it.
pub async fn bind(listen: &Listen) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(&listen.addrs[..])
        .await
        .with_context(|| {
            format!(
                "cannot listen for HTTP on {}; choose another address with --http ADDR or \
             HOOKMETER_HTTP (port 0 picks a free one), or disable the HTTP API with --http off",
                listen.given
            )
        })?;
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, "HTTP API listening on {local}.");
    Ok(listener)
}

/// The dashboard's URL for a listener bound to `addr` (the real address, so
/// port 0 shows the port chosen). A wildcard address is not one a browser
/// can open: the same port on loopback is shown instead.
pub fn dashboard_url(addr: std::net::SocketAddr) -> String {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/", std::net::SocketAddr::new(ip, addr.port()))
}

/// After the requests in flight at shutdown are answered, how long their
/// connections get to deliver the answers before they are closed.
const FLUSH_AT_SHUTDOWN: Duration = Duration::from_secs(1);

/// Serves the API on `listener` until `shutdown`. Then it stops accepting,
/// lets every request in flight finish and its answer go out, and closes
/// the connections that were idle or still sending headers: a client that
/// never finishes a request cannot hold up the daemon's stop.
///
/// At most `limits.max_connections` connections at once (more are answered
/// 503 and closed); a client gets `limits.idle_timeout` to send a request's
/// headers.
pub async fn serve(listener: TcpListener, state: Arc<AppState>, shutdown: CancellationToken) {
    let listen = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            // Without it no Host can be checked: serving nothing is the safe answer.
            tracing::error!(error = %e, "Cannot tell which address the HTTP listener is bound to; the HTTP API is not served.");
            return;
        }
    };
    let requests = TaskTracker::new();
    let app = router(state.clone(), listen, requests.clone());
    let permits = Arc::new(Semaphore::new(state.limits.max_connections));
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let Some(stream) =
            crate::ingest::next_connection(&shutdown, "an HTTP", || listener.accept()).await
        else {
            break;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            let limit = state.limits.max_connections;
            tracing::warn!(limit, "Refused an HTTP connection: too many at once.");
            connections.spawn(refuse(stream, limit));
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let shutdown = shutdown.clone();
        let header_timeout = state.limits.idle_timeout;
        connections.spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "HTTP connection ended with an error.");
            }
            drop(permit);
        });
    }
    drop(listener);
    requests.close();
    requests.wait().await;
    let flushed = tokio::time::timeout(FLUSH_AT_SHUTDOWN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if flushed.is_err() {
        tracing::debug!(
            open = connections.len(),
            "Closing HTTP connections that had no request in flight."
        );
    }
    // Dropping the set aborts what is left.
}

/// Answers a connection over the limit with a 503 and closes it.
async fn refuse(mut stream: tokio::net::TcpStream, limit: usize) {
    let body = json!({
        "error": format!("too many connections (limit {limit}); retry later"),
        "retry": true,
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(answer.as_bytes())).await;
}

/// Every route, behind the Host check and the token check; `listen` is the
/// address the listener is bound to; `requests` holds a token for each
/// request being handled, so shutdown can wait for them.
fn router(state: Arc<AppState>, listen: SocketAddr, requests: TaskTracker) -> Router {
    let in_flight = move |request: Request, next: Next| {
        let token = requests.token();
        async move {
            let response = next.run(request).await;
            drop(token);
            response
        }
    };
    Router::new()
        .route("/", get(dashboard::index))
        .route("/dashboard.js", get(dashboard::script))
        .route("/dashboard.css", get(dashboard::style))
        .route("/api/costs", get(api::costs))
        .route("/api/costs/summary", get(api::cost_summary))
        .route("/api/costs/sessions", get(api::sessions))
        .route("/api/costs/sessions/{id}", get(api::session))
        .route("/api/costs/pricing", get(api::pricing))
        .route("/api/costs/reconcile", get(api::reconcile))
        .route("/api/summary", get(api::summary))
        .route("/api/budgets", get(api::budgets))
        .route("/api/budgets/alerts", get(api::undelivered_alerts))
        .route("/api/plan", get(api::plan))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::get_metrics))
        .merge(writes(state.clone()))
        .merge(otlp_writes(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(middleware::from_fn_with_state(
            Arc::new(guard::Guard {
                hosts: guard::HostRule::new(listen, state.allowed_hosts.clone()),
                refusals: state.refusals.clone(),
            }),
            guard::admitted_hosts_only,
        ))
        .layer(middleware::from_fn(guard::safe_headers))
        .layer(middleware::from_fn(in_flight))
        .with_state(state)
}

/// Every route that stores what it is sent: each one takes only JSON, and
/// none from another web origin ([`guard::json_writes_only`]). An ingest
/// endpoint added later belongs here.
fn writes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/hook", post(hook::post_hook))
        .route_layer(middleware::from_fn_with_state(
            state,
            guard::json_writes_only,
        ))
}

/// `POST /v1/logs` and `/v1/metrics`, OTLP/HTTP exports: protobuf or JSON, and from no
/// other web origin ([`guard::otlp_writes_only`]). Its size limit is its
/// own (`[otlp] max_body`).
fn otlp_writes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/logs", post(otlp::post_logs))
        .route("/v1/metrics", post(otlp::post_metrics))
        .route_layer(middleware::from_fn_with_state(
            state,
            guard::otlp_writes_only,
        ))
}

/// An error answer: a status and `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// A bad parameter: 400.
    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<crate::query::QueryError> for ApiError {
    fn from(e: crate::query::QueryError) -> Self {
        match e {
            crate::query::QueryError::Invalid(message) => ApiError::bad(message),
            missing @ crate::query::QueryError::NoDatabase(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, missing.to_string())
            }
            crate::query::QueryError::Sqlite(e) => {
                tracing::warn!(error = %e, "An HTTP query failed.");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("database error: {e}"),
                )
            }
        }
    }
}

async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = &state.token {
        let path = request.uri().path();
        let open = path == "/healthz" || dashboard::PATHS.contains(&path);
        if !open && !bearer_matches(request.headers(), token) {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing or wrong token: send Authorization: Bearer <token>",
            )
            .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            return response;
        }
    }
    next.run(request).await
}

pub(crate) fn bearer_matches(headers: &HeaderMap, token: &HttpToken) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
    else {
        return false;
    };
    let want = token.as_str().as_bytes();
    // Compare every byte whatever the first difference: the time taken says
    // nothing about how much of a guess was right.
    given.len() == want.len() && given.iter().zip(want).fold(0, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// 200 once the writer thread has committed a round trip; 503 otherwise.
async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let answer = tokio::time::timeout(state.limits.idle_timeout, state.writer.ping()).await;
    match answer {
        Ok(Ok(())) => Json(json!({"status": "ok"})).into_response(),
        Ok(Err(e)) => unhealthy(e.to_string()),
        Err(_) => unhealthy(format!(
            "the writer did not answer within {} s",
            state.limits.idle_timeout.as_secs()
        )),
    }
}

fn unhealthy(error: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "error": error})),
    )
        .into_response()
}

async fn not_found(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no such endpoint: {} {}",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Overrides;

    fn config(http: &str, token: Option<&str>) -> Config {
        let env = |name: &str| match name {
            "HOME" => Some("/h".to_string()),
            "HOOKMETER_HTTP" => Some(http.to_string()),
            "HOOKMETER_HTTP_TOKEN" => token.map(str::to_string),
            _ => None,
        };
        Config::resolve(&Overrides::default(), &env).unwrap()
    }

    #[test]
    fn only_loopback_may_listen_without_a_token() {
        assert!(plan(&config("off", None)).unwrap().is_none());
        let listen = plan(&config("127.0.0.1:0", None)).unwrap().unwrap();
        assert!(listen.addrs[0].ip().is_loopback());
        assert!(plan(&config("[::1]:7717", None)).unwrap().is_some());
        let err = plan(&config("0.0.0.0:7717", None)).unwrap_err();
        assert!(matches!(err, ListenError::TokenRequired { .. }), "{err}");
        assert!(err.to_string().contains("HOOKMETER_HTTP_TOKEN"));
        assert!(plan(&config("0.0.0.0:7717", Some("t"))).unwrap().is_some());
        let err = plan(&config("7717", None)).unwrap_err();
        assert!(matches!(err, ListenError::BadAddress { .. }), "{err}");
    }

    #[test]
    fn the_dashboard_url_is_one_a_browser_opens() {
        let url = |addr: &str| dashboard_url(addr.parse().unwrap());
        assert_eq!(url("127.0.0.1:7717"), "http://127.0.0.1:7717/");
        assert_eq!(url("[::1]:40123"), "http://[::1]:40123/");
        assert_eq!(url("192.168.1.5:80"), "http://192.168.1.5:80/");
        assert_eq!(url("0.0.0.0:7717"), "http://127.0.0.1:7717/");
        assert_eq!(url("[::]:7717"), "http://[::1]:7717/");
    }

    #[test]
    fn the_bearer_token_must_match_exactly() {
        let token = config("127.0.0.1:0", Some("s3cret")).http_token.unwrap();
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            bearer_matches(&headers, &token)
        };
        assert!(with("Bearer s3cret"));
        assert!(!with("Bearer s3cre"));
        assert!(!with("Bearer s3cret2"));
        assert!(!with("Bearer S3cret"));
        assert!(!with("Basic s3cret"));
        assert!(!bearer_matches(&HeaderMap::new(), &token));
    }
}
