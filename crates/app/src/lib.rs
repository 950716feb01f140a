//! nixweb-app
