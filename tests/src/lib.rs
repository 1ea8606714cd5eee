//! Integration tests for authgen.
