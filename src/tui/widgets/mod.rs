//! The building blocks the screens and popups share.

pub mod field;
pub mod form;
pub mod popup;
pub mod table;
pub mod text;
