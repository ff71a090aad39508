//! shrinkcity: an agent-based model of a shrinking coal city.
//!
//! `config` reads and validates parameters; `sim` builds the world and steps it; `model`
//! holds the domains (demography, labour, migration, housing, economy); `output` turns a
//! year into records and files; `experiment` runs the model; `report` draws finished
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
