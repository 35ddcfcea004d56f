#![forbid(unsafe_code)]
pub mod error;
pub mod io;
pub mod labels;
pub mod model;
pub mod quantity;
pub mod resources;

pub use error::{Error, Location, Result};
