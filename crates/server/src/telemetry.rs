//! Logging: human-readable in development, one JSON object per line with `LOG_FORMAT=json`.

use shared::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

/// Install the global subscriber (once per process; later calls are ignored).
pub fn init(config: &Config) {
    let mut directives = config.rust_log.clone();
    if !directives.contains("actix_http") {
        // actix-http logs every malformed request a client sends (bad header bytes, broken
        // framing) at ERROR; the client already got its 400, and these are not server faults.
        directives.push_str(",actix_http::h1::dispatcher=off");
    }
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let result = match config.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    // Already installed (tests start several servers in one process).
    drop(result);
}
