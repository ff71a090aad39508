//! shrinkcity: an agent-based model of a shrinking coal city.
//!
//! Floors, bottom to top (docs/ARCHITECTURE.md; tests/layering.rs checks that imports only
//! go down): `config` reads and validates parameters; `engine` holds what knows no domain
//! (parameters and clock, random streams, parallel helpers, table rows); `model` holds what
//! a resident is and the domains (demography, labour, migration, housing, economy); `sim`
//! builds the world and orders its year; `output` turns a year into records and files;
//! `experiment` steps runs and holds the experiments; `report` draws finished
//! folders as an HTML page of charts; `experiment`, `calibration` and `report` are the
//! library API the command line (in the binary, `src/cli/`) calls with plain options.

pub mod calibration;
pub mod config;
pub mod engine;
pub mod experiment;
pub mod model;
pub mod output;
pub mod report;
pub mod sim;
