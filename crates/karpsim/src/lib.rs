#![forbid(unsafe_code)]
pub mod catalog;
pub mod error;
pub mod labels;
pub mod model;
pub mod quantity;
pub mod resources;

pub use error::{Error, Location, Result};
