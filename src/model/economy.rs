//! Economy: local retail sales from households' incomes plus a housing-wealth effect (owners
//! spend a yearly share of their home's value, so a fall in value cuts spending by that
//! share of the loss), as an index with the first year 100.
//! Services jobs follow real spending through `Economy::spending_ratio`.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::Params;
use crate::engine::par::par_parts;
use crate::model::household::{HouseholdTable, Households, Tenure};
use crate::model::housing::HousingMarket;
use crate::model::labour::LabourMarket;

#[derive(Resource, Clone, Debug, Default, Serialize, Deserialize)]
pub struct Economy {
    /// This year's retail sales (yuan per agent-scale city).
    pub retail_sales: f64,
    /// The first year's retail sales, deflated to the base year's wage level.
    pub base_real_sales: Option<f64>,
    pub real_sales: f64,
}

impl Economy {
    /// Real retail sales relative to the first year (1 before the first year is measured).
    pub fn spending_ratio(&self) -> f64 {
        self.base_real_sales
            .map_or(1.0, |b| self.real_sales / b.max(1e-9))
    }

    pub fn index(&self, base_nominal: f64) -> f64 {
        100.0 * self.retail_sales / base_nominal.max(1e-9)
    }
}

/// Retail sales of one household: base consumption (scaled by wages), a share of income,
/// and, for owners, a yearly share of the home's value (the marginal propensity to consume
/// out of housing wealth: a fall of ΔV in value cuts spending by `wealth_propensity` × ΔV).
pub fn household_spending(
    e: &crate::config::EconomyConfig,
    wage_index: f64,
    income: f64,
    home_value: f64,
) -> f64 {
    e.base_consumption * wage_index
        + e.income_propensity * income
        + e.wealth_propensity * home_value
}

pub fn measure_retail_sales(
    params: Res<Params>,
    table: Res<HouseholdTable>,
    labour: Res<LabourMarket>,
    market: Res<HousingMarket>,
    mut economy: ResMut<Economy>,
    households: Res<Households>,
) {
    let price = market.price_per_m2;
    // Each household's spending is worked out split across threads; the sum is then taken
    // serially in household-id order, so it is the same whatever the thread count (the lookups
    // are the costly part; the adds are few).
    let spending = par_parts(households.slots(), |first, part| {
        let mut spent = Vec::with_capacity(part.len());
        for (j, h) in part.iter().enumerate() {
            let Some(h) = h else { continue };
            let wealth = if h.tenure == Tenure::Owner {
                h.home_value(price)
            } else {
                0.0
            };
            spent.push(household_spending(
                &params.economy,
                labour.wage_index,
                f64::from(table.0[first + j].income_yuan),
                wealth,
            ));
        }
        spent
    });
    let total: f64 = spending.iter().flatten().sum();
    economy.retail_sales = total;
    economy.real_sales = total / labour.wage_index;
    let real = economy.real_sales;
    economy.base_real_sales.get_or_insert(real);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fall_in_home_value_cuts_spending_by_the_propensity_times_the_loss() {
        let e = crate::config::baseline().economy;
        let before = household_spending(&e, 1.0, 60_000.0, 600_000.0);
        let after = household_spending(&e, 1.0, 60_000.0, 500_000.0);
        assert!((before - after - e.wealth_propensity * 100_000.0).abs() < 1e-6);
        // Spending stays lower while the price stays low: a level, not a one-off change.
        assert_eq!(after, household_spending(&e, 1.0, 60_000.0, 500_000.0));
        assert!(household_spending(&e, 1.0, 0.0, 0.0) > 0.0);
    }
}
