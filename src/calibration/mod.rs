//! Calibration against the article's figures: `targets` compares runs to them, `calibrate`
//! searches parameters to meet them.

pub mod api;
pub mod calibrate;
pub mod targets;

pub use api::{
    CalibrateOptions, CalibrateOutcome, TargetsOptions, TargetsOutcome, calibrate, targets,
};
pub use calibrate::{Calibration, Evaluation, Outcome};
pub use targets::{Parameter, Run, Targets};
