//! nixweb-server
