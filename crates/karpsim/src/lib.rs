#![forbid(unsafe_code)]
pub mod catalog;
pub mod disruption;
pub mod error;
pub mod io;
pub mod labels;
pub mod model;
pub mod quantity;
pub mod requirements;
pub mod resources;
pub mod scheduling;
pub mod state;
pub mod taints;

pub use error::{Error, Location, Result};
