//! What hookmeter refuses, against the real daemon (SECURITY.md says why):
//! writes and reads from web pages and rebound names (`web`), budget
//! enforcement and hooks over HTTP (`hooks`), and events that must stay
//! distinct or must not be priced at all (`identity`).

mod hooks;
mod identity;
mod web;
