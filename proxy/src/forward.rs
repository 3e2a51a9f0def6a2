//! Forwarding one request to the upstream and its answer back, unchanged but for what a hop
//! owns: hop-by-hop headers (RFC 9110 §7.6.1) are dropped both ways, `Host` becomes the
//! upstream's, and an Alibaba V3 request that signed `host` is signed again for the upstream's
//! host when the proxy has the key (without it, the client's `Host` is kept so that its
//! signature still holds where the upstream does not route by host).
//!
//! The request body is read whole (at most [`MAX_REQUEST_BODY`]); the answer body is read whole
//! up to [`MAX_JUDGED_BODY`] and sent on, except an event stream, which goes to the client
//! chunk by chunk as it comes (a tee keeps a copy for the judge), so a streamed answer's first
//! token is not held back. Once the answer's last byte is read, the exchange goes to the judge.

use crate::exchange::{now_ms, Answer, Exchange, Request};
use crate::platform::{Platform, Upstream};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, CONNECTION, CONTENT_ENCODING, CONTENT_TYPE, HOST,
};
use hyper::{Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The largest request body forwarded; a larger one gets 413 from the proxy itself.
pub const MAX_REQUEST_BODY: usize = 8 * 1024 * 1024;

/// The most of an answer body kept for judging; a longer answer is forwarded whole and judged
/// as too large.
pub const MAX_JUDGED_BODY: usize = 4 * 1024 * 1024;

/// The body the proxy answers with.
pub type ProxyBody = http_body_util::combinators::BoxBody<Bytes, hyper::Error>;

/// The upstream client: pooled keep-alive connections, TLS for `https` upstreams.
pub type UpstreamClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Headers that belong to one hop and are never forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
];

/// A client for every upstream: TLS with the system's roots (http upstreams need none).
pub fn client() -> UpstreamClient {
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let connector = match builder.with_native_roots() {
        Ok(builder) => builder.https_or_http().enable_http1().build(),
        Err(e) => {
            tracing::warn!("no system CA certificates ({e}): https upstreams will fail");
            let empty = rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(empty)
                .https_or_http()
                .enable_http1()
                .build()
        }
    };
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// The headers of `headers` a hop may pass on: hop-by-hop ones (also those `Connection` names)
/// and `upgrade` left out.
pub fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut kept = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let name_text = name.as_str();
        if HOP_BY_HOP.contains(&name_text)
            || name_text == "upgrade"
            || named.iter().any(|n| n == name_text)
        {
            continue;
        }
        kept.append(name.clone(), value.clone());
    }
    kept
}

/// What one listener forwards with.
pub struct Forwarder {
    /// The upstream this listener stands in front of.
    pub upstream: Upstream,
    /// The shared upstream client.
    pub client: UpstreamClient,
    /// Per-exchange deadline: the answer's last byte within it (`--timeout-ms`).
    pub timeout: Duration,
    /// `--alibaba-key`, to sign V3 requests again for the upstream's host.
    pub alibaba_key: Option<(String, String)>,
}

/// A finished exchange, handed to whoever judges it. Returns false when it could not take it
/// (the judge is behind); the exchange then counts as unjudged.
pub type Sink = Arc<dyn Fn(Exchange) -> bool + Send + Sync>;

impl Forwarder {
    /// Forwards one request and answers the client; the exchange goes to `sink` once whole.
    /// `deliver` is awaited (backpressure) for answers read whole; a streamed answer's exchange
    /// is offered to `sink` when the stream ends.
    pub async fn forward<F, Fut>(
        &self,
        seq: u64,
        incoming: hyper::Request<Incoming>,
        deliver: F,
        sink: Sink,
    ) -> Response<ProxyBody>
    where
        F: FnOnce(Exchange) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let started = Instant::now();
        let started_at_ms = now_ms();
        let (parts, body) = incoming.into_parts();
        let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) => return proxy_error(StatusCode::PAYLOAD_TOO_LARGE, &body_error(e.as_ref())),
        };
        let request = Request {
            method: parts.method.to_string(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or("/", |pq| pq.as_str())
                .to_string(),
            headers: end_to_end(&parts.headers),
            body,
        };
        let template = Exchange {
            seq,
            platform: self.upstream.platform,
            started_at_ms,
            request,
            answer: Err(String::new()),
            elapsed: Duration::ZERO,
        };
        let exchange = move |template: &Exchange, answer, elapsed| Exchange {
            answer,
            elapsed,
            ..template.clone()
        };
        let outgoing = match self.outgoing(&template.request) {
            Ok(outgoing) => outgoing,
            Err(why) => return proxy_error(StatusCode::BAD_REQUEST, &why),
        };
        let deadline = started + self.timeout;
        let sent = tokio::time::timeout_at(deadline.into(), self.client.request(outgoing)).await;
        let response = match sent {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                let why = format!(
                    "the {} upstream did not answer: {}",
                    self.upstream.platform,
                    chain(&e)
                );
                deliver(exchange(&template, Err(why.clone()), started.elapsed())).await;
                return proxy_error(StatusCode::BAD_GATEWAY, &why);
            }
            Err(_) => {
                let why = format!("timed out after {} ms", self.timeout.as_millis());
                deliver(exchange(&template, Err(why.clone()), self.timeout)).await;
                return proxy_error(StatusCode::GATEWAY_TIMEOUT, &why);
            }
        };
        let (head, body) = response.into_parts();
        let headers = end_to_end(&head.headers);
        let status = head.status.as_u16();
        let is_stream = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("text/event-stream"));
        let mut answer = Answer {
            status,
            headers: headers.clone(),
            body: Bytes::new(),
            truncated: false,
        };
        let body: ProxyBody = if is_stream {
            let tee = Tee {
                inner: body,
                copy: BytesMut::new(),
                done: Some(Box::new(
                    move |bytes: Bytes, truncated: bool, error: Option<String>| {
                        answer.body = bytes;
                        answer.truncated = truncated;
                        let outcome = match error {
                            Some(why) => Err(why),
                            None => Ok(answer),
                        };
                        sink(exchange(&template, outcome, started.elapsed()));
                    },
                )),
            };
            tee.boxed()
        } else {
            match read_up_to(body, MAX_JUDGED_BODY, deadline).await {
                Read::Whole(bytes) => {
                    answer.body = bytes.clone();
                    decode_for_judging(&mut answer);
                    deliver(exchange(&template, Ok(answer), started.elapsed())).await;
                    full(bytes)
                }
                Read::Longer(prefix, rest) => {
                    answer.body = prefix.clone();
                    answer.truncated = true;
                    deliver(exchange(&template, Ok(answer), started.elapsed())).await;
                    let first = http_body_util::Full::new(prefix).map_err(|never| match never {});
                    Chain {
                        first: Some(first.boxed()),
                        rest,
                    }
                    .boxed()
                }
                Read::Failed(why) => {
                    deliver(exchange(&template, Err(why.clone()), started.elapsed())).await;
                    return proxy_error(StatusCode::BAD_GATEWAY, &why);
                }
            }
        };
        let mut response = Response::new(body);
        *response.status_mut() = head.status;
        *response.headers_mut() = headers;
        response
    }

    /// The request to send upstream: the same method, path, headers and body, the upstream's
    /// URI and `Host`, signed again where it must be.
    fn outgoing(&self, request: &Request) -> Result<hyper::Request<Full<Bytes>>, String> {
        let uri = self.upstream.uri_for(&request.path_and_query);
        let mut headers = request.headers.clone();
        let client_host = headers.remove(HOST);
        let host = match self.resigned(request) {
            Resign::Done(authorization) => {
                let value = HeaderValue::from_str(&authorization).map_err(|e| e.to_string())?;
                headers.insert(hyper::header::AUTHORIZATION, value);
                HeaderValue::from_str(&self.upstream.host).map_err(|e| e.to_string())?
            }
            Resign::KeepClientHost => client_host
                .unwrap_or(HeaderValue::from_str(&self.upstream.host).map_err(|e| e.to_string())?),
            Resign::NotNeeded => {
                HeaderValue::from_str(&self.upstream.host).map_err(|e| e.to_string())?
            }
        };
        headers.insert(HOST, host);
        let method =
            hyper::Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut outgoing = hyper::Request::new(Full::new(request.body.clone()));
        *outgoing.method_mut() = method;
        *outgoing.uri_mut() = uri
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
        *outgoing.headers_mut() = headers;
        Ok(outgoing)
    }

    fn resigned(&self, request: &Request) -> Resign {
        if self.upstream.platform != Platform::Alibaba {
            return Resign::NotNeeded;
        }
        let client_host = request.header("host").unwrap_or_default();
        crate::judge::alibaba::resign(
            request,
            client_host,
            &self.upstream.host,
            self.alibaba_key.as_ref(),
        )
    }
}

/// What becomes of an Alibaba request's signature on its way upstream.
#[derive(Debug, PartialEq, Eq)]
pub enum Resign {
    /// Not V3, `host` not signed, or the same host: sent as it came.
    NotNeeded,
    /// Signed again for the upstream's host: the new `Authorization`.
    Done(String),
    /// Signed with another key or no key given: the client's `Host` is kept instead.
    KeepClientHost,
}

/// The answer as the judge reads it: a gzip or deflate body decoded (at most
/// [`MAX_JUDGED_BODY`]) and its `content-encoding` dropped from the judged copy; what the client
/// gets is untouched. Other encodings (br, zstd) stay as they came and are judged unreadable.
pub fn decode_for_judging(answer: &mut Answer) {
    let encoding = answer
        .headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|e| e.trim().to_ascii_lowercase());
    let decoded = match encoding.as_deref() {
        Some("gzip" | "x-gzip") => read_limited(flate2::read::GzDecoder::new(&answer.body[..])),
        Some("deflate") => read_limited(flate2::read::ZlibDecoder::new(&answer.body[..])),
        _ => return,
    };
    if let Ok((body, cut)) = decoded {
        answer.body = body;
        answer.truncated |= cut;
        answer.headers.remove(CONTENT_ENCODING);
    }
}

fn read_limited(reader: impl std::io::Read) -> std::io::Result<(Bytes, bool)> {
    use std::io::Read as _;
    let mut out = Vec::new();
    reader
        .take(MAX_JUDGED_BODY as u64 + 1)
        .read_to_end(&mut out)?;
    let cut = out.len() > MAX_JUDGED_BODY;
    out.truncate(MAX_JUDGED_BODY);
    Ok((Bytes::from(out), cut))
}

fn full(bytes: Bytes) -> ProxyBody {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// A plain-text answer of the proxy's own, marked so nobody takes it for the upstream's.
pub fn proxy_error(status: StatusCode, why: &str) -> Response<ProxyBody> {
    let mut response = Response::new(full(Bytes::from(format!("agentproof proxy: {why}\n"))));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        HeaderName::from_static("x-agentproof-proxy"),
        HeaderValue::from_static("refused"),
    );
    response
}

fn body_error(error: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    if error.is::<http_body_util::LengthLimitError>() {
        format!("the request body is over {MAX_REQUEST_BODY} bytes, the most the proxy forwards")
    } else {
        format!("the request body could not be read: {error}")
    }
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

enum Read {
    Whole(Bytes),
    Longer(Bytes, Incoming),
    Failed(String),
}

/// Reads `body` until its end, `max` bytes or the deadline.
async fn read_up_to(mut body: Incoming, max: usize, deadline: Instant) -> Read {
    let mut buffer = BytesMut::new();
    loop {
        let frame = match tokio::time::timeout_at(deadline.into(), body.frame()).await {
            Err(_) => return Read::Failed("timed out reading the answer body".into()),
            Ok(None) => return Read::Whole(buffer.freeze()),
            Ok(Some(Err(e))) => {
                return Read::Failed(format!("the answer body broke off: {}", chain(&e)))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
            if buffer.len() > max {
                return Read::Longer(buffer.freeze(), body);
            }
        }
    }
}

/// What a tee does once its stream ended: the copy, whether it was cut, the error if it broke.
type Done = Box<dyn FnOnce(Bytes, bool, Option<String>) + Send + Sync>;

/// An answer body passed on frame by frame, with a bounded copy for the judge.
struct Tee {
    inner: Incoming,
    copy: BytesMut,
    done: Option<Done>,
}

impl Tee {
    fn finish(&mut self, error: Option<String>) {
        if let Some(done) = self.done.take() {
            let truncated = self.copy.len() >= MAX_JUDGED_BODY;
            done(std::mem::take(&mut self.copy).freeze(), truncated, error);
        }
    }
}

impl hyper::body::Body for Tee {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let room = MAX_JUDGED_BODY.saturating_sub(self.copy.len());
                    let take = data.len().min(room);
                    self.copy.extend_from_slice(&data[..take]);
                }
            }
            Poll::Ready(Some(Err(e))) => {
                let why = format!("the answer stream broke off: {e}");
                self.finish(Some(why));
            }
            Poll::Ready(None) => self.finish(None),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tee {
    /// A client that went away mid-stream still leaves an exchange to judge.
    fn drop(&mut self) {
        self.finish(Some("the client closed the stream before its end".into()));
    }
}

/// The part of a long answer already read, then the rest as it comes.
struct Chain {
    first: Option<ProxyBody>,
    rest: Incoming,
}

impl hyper::body::Body for Chain {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        if let Some(first) = self.first.as_mut() {
            match Pin::new(first).poll_frame(cx) {
                Poll::Ready(None) => self.first = None,
                other => return other,
            }
        }
        Pin::new(&mut self.rest).poll_frame(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gzip_answer_is_judged_decoded() {
        use std::io::Write as _;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(br#"{"code":200}"#).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        let mut answer = Answer {
            status: 200,
            headers,
            body: Bytes::from(gzip.finish().unwrap()),
            truncated: false,
        };
        decode_for_judging(&mut answer);
        assert_eq!(answer.json(), Some(serde_json::json!({"code": 200})));
        assert!(answer.headers.get(CONTENT_ENCODING).is_none());
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_not_forwarded() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, x-hop"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("x-hop", "1"),
            ("upgrade", "websocket"),
            ("x-acs-action", "GetAgent"),
            ("authorization", "ACS3-HMAC-SHA256 x"),
        ] {
            headers.append(name, value.parse().unwrap());
        }
        let kept = end_to_end(&headers);
        let names: Vec<&str> = kept.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["x-acs-action", "authorization"]);
    }
}
