//! How both checkers send: one request at a time through [`send`] (the user's headers over the
//! platform's, every value kept out of Debug output, the whole answer read up to [`MAX_BODY`]
//! and timed, its first mark and its end found by the rule set's [`Watch`]), and many
//! conversations at once through [`conversations`] (`--concurrency`, `--rate`).

use protocol::request::HttpRequest;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The most of an answer that is read: the platforms refuse larger answers.
pub const MAX_BODY: usize = 1024 * 1024;

/// An answer: status, whether it is an event stream, the body, its times.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub is_sse: bool,
    pub body: Vec<u8>,
    /// Until the whole body was read (or the watch said the stream was over).
    pub elapsed: Duration,
    /// Until the watch's first mark arrived: the first event of a DUIX stream, the first
    /// content token of an LLM stream.
    pub first_event: Option<Duration>,
}

/// No whole answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Missing {
    TimedOut,
    Failed(String),
}

/// What a rule set looks for in a stream as it arrives.
pub trait Watch: Send {
    /// Takes the bytes that just arrived (`body` is everything so far, `fresh` its tail);
    /// answers whether the first mark is among them (asked until it was), and whether the
    /// stream is over as the platform reads it (it stops reading there, closed or not).
    fn arrived(&mut self, body: &[u8], fresh: usize) -> Arrival;
}

/// What [`Watch::arrived`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Arrival {
    pub first_mark: bool,
    pub ended: bool,
}

/// Sends `request` to `url` with `headers` over the platform's own, reads the whole answer and
/// times it.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    request: HttpRequest,
    headers: &[(String, String)],
    watch: &mut dyn Watch,
) -> Result<Answer, Missing> {
    let mut call = client.post(request.url(url)).body(request.body);
    // The user's headers replace the platform's of the same name; every value stays out of
    // Debug output (they may be credentials).
    let own = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let platform = request.headers.iter().filter(|(n, _)| !own(n));
    for (name, value) in platform.chain(headers) {
        let Ok(mut value) = reqwest::header::HeaderValue::from_str(value) else {
            continue;
        };
        value.set_sensitive(true);
        call = call.header(name.as_str(), value);
    }
    let started = Instant::now();
    let mut response = call.send().await.map_err(|e| missing(&e))?;
    let status = response.status().as_u16();
    let is_sse = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        });
    let (mut body, mut first_event) = (Vec::new(), None);
    while let Some(chunk) = response.chunk().await.map_err(|e| missing(&e))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY {
            return Err(Missing::Failed(format!(
                "an answer over {} KiB, which the platform refuses",
                MAX_BODY / 1024
            )));
        }
        if !is_sse {
            continue;
        }
        let seen = watch.arrived(&body, chunk.len());
        if seen.first_mark && first_event.is_none() {
            first_event = Some(started.elapsed());
        }
        if seen.ended {
            break;
        }
    }
    Ok(Answer {
        status,
        is_sse,
        body,
        elapsed: started.elapsed(),
        first_event,
    })
}

/// A transport error in words, without the URL (it may carry a key): the load scenarios' words.
fn missing(error: &reqwest::Error) -> Missing {
    match scenarios::exchange::transport_failure(error) {
        scenarios::exchange::Broken::TimedOut => Missing::TimedOut,
        scenarios::exchange::Broken::Reason(why) => Missing::Failed(why),
    }
}

/// Runs `count` conversations, `concurrency` at a time, each `conversation(index)`; their
/// exchanges in index order (a conversation whose task failed is left out).
pub async fn conversations<T, F, Fut>(count: usize, concurrency: usize, conversation: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Vec<T>> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::new();
    for index in 0..count {
        let gate = gate.clone();
        let talk = conversation(index);
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.ok()?;
            Some(talk.await)
        }));
    }
    let mut exchanges = Vec::new();
    for task in tasks {
        if let Ok(Some(done)) = task.await {
            exchanges.extend(done);
        }
    }
    exchanges
}

/// True when no request could even connect: nothing listens there (a server that accepts
/// connections and then fails is judged by the rules instead).
pub fn nothing_answered<'a>(answers: impl Iterator<Item = &'a Result<Answer, Missing>>) -> bool {
    let mut any = false;
    for answer in answers {
        any = true;
        if !matches!(answer, Err(Missing::Failed(why)) if why.starts_with("cannot connect")) {
            return false;
        }
    }
    any
}

/// Records an answer's time under `route`, a timed-out request at the timeout.
pub fn record(
    table: &mut reports::LatencyTable,
    route: &str,
    answer: &Result<Answer, Missing>,
    timeout: Duration,
) {
    match answer {
        Ok(a) => table.record(route, a.elapsed),
        Err(Missing::TimedOut) => table.record(route, timeout),
        Err(Missing::Failed(_)) => {}
    }
}

/// The first transport failure's words, for the "never answered" error.
pub fn first_failure<'a>(answers: impl Iterator<Item = &'a Result<Answer, Missing>>) -> String {
    answers
        .filter_map(|a| match a {
            Err(Missing::Failed(why)) => Some(why.clone()),
            _ => None,
        })
        .next()
        .unwrap_or_default()
}
