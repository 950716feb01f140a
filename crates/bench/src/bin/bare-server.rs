//! The ceiling: an axum server answering every request with a constant, as fast as this
//! machine can serve HTTP. Prints its address like `nixweb serve` does.

use std::io::Write;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("bare-server listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let app = axum::Router::new().fallback(|| async { "Hello, world!" });
    axum::serve(listener, app).await
}
