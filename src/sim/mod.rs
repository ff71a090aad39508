//! The simulation: building the world from the config, the order of one year (which places
//! every domain's systems), and the invariants a year must keep. No I/O here.

pub mod invariants;
pub mod schedule;
pub mod world;
