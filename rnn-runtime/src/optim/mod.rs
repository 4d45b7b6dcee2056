//! Optimizers (placeholder until implemented).
