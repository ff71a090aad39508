//! The model: one module per domain. Each holds its components, its pure rules (plain
//! functions with no ECS types, where the equations live and most unit tests point) and thin
//! systems that query, call the rules and write their own components.

pub mod demography;
pub mod economy;
pub mod household;
pub mod housing;
pub mod labour;
pub mod migration;
