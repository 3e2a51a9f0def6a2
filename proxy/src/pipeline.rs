//! Where finished exchanges go: a bounded queue to judge threads, off the request path. Each
//! exchange is judged ([`crate::judge`]), counted ([`crate::tally`]) and, with `--record`,
//! written as a fixture ([`crate::record`]).
//!
//! An answer read whole waits for room in the queue before it goes to the client (backpressure:
//! a judge that falls behind slows the proxy rather than skipping exchanges); a streamed answer
//! can only offer its exchange when the stream ends, and one the full queue cannot take counts
//! as unjudged, which the live page and the reports say.

use crate::exchange::Exchange;
use crate::forward::Sink;
use crate::judge::Judge;
use crate::record::Recorder;
use crate::tally::Tally;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Exchanges waiting for a judge, at most.
const QUEUE: usize = 4096;
/// Judge threads.
const JUDGES: usize = 2;

enum Message {
    Exchange(Box<Exchange>),
    Stop,
}

/// The sending side, cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    tx: mpsc::Sender<Message>,
    tally: Arc<Tally>,
}

impl Pipeline {
    /// Hands over an exchange, waiting for room in the queue.
    pub async fn deliver(&self, exchange: Exchange) {
        if self
            .tx
            .send(Message::Exchange(Box::new(exchange)))
            .await
            .is_err()
        {
            self.tally.unjudged();
        }
    }

    /// A sink for streamed answers: takes the exchange if there is room.
    pub fn sink(&self) -> Sink {
        let tx = self.tx.clone();
        let tally = self.tally.clone();
        Arc::new(move |exchange| {
            let taken = tx.try_send(Message::Exchange(Box::new(exchange))).is_ok();
            if !taken {
                tally.unjudged();
            }
            taken
        })
    }
}

/// The judge threads.
pub struct Judges {
    tx: mpsc::Sender<Message>,
    threads: Vec<std::thread::JoinHandle<()>>,
    recorder: Option<Arc<Mutex<Recorder>>>,
}

/// Starts the judge threads; `secrets` are masked in whatever they keep or write.
pub fn start(
    judge: Judge,
    tally: Arc<Tally>,
    recorder: Option<Recorder>,
    secrets: Vec<String>,
) -> (Pipeline, Judges) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    let recorder = recorder.map(|r| Arc::new(Mutex::new(r)));
    let secrets = Arc::new(secrets);
    let threads = (0..JUDGES)
        .map(|index| {
            let rx = rx.clone();
            let judge = judge.clone();
            let tally = tally.clone();
            let recorder = recorder.clone();
            let secrets = secrets.clone();
            std::thread::Builder::new()
                .name(format!("proxy-judge-{index}"))
                .spawn(move || loop {
                    let next = rx.lock().unwrap_or_else(|e| e.into_inner()).blocking_recv();
                    let Some(Message::Exchange(exchange)) = next else {
                        break;
                    };
                    let verdict = judge.judge(&exchange);
                    tally.record(&exchange, &verdict, &secrets);
                    if let Some(recorder) = &recorder {
                        let fixture =
                            exchange.fixture(&verdict.route, verdict.for_fixture(), &secrets);
                        recorder
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .write(&fixture);
                    }
                })
                .expect("a judge thread starts")
        })
        .collect();
    let pipeline = Pipeline {
        tx: tx.clone(),
        tally,
    };
    (
        pipeline,
        Judges {
            tx,
            threads,
            recorder,
        },
    )
}

impl Judges {
    /// Judges what is queued, stops the threads, closes the recording; how many fixtures it
    /// holds, or why it could not be written.
    pub async fn stop(self) -> std::io::Result<u64> {
        for _ in &self.threads {
            let _ = self.tx.send(Message::Stop).await;
        }
        let threads = self.threads;
        tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await
        .map_err(std::io::Error::other)?;
        match self.recorder {
            Some(recorder) => recorder.lock().unwrap_or_else(|e| e.into_inner()).finish(),
            None => Ok(0),
        }
    }
}
