//! The web features of docs/web.md through real servers on loopback, on both engines where
//! the feature involves evaluation: safe HTML, static folders, conditional responses,
//! compression, cookies and sessions, uploads, the app's own error pages.

mod web {
    pub mod common;
    mod conditional;
    mod error_pages;
    mod html;
    mod sessions;
    mod static_files;
    mod uploads;
}
