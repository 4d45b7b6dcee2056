//! Weight files (placeholder until implemented).
