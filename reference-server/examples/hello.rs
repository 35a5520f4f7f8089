//! A bare axum hello-world server: the baseline the benchmark compares the reference server against. It
//! answers `GET /` and `POST /` alike (a `POST`'s body unread), so a path can be set against hello-world
//! receiving the very request it receives.
//! Usage: `hello [ADDRESS]` (default 127.0.0.1:0); prints `listening on http://ADDRESS`.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:0")
        .parse()
        .map_err(|error| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("address: {error}"),
            )
        })?;
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let hello = || async { "Hello, World!" };
    let app = Router::new().route("/", get(hello).post(hello));
    axum::serve(listener, app).await
}
