//! The signals a server answers: SIGTERM and SIGINT (Ctrl-C) stop it after draining,
//! SIGHUP is logged and otherwise ignored.
//!
//! Left to its default action, SIGHUP (a closed terminal, a supervisor asking for a
//! reload) kills the process at once, dropping requests in flight with nothing in the log.
//! nixweb already reloads the app when its files change, so it has nothing to redo on
//! SIGHUP and keeps serving.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// The handlers, installed: from now on these signals no longer have their default action.
pub struct Signals {
    terminate: Signal,
    interrupt: Signal,
    hangup: Signal,
}

impl Signals {
    /// Installs the handlers. Call it early, before anything a signal should not interrupt.
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits until the server is asked to stop; returns the signal's name.
    pub async fn shutdown_requested(&mut self) -> &'static str {
        loop {
            tokio::select! {
                _ = self.terminate.recv() => return "SIGTERM",
                _ = self.interrupt.recv() => return "SIGINT",
                _ = self.hangup.recv() => tracing::info!(
                    target: "nixweb",
                    "SIGHUP received and ignored: nixweb keeps serving (it reloads the app by itself when its files change; SIGTERM stops it)"
                ),
            }
        }
    }
}
