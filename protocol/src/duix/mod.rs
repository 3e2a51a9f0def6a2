//! DUIX (硅基智能) openapi-v2: the HS256 token and the platform's error catalog.
//!
//! - [`jwt`]: the token customers make from their appId and appKey (PROTOCOLS.md §5.1), sent as
//!   the `token` header on management calls and as `sig` to `checkSig`;
//! - [`errors`]: the business codes of seed 003, carried in the `{code, message, data, success}`
//!   envelope.
//!
//! The main items are re-exported here: `protocol::duix::sign_token`, `protocol::duix::DuixError`.

pub mod errors;
pub mod jwt;

pub use errors::DuixError;
pub use jwt::{
    peek_app_id, read_token, sign_token, verify_token, Claims, JwtError, UnverifiedToken,
};
