//! The columns of a run's yearly tables (`summary`, `age_structure`, `emigration_drivers`,
//! `estates`) and their rows for a year, written through a `table::TableWriter` in either
//! format. docs/DATA.md describes each column.

use std::sync::{Arc, OnceLock};

use super::YearRecord;
use super::record::{EstateRow, SummaryRow, age_band_label, band_bounds, sex_label};
use super::table::{self, Batch, Column, Format, Kind, Schema, TableWriter, words};
use crate::model::migration::{Driver, EMIGRANT_AGE_BANDS};

/// The yearly tables of a run folder, in the order the folder writes them.
pub const STEMS: [&str; 4] = ["summary", "age_structure", "emigration_drivers", "estates"];

/// The header of `estates.csv` (docs/DATA.md).
pub const ESTATES_HEADER: &str = "year,estate_id,quality,build_year,shanty,dwellings,occupied,for_sale,empty,demolished,mean_value_per_m2,sales";

/// `summary`'s columns: `SummaryRow`'s fields in order, whole numbers as `Int`, the others in
/// the csv crate's notation (`Number`), as `summary.csv` has always been written.
pub fn summary_schema() -> &'static Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let (names, fields) = summary_text(&SummaryRow::default());
        Schema::new(
            names
                .iter()
                .zip(&fields)
                .map(|(name, value)| {
                    // A float field prints with a decimal point ("0.0"); an integer without.
                    let kind = if value.contains('.') {
                        Kind::Number
                    } else {
                        Kind::Int
                    };
                    Column::new(name, kind)
                })
                .collect(),
        )
    })
}

/// The header and the fields of a summary row as the csv crate writes them.
fn summary_text(row: &SummaryRow) -> (Vec<String>, Vec<String>) {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(row).expect("a summary row serializes");
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    let mut r = csv::Reader::from_reader(&bytes[..]);
    let header = r.headers().expect("csv written above").clone();
    let record = r
        .records()
        .next()
        .expect("one record")
        .expect("csv written above");
    (
        header.iter().map(String::from).collect(),
        record.iter().map(String::from).collect(),
    )
}

/// The rows of a summary table written in `format`.
pub fn read_summary(path: &std::path::Path, format: Format) -> anyhow::Result<Vec<SummaryRow>> {
    let text = match format {
        Format::Csv => std::fs::read(path)?,
        Format::Parquet => {
            // Back to the CSV text of the same rows: the one place rows are parsed.
            let mut text = Vec::new();
            let mut csv = table::Csv::new(&mut text, summary_schema(), true)?;
            let mut batch = Batch::new(summary_schema());
            for row in table::read_numbers(path)? {
                for (v, c) in row.into_iter().zip(&summary_schema().columns) {
                    match c.kind {
                        Kind::Int => batch.int(v as i64),
                        _ => batch.float(v),
                    };
                }
            }
            csv.write(&batch)?;
            csv.flush()?;
            drop(csv);
            text
        }
    };
    Ok(csv::Reader::from_reader(&text[..])
        .deserialize::<SummaryRow>()
        .collect::<Result<Vec<_>, _>>()?)
}

/// Add a summary row to a batch of `summary_schema`.
pub fn summary_row(batch: &mut Batch, row: &SummaryRow) {
    let (_, fields) = summary_text(row);
    for (field, column) in fields.iter().zip(&summary_schema().columns) {
        match column.kind {
            Kind::Int => batch.int(field.parse().expect("an integer field")),
            _ => batch.float(field.parse().expect("a float field")),
        };
    }
}

/// `age_structure`: year × age band × sex.
pub fn ages_schema() -> &'static Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let bands: Vec<String> = (0..18).map(age_band_label).collect();
        Schema::new(vec![
            Column::new("year", Kind::Int),
            Column::new("age_band", words(&bands)),
            Column::new("age_from", Kind::Int),
            Column::nullable("age_to", Kind::Int),
            Column::new("sex", words(&[sex_label(0), sex_label(1)])),
            Column::new("count", Kind::Int),
        ])
    })
}

/// `emigration_drivers`: year × driver × emigrant age band.
pub fn drivers_schema() -> &'static Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::new(vec![
            Column::new("year", Kind::Int),
            Column::new("driver", words(&Driver::ALL.map(Driver::name))),
            Column::new("age_band", words(&EMIGRANT_AGE_BANDS)),
            Column::new("age_from", Kind::Int),
            Column::nullable("age_to", Kind::Int),
            Column::new("emigrants", Kind::Int),
        ])
    })
}

/// `estates`: year × estate.
pub fn estates_schema() -> &'static Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut columns: Vec<Column> = ESTATES_HEADER
            .split(',')
            .map(|name| Column::new(name, Kind::Int))
            .collect();
        columns[2].kind = Kind::Float32;
        columns[10] = Column::nullable("mean_value_per_m2", Kind::Float);
        Schema::new(columns)
    })
}

/// The schema of each yearly table, in `STEMS` order.
pub fn schemas() -> [&'static Arc<Schema>; 4] {
    [
        summary_schema(),
        ages_schema(),
        drivers_schema(),
        estates_schema(),
    ]
}

/// A year's rows of each yearly table, in `STEMS` order, added to `batches`.
pub fn year_rows(batches: &mut [Batch; 4], r: &YearRecord) {
    summary_row(&mut batches[0], &r.summary);
    age_rows(&mut batches[1], r);
    driver_rows(&mut batches[2], r);
    estate_rows(&mut batches[3], r.summary.year, &r.estates);
}

/// A year's rows of `age_structure`.
pub fn age_rows(batch: &mut Batch, r: &YearRecord) {
    let y = i64::from(r.summary.year);
    for (band, counts) in r.age_structure.iter().enumerate() {
        let (from, to) = band_bounds(&age_band_label(band));
        for (sex, &n) in counts.iter().enumerate() {
            batch
                .int(y)
                .word(band)
                .int(from.into())
                .opt_int(to.map(i64::from))
                .word(sex)
                .int(n);
        }
    }
}

/// A year's rows of `emigration_drivers`.
pub fn driver_rows(batch: &mut Batch, r: &YearRecord) {
    let y = i64::from(r.summary.year);
    let bounds = EMIGRANT_AGE_BANDS.map(band_bounds);
    for (d, (_, bands)) in r.emigrants_by_driver.iter().enumerate() {
        for (b, (&(from, to), &n)) in bounds.iter().zip(bands).enumerate() {
            batch
                .int(y)
                .word(d)
                .word(b)
                .int(from.into())
                .opt_int(to.map(i64::from))
                .int(n);
        }
    }
}

/// Write `batch`, a whole table of `schema`, to the file `path` in `format`.
pub fn write_table(
    path: &std::path::Path,
    format: Format,
    schema: &Arc<Schema>,
    batch: &Batch,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut w = table::create(path, format, schema)?;
    w.write(batch)
        .and_then(|()| w.finish())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A year's rows of `estates`: `shanty` as 0/1, a missing `mean_value_per_m2` for an estate
/// with no standing dwelling.
pub fn estate_rows(batch: &mut Batch, year: i32, rows: &[EstateRow]) {
    for e in rows {
        batch
            .int(year.into())
            .int(e.estate_id.into())
            .float32(e.quality)
            .int(e.build_year.into())
            .int(e.shanty.into())
            .int(e.dwellings)
            .int(e.occupied)
            .int(e.for_sale)
            .int(e.empty)
            .int(e.demolished)
            .opt_float(e.mean_value_per_m2)
            .int(e.sales);
    }
}
