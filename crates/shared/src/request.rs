//! Per-request context: the request id, the client IP, the tracing span, and the guarantee that
//! every error leaves as the JSON envelope.
//!
//! [`RequestContextMiddleware`] is the outermost layer of the server. It
//! - takes `X-Request-Id` from the client when it is sane, else generates a UUID v7, and echoes it
//!   on the response;
//! - resolves the client IP from the socket, honouring `X-Forwarded-For` only when the socket peer
//!   is a configured trusted proxy (so a spoofed header buys nothing);
//! - runs the request inside a span carrying the request id, and logs the internal cause of every
//!   500 there (the body never holds it);
//! - turns any error response that is not JSON (a framework or library rejection) into the
//!   envelope, so no plain-text error body can leave the server.

use std::future::{Ready, ready};
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;
use ipnet::IpNet;
use tracing::Instrument;

use crate::envelope::{ErrorBody, ErrorCode, ErrorEnvelope};
use crate::error::AppError;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What every layer and handler may know about the request in flight.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub client_ip: Option<IpAddr>,
}

/// The verified identity of the caller (e.g. `user:<uuid>`), inserted into the request
/// extensions by the authentication layer only after the credentials were fully checked
/// (signature, expiry, revocation, account state). Rate-limit budgets and idempotency keys
/// belong to it; anonymous requests fall back to the client IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal(pub String);

impl RequestContext {
    /// The IP as text for audit rows and rate-limit keys.
    #[must_use]
    pub fn ip_string(&self) -> Option<String> {
        self.client_ip.map(|ip| ip.to_string())
    }
}

impl FromRequest for RequestContext {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.extensions().get::<RequestContext>().cloned();
        ready(Ok(ctx.unwrap_or_else(|| RequestContext {
            request_id: uuid::Uuid::now_v7().to_string(),
            client_ip: req.peer_addr().map(|a| a.ip()),
        })))
    }
}

/// A client-sent id is echoed only if it is short and made of safe characters.
fn sane_request_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| s.to_owned())
}

/// The client's address: the socket peer, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` hop that is not itself a trusted proxy.
#[must_use]
pub fn resolve_client_ip(
    peer: Option<IpAddr>,
    forwarded_for: &[&str],
    trusted: &[IpNet],
) -> Option<IpAddr> {
    // `::ffff:10.0.0.2` is the IPv4 peer 10.0.0.2 on a dual-stack socket.
    let peer = peer?.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut client = peer;
    for hop in forwarded_for
        .iter()
        .rev()
        .flat_map(|header| header.rsplit(','))
    {
        match hop.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // A hop we cannot read ends the chain we can vouch for.
            Err(_) => break,
        }
    }
    Some(client)
}

/// The middleware factory; `trusted_proxies` comes from `TRUSTED_PROXIES`.
#[derive(Clone)]
pub struct RequestContextMiddleware {
    trusted_proxies: Arc<Vec<IpNet>>,
}

impl RequestContextMiddleware {
    #[must_use]
    pub fn new(trusted_proxies: Vec<IpNet>) -> Self {
        Self {
            trusted_proxies: Arc::new(trusted_proxies),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequestContextMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = RequestContextService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestContextService {
            service: Rc::new(service),
            trusted_proxies: Arc::clone(&self.trusted_proxies),
        }))
    }
}

pub struct RequestContextService<S> {
    service: Rc<S>,
    trusted_proxies: Arc<Vec<IpNet>>,
}

impl<S, B> Service<ServiceRequest> for RequestContextService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let request_id = req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(sane_request_id)
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let forwarded: Vec<&str> = req
            .headers()
            .get_all(header::X_FORWARDED_FOR)
            .filter_map(|v| v.to_str().ok())
            .collect();
        let client_ip = resolve_client_ip(
            req.peer_addr().map(|a| a.ip()),
            &forwarded,
            &self.trusted_proxies,
        );
        req.extensions_mut().insert(RequestContext {
            request_id: request_id.clone(),
            client_ip,
        });

        let span = tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %req.method(),
            path = %req.path(),
            client_ip = client_ip.map(tracing::field::display),
        );
        // The request must not be cloned before routing (the router needs sole ownership).
        let service = Rc::clone(&self.service);
        let fut = service.call(req).instrument(span.clone());

        Box::pin(async move {
            let res = match fut.await {
                Ok(res) => res.map_into_boxed_body(),
                Err(err) => {
                    // A layer failed without a request to answer with: still answer the envelope.
                    let _entered = span.enter();
                    return Err(enveloped_error(&err, &request_id));
                }
            };
            let status = res.status();
            let _entered = span.enter();
            if status.is_server_error() {
                log_server_error(&res);
            }
            let mut res = if status.is_client_error() || status.is_server_error() {
                ensure_enveloped(res)
            } else {
                res
            };
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                res.headers_mut()
                    .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
            }
            tracing::info!(
                status = status.as_u16(),
                latency_ms = started.elapsed().as_secs_f64() * 1000.0,
                "request completed"
            );
            Ok(res)
        })
    }
}

fn log_server_error(res: &ServiceResponse<BoxBody>) {
    match res.response().error() {
        Some(err) => match err.as_error::<AppError>() {
            Some(app) => match app.internal_cause() {
                Some(cause) => tracing::error!(cause = %cause, "internal error"),
                None => tracing::error!(error = %app, "server error"),
            },
            None => tracing::error!(error = %err, "server error"),
        },
        None => tracing::error!(status = res.status().as_u16(), "server error response"),
    }
}

fn is_json(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

/// Replace a non-JSON error body with the envelope, keeping status and meaningful headers.
fn ensure_enveloped(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    if is_json(&res) {
        return res;
    }
    let status = res.status();
    let (req, old) = res.into_parts();
    let message = match old.error() {
        Some(err) if !status.is_server_error() => err.to_string(),
        _ => status
            .canonical_reason()
            .unwrap_or("Request failed")
            .to_owned(),
    };
    let code = ErrorCode::for_status(status);
    let message = if message.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("Request failed")
            .to_owned()
    } else {
        message
    };
    let mut new = HttpResponse::build(status).json(ErrorEnvelope::new(ErrorBody {
        code,
        message,
        details: None,
    }));
    for (name, value) in old.headers() {
        // The new body is plain JSON: drop what described the old one.
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name != header::CONTENT_ENCODING
        {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, new)
}

fn enveloped_error(err: &actix_web::Error, request_id: &str) -> actix_web::Error {
    let status = err.as_response_error().status_code();
    if status.is_server_error() {
        tracing::error!(error = %err, "server error");
    }
    let message = if status.is_server_error() {
        status
            .canonical_reason()
            .unwrap_or("Request failed")
            .to_owned()
    } else {
        err.to_string()
    };
    let mut response = HttpResponse::build(status).json(ErrorEnvelope::new(ErrorBody {
        code: ErrorCode::for_status(status),
        message,
        details: None,
    }));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    actix_web::error::InternalError::from_response(err.to_string(), response).into()
}

/// The error an [`AppError`] becomes as a service response (for middleware that answers early).
#[must_use]
pub fn error_response(req: ServiceRequest, err: &AppError) -> ServiceResponse<BoxBody> {
    req.into_response(err.error_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn untrusted_peers_cannot_pick_their_address() {
        let got = resolve_client_ip(Some(ip("203.0.113.9")), &["1.2.3.4"], &[]);
        assert_eq!(got, Some(ip("203.0.113.9")));
    }

    #[test]
    fn a_trusted_proxy_forwards_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = resolve_client_ip(Some(ip("10.0.0.2")), &["198.51.100.7"], &trusted);
        assert_eq!(got, Some(ip("198.51.100.7")));
    }

    #[test]
    fn a_spoofed_left_hop_is_ignored() {
        // The client wrote "1.1.1.1" itself; the proxy appended the real address.
        let trusted = nets(&["10.0.0.0/8"]);
        let got = resolve_client_ip(
            Some(ip("10.0.0.2")),
            &["1.1.1.1, 198.51.100.7, 10.0.0.5"],
            &trusted,
        );
        assert_eq!(got, Some(ip("198.51.100.7")));
    }

    #[test]
    fn an_ipv4_mapped_proxy_is_recognised() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = resolve_client_ip(Some(ip("::ffff:10.0.0.2")), &["198.51.100.7"], &trusted);
        assert_eq!(got, Some(ip("198.51.100.7")));
    }

    #[test]
    fn garbage_in_the_header_stops_the_walk() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = resolve_client_ip(Some(ip("10.0.0.2")), &["nonsense"], &trusted);
        assert_eq!(got, Some(ip("10.0.0.2")));
    }

    #[test]
    fn request_ids_are_echoed_only_when_sane() {
        assert!(sane_request_id(&HeaderValue::from_static("abc-123_x.y:z")).is_some());
        assert!(sane_request_id(&HeaderValue::from_static("has space")).is_none());
        assert!(sane_request_id(&HeaderValue::from_static("")).is_none());
        let long = "a".repeat(129);
        assert!(sane_request_id(&HeaderValue::from_str(&long).unwrap()).is_none());
    }
}
