//! kc-console: a keyboard-driven terminal replica of the KakaoCloud console's IAM area.
//!
//! [`console`] is the model — the single authority over every rule; [`store`] is the only
//! module that knows the embedded database; [`cli`] is the scriptable face.

pub mod api;
pub mod cli;
pub mod console;
pub mod demo;
pub mod log;
pub mod org;
pub mod server;
pub mod store;
pub mod text;
pub mod tui;
