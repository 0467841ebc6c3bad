//! The terms every layer speaks: plain values that say what was used, what
//! a budget is and how data is kept. A leaf: it imports nothing else of
//! this crate (a test in `lib.rs` holds it to that), so collect, pricing,
//! the configuration and the store can all name these types without
//! naming each other.
//!
//! - `usage`: [`Usage`], the one normalized shape of token counts.
//! - `billing`: [`Billing`], the modifiers a call reports (fast, service
//!   tier, inference geography).
//! - `budget`: [`Budget`], its [`Period`] and [`Scope`].
//! - `range`: [`Range`], a reader's half-open time range.
//! - `storage`: [`PayloadPolicy`] (`store_payloads`) and [`Durability`].

mod billing;
mod budget;
mod range;
mod storage;
mod usage;

pub use billing::Billing;
pub use budget::{Budget, Period, PlanWindow, Scope};
pub use range::{Range, RangeError};
pub use storage::{Durability, PayloadPolicy, UnknownPayloadPolicy};
pub use usage::Usage;
