//! Integration tests of the evaluation harness, compiled into one binary.

mod banking77;
mod end_to_end;
