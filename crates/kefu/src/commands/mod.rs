//! One module per subcommand.

pub mod admin;
pub mod eval;
pub mod kb;
pub mod migrate;
pub mod serve;
