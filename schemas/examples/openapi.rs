//! Prints one OpenAPI 3.1 document as JSON.
//!
//! ```text
//! cargo run -p schemas --example openapi -- aui > aui.openapi.json
//! ```
//! Documents: aui, duix, duix-webhook.

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "aui".to_owned());
    let Some(document) = schemas::openapi::openapi(&name) else {
        eprintln!(
            "unknown document {name:?}; one of: {}",
            schemas::openapi::DOCUMENTS.join(", ")
        );
        std::process::exit(2);
    };
    println!("{}", serde_json::to_string_pretty(&document).expect("JSON"));
}
