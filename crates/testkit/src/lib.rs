//! nixweb-testkit
