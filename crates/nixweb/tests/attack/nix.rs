//! Attack cases: see attack.rs.
