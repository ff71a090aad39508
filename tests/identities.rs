use std::collections::HashMap;

use shrinkcity::config;
use shrinkcity::engine::Clock;
use shrinkcity::experiment::{RunSpec, run_to_memory, world};
use shrinkcity::model::household::{Household, Households};
use shrinkcity::model::housing::{DwellingState, HousingStock};
use shrinkcity::model::resident::HouseholdId;
use shrinkcity::output::Recorder;
use shrinkcity::sim::schedule::year_schedule;

fn spec() -> RunSpec {
    RunSpec {
        seed: 7,
        scale: 0.02,
    }
}

#[test]
fn population_balances_every_year() {
    let (initial, records) = run_to_memory(&config::baseline(), &spec());
    let mut previous = initial;
    for r in &records {
        let s = &r.summary;
        assert_eq!(
            s.population,
            previous + s.births + s.immigrants - s.deaths - s.emigrants,
            "population balance broken in {}",
            s.year
        );
        previous = s.population;
    }
    assert_eq!(records.len(), 21);
}

#[test]
fn drivers_and_age_structure_sum_to_their_totals() {
    let (_, records) = run_to_memory(&config::baseline(), &spec());
    for r in &records {
        let drivers: i64 = r.emigrants_by_driver.0.iter().flatten().sum();
        assert_eq!(drivers, r.summary.emigrants, "{}", r.summary.year);
        let ages: i64 = r.age_structure.iter().flatten().sum();
        assert_eq!(ages, r.summary.population, "{}", r.summary.year);
    }
}

#[test]
fn no_negative_stocks_and_shares_within_bounds() {
    let (_, records) = run_to_memory(&config::baseline(), &spec());
    for r in &records {
        let s = &r.summary;
        for (name, v) in [
            ("population", s.population),
            ("households", s.households),
            ("employed", s.employed),
            ("unemployed", s.unemployed),
            ("dwellings", s.dwellings),
            ("vacant", s.vacant_dwellings),
            ("transactions", s.transactions),
            ("births", s.births),
            ("deaths", s.deaths),
        ] {
            assert!(v >= 0, "{name} negative in {}", s.year);
        }
        for (name, v) in [
            ("share_65plus", s.share_65plus),
            ("unemployment_rate", s.unemployment_rate),
            ("vacancy_rate", s.vacancy_rate),
            ("coal_reserve_share_of_peak", s.coal_reserve_share_of_peak),
        ] {
            assert!((0.0..=1.0).contains(&v), "{name} = {v} in {}", s.year);
        }
        assert!(s.price_per_m2 > 0.0 && s.coal_output_mt >= 0.0);
        assert!(s.vacant_dwellings <= s.dwellings);
    }
}

/// Every household lives in exactly one dwelling that names it as occupant, and no dwelling
/// is occupied by two households — checked at the end of every year.
#[test]
fn every_household_has_one_dwelling_and_none_is_shared() {
    let c = config::baseline();
    let mut w = world(&c, &spec());
    let mut schedule = year_schedule();
    let _ = Recorder::new(&mut w);
    for year in c.run.start_year..=c.run.end_year {
        w.resource_mut::<Clock>().year = year;
        schedule.run(&mut w);
        let homes: Vec<(HouseholdId, Household)> = w
            .resource::<Households>()
            .iter()
            .map(|(i, h)| (i, *h))
            .collect();
        let stock = w.resource::<HousingStock>();
        let mut seen = HashMap::new();
        for (id, hh) in &homes {
            let d = &stock.dwellings[hh.dwelling.0 as usize];
            assert_eq!(
                d.state,
                DwellingState::Occupied,
                "{year}: household {id:?} in a non-occupied dwelling"
            );
            assert_eq!(
                d.occupant,
                Some(*id),
                "{year}: dwelling does not name household {id:?}"
            );
            assert!(
                seen.insert(hh.dwelling, *id).is_none(),
                "{year}: dwelling {:?} shared",
                hh.dwelling
            );
        }
        let occupied = stock
            .dwellings
            .iter()
            .filter(|d| d.state == DwellingState::Occupied)
            .count();
        assert_eq!(
            occupied,
            homes.len(),
            "{year}: occupied dwellings without a household"
        );
    }
}

#[test]
fn the_baseline_city_shrinks_ages_and_its_prices_eventually_fall() {
    let (_, records) = run_to_memory(&config::baseline(), &spec());
    let first = &records[0].summary;
    let last = &records.last().unwrap().summary;
    assert!(last.population < first.population * 9 / 10);
    assert!(last.share_65plus > first.share_65plus + 0.05);
    let peak = records
        .iter()
        .map(|r| r.summary.price_per_m2)
        .fold(0.0, f64::max);
    assert!(
        last.price_per_m2 < peak * 0.9,
        "prices never fall: peak {peak}, last {}",
        last.price_per_m2
    );
    assert!(last.coal_jobs < first.coal_jobs / 2);
}

/// The estate table adds up: standing dwellings over estates are the summary's dwellings,
/// each estate's states add up to its dwellings, sales add up to the transactions, the
/// vacant homes to the summary's within rounding, and demolitions only grow.
#[test]
fn estate_table_adds_up_to_the_summary() {
    let (_, records) = run_to_memory(&config::baseline(), &spec());
    let mut sold_somewhere = 0;
    let mut previous_demolished: Option<Vec<i64>> = None;
    for r in &records {
        let s = &r.summary;
        let e = &r.estates;
        assert!(!e.is_empty());
        assert!(
            e.iter()
                .enumerate()
                .all(|(i, row)| row.estate_id as usize == i)
        );
        let sum = |f: fn(&shrinkcity::output::EstateRow) -> i64| e.iter().map(f).sum::<i64>();
        assert_eq!(sum(|r| r.dwellings), s.dwellings, "dwellings {}", s.year);
        for row in e {
            assert_eq!(
                row.occupied + row.for_sale + row.empty,
                row.dwellings,
                "{} {row:?}",
                s.year
            );
            assert!(row.occupied >= 0 && row.for_sale >= 0 && row.empty >= 0 && row.sales >= 0);
            assert_eq!(
                row.mean_value_per_m2.is_some(),
                row.dwellings > 0,
                "{row:?}"
            );
            if let Some(v) = row.mean_value_per_m2 {
                let expected = s.price_per_m2 * f64::from(row.quality);
                assert!((v - expected).abs() <= 1e-9 * expected, "{v} {expected}");
            }
        }
        assert_eq!(sum(|r| r.sales), s.transactions, "sales {}", s.year);
        assert!(
            (sum(|r| r.for_sale + r.empty) - s.vacant_dwellings).abs() <= 1,
            "vacant {}",
            s.year
        );
        sold_somewhere += sum(|r| r.sales);
        let demolished: Vec<i64> = e.iter().map(|r| r.demolished).collect();
        if let Some(before) = &previous_demolished {
            let (now, then) = (demolished.iter().sum::<i64>(), before.iter().sum::<i64>());
            assert!(now >= then, "demolished fell in {}", s.year);
        }
        previous_demolished = Some(demolished);
    }
    assert!(sold_somewhere > 0);
    assert!(
        previous_demolished.unwrap().iter().sum::<i64>() > 0,
        "the baseline demolishes shanties"
    );
}
