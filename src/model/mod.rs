//! The model: what a resident is (`resident`), the typed hand-offs between domains
//! (`handoff`), this year's flows (`tally`), and one module per domain. Each domain holds its
//! resources, its pure rules (plain functions with no ECS types, where the equations live and
//! most unit tests point) and the systems it exports; `sim::schedule` places them in the year.

pub mod demography;
pub mod economy;
pub mod handoff;
pub mod household;
pub mod housing;
pub mod labour;
pub mod migration;
pub mod resident;
pub mod tally;
