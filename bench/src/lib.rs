//! What the load tools share, so each loop and each signer is written once:
//!
//! - [`wire`]: raw HTTP/1.1 requests, one answer read off a blocking keep-alive connection, the
//!   `<length>\n<raw request>` record files of `bench-requests`;
//! - [`openloop`]: the sender core of `bench-latency` and `soak`: connections on OS threads
//!   taking requests from one schedule, at a fixed rate (latency from each request's due time)
//!   or as fast as they can (a closed loop, for capacity);
//! - [`mixes`]: the soak's request cycles per mock, state that lives and dies in each;
//! - [`mocks`]: the running mocks' `--info-file`: URLs, credentials, and Alibaba calls signed
//!   with a fresh nonce and now's date.

pub mod mixes;
pub mod mocks;
pub mod openloop;
pub mod wire;
