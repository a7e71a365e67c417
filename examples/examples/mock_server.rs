//! Runs the Opper-compatible mock server on its own, for clients in any language.
//!
//! ```text
//! cargo run --example mock_server -- 127.0.0.1:8080
//! ```
//!
//! Prints `opper mock server listening on http://ADDR` and serves until Ctrl-C. With no
//! address it listens on `127.0.0.1:8080`; port 0 picks a free port. Set `OPPER_MOCK_API_KEY`
//! to require that bearer key (by default any key is accepted). Point a client at it with
//! `OPPER_BASE_URL=http://ADDR`.

use opper::testing::MockServer;

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let server = match MockServer::bind(addr.as_str()).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("opper mock server: cannot listen on {addr}: {error}");
            std::process::exit(1);
        }
    };
    if let Some(key) = std::env::var("OPPER_MOCK_API_KEY")
        .ok()
        .filter(|key| !key.is_empty())
    {
        server.require_api_key(key);
    }
    println!("opper mock server listening on {}", server.url());
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("opper mock server: cannot wait for Ctrl-C: {error}");
        std::future::pending::<()>().await;
    }
    server.shutdown().await;
}
