//! One way to write a table, in either format. A table's code describes its columns once (a
//! `Schema`) and hands its rows over in `Batch`es; a `TableWriter` puts them in a file: `Csv`
//! as text (a header row, then one line a row), `Parquet` as typed columns, compressed with
//! zstd and written in row groups as batches arrive, so a file is never whole in memory.
//! Also what reads Parquet back (a resumed run, an ensemble carried on, the tests).
//!
//! A Parquet file is readable only once `finish` has written its footer: the staging folder
//! (`staging.rs`) keeps unfinished files out of sight, as it does for CSV.

use anyhow::Context;
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Float32Array, Float64Array, Int32Array, Int64Array,
    RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The file format of every table a command writes (`--format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    #[default]
    Csv,
    Parquet,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// `stem.csv` or `stem.parquet`.
    pub fn file(self, stem: &str) -> String {
        format!("{stem}.{}", self.extension())
    }

    /// The format a file name's extension says.
    pub fn of(name: &str) -> Option<Format> {
        match Path::new(name).extension()?.to_str()? {
            "csv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "csv" => Ok(Format::Csv),
            "parquet" => Ok(Format::Parquet),
            _ => Err(format!("`{s}`: expected csv or parquet")),
        }
    }
}

/// What a column holds, and how each format writes it.
#[derive(Clone, Debug)]
pub enum Kind {
    /// Whole numbers: Parquet INT64; CSV digits.
    Int,
    /// Parquet DOUBLE; CSV as Rust's `{}` prints it (shortest, never an exponent: `0`, `1.5`).
    Float,
    /// Parquet DOUBLE; CSV as the csv crate prints floats (`0.0`, `1.5`, `1e-7`), the notation of
    /// `summary.csv`. A cell given as an integer (`Batch::int`) prints as one in CSV, so a
    /// column of metric values keeps each metric's own notation.
    Number,
    /// Parquet FLOAT; CSV `{}` of the f32.
    Float32,
    /// A share in [0, 1] rounded to three decimals: Parquet DOUBLE (the double the CSV text
    /// parses to); CSV with three decimals (`0.042`).
    Milli,
    /// One of a few words, given as its index in the list: Parquet dictionary-encoded strings
    /// (pandas reads a category); CSV the word.
    Word(Arc<[String]>),
    /// Any text: Parquet strings; CSV quoted when it holds a comma, a quote or a line break.
    Text,
}

/// A column: its name (the CSV header's), what it holds, and whether a cell may be missing
/// (an empty CSV field, a Parquet null).
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    pub nullable: bool,
    /// Integers that are mostly distinct (ids, incomes): Parquet stores them delta-encoded
    /// instead of trying a dictionary that would not pay (it only costs time).
    pub distinct: bool,
    /// Values that zstd cannot shrink once encoded (scattered ids, three-decimal shares,
    /// home values: at most 4% smaller in agent snapshots): Parquet stores them uncompressed,
    /// which saves zstd's time for a few percent of their size.
    pub dense: bool,
}

impl Column {
    pub fn new(name: &str, kind: Kind) -> Column {
        Column {
            name: name.into(),
            kind,
            nullable: false,
            distinct: false,
            dense: false,
        }
    }

    /// Stored uncompressed (`dense`).
    pub fn dense(self) -> Column {
        Column {
            dense: true,
            ..self
        }
    }

    /// Mostly distinct integers (`distinct`).
    pub fn distinct(name: &str, nullable: bool) -> Column {
        Column {
            nullable,
            distinct: true,
            ..Column::new(name, Kind::Int)
        }
    }

    pub fn nullable(name: &str, kind: Kind) -> Column {
        Column {
            nullable: true,
            ..Column::new(name, kind)
        }
    }
}

/// A word list for `Kind::Word`.
pub fn words<S: AsRef<str>>(list: &[S]) -> Kind {
    Kind::Word(list.iter().map(|s| s.as_ref().to_string()).collect())
}

/// A table's columns, in file order.
#[derive(Clone, Debug)]
pub struct Schema {
    pub columns: Vec<Column>,
}

impl Schema {
    pub fn new(columns: Vec<Column>) -> Arc<Schema> {
        Arc::new(Schema { columns })
    }

    /// The CSV header line, newline included.
    pub fn header(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        names.join(",") + "\n"
    }

    /// The Arrow schema the Parquet file holds.
    pub(crate) fn arrow(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| {
                let t = match c.kind {
                    Kind::Int => DataType::Int64,
                    Kind::Float | Kind::Number | Kind::Milli => DataType::Float64,
                    Kind::Float32 => DataType::Float32,
                    Kind::Word(_) => {
                        DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
                    }
                    Kind::Text => DataType::Utf8,
                };
                Field::new(&c.name, t, c.nullable)
            })
            .collect();
        Arc::new(arrow_schema::Schema::new(fields))
    }
}

/// The cells of one column of a batch.
#[derive(Clone, Debug)]
enum Cells {
    Int(Vec<i64>),
    Float(Vec<f64>),
    /// Values, and whether each was given as an integer.
    Number(Vec<f64>, Vec<bool>),
    Float32(Vec<f32>),
    /// Thousandths.
    Milli(Vec<u16>),
    Word(Vec<i32>),
    Text(Vec<String>),
}

#[derive(Clone, Debug)]
struct ColumnCells {
    cells: Cells,
    /// For a nullable column: whether each cell is present.
    valid: Option<Vec<bool>>,
}

/// Rows on their way to a file, held by column. Cells are given row by row, in column
/// order: `batch.int(year).word(band).int(count)` fills one row of a three-column table.
#[derive(Clone, Debug)]
pub struct Batch {
    schema: Arc<Schema>,
    columns: Vec<ColumnCells>,
    /// The column the next cell goes to.
    next: usize,
    rows: usize,
}

impl Batch {
    pub fn new(schema: &Arc<Schema>) -> Batch {
        let columns = schema
            .columns
            .iter()
            .map(|c| ColumnCells {
                cells: match c.kind {
                    Kind::Int => Cells::Int(Vec::new()),
                    Kind::Float => Cells::Float(Vec::new()),
                    Kind::Number => Cells::Number(Vec::new(), Vec::new()),
                    Kind::Float32 => Cells::Float32(Vec::new()),
                    Kind::Milli => Cells::Milli(Vec::new()),
                    Kind::Word(_) => Cells::Word(Vec::new()),
                    Kind::Text => Cells::Text(Vec::new()),
                },
                valid: c.nullable.then(Vec::new),
            })
            .collect();
        Batch {
            schema: schema.clone(),
            columns,
            next: 0,
            rows: 0,
        }
    }

    /// Whole rows held.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Forget every row, keeping the memory.
    pub fn clear(&mut self) {
        for c in &mut self.columns {
            match &mut c.cells {
                Cells::Int(v) => v.clear(),
                Cells::Float(v) => v.clear(),
                Cells::Number(v, i) => {
                    v.clear();
                    i.clear();
                }
                Cells::Float32(v) => v.clear(),
                Cells::Milli(v) => v.clear(),
                Cells::Word(v) => v.clear(),
                Cells::Text(v) => v.clear(),
            }
            if let Some(v) = &mut c.valid {
                v.clear();
            }
        }
        self.next = 0;
        self.rows = 0;
    }

    /// The column the next cell goes to, marked present or missing; moves on.
    fn cell(&mut self, present: bool) -> &mut Cells {
        let i = self.next;
        self.next += 1;
        if self.next == self.columns.len() {
            self.next = 0;
            self.rows += 1;
        }
        let c = &mut self.columns[i];
        match &mut c.valid {
            Some(v) => v.push(present),
            None => assert!(
                present,
                "column {} is not nullable",
                self.schema.columns[i].name
            ),
        }
        &mut c.cells
    }

    /// An integer (an `Int` column; a `Number` or `Float` column takes it as a number).
    pub fn int(&mut self, v: i64) -> &mut Self {
        match self.cell(true) {
            Cells::Int(c) => c.push(v),
            Cells::Number(c, int) => {
                c.push(v as f64);
                int.push(true);
            }
            Cells::Float(c) => c.push(v as f64),
            _ => panic!("not an integer column"),
        }
        self
    }

    /// A number (a `Float` or `Number` column).
    pub fn float(&mut self, v: f64) -> &mut Self {
        match self.cell(true) {
            Cells::Float(c) => c.push(v),
            Cells::Number(c, int) => {
                c.push(v);
                int.push(false);
            }
            _ => panic!("not a float column"),
        }
        self
    }

    pub fn float32(&mut self, v: f32) -> &mut Self {
        match self.cell(true) {
            Cells::Float32(c) => c.push(v),
            _ => panic!("not a float32 column"),
        }
        self
    }

    /// A share in [0, 1], kept to three decimals.
    pub fn milli(&mut self, x: f32) -> &mut Self {
        let k = thousandths(x);
        match self.cell(true) {
            Cells::Milli(c) => c.push(k),
            _ => panic!("not a milli column"),
        }
        self
    }

    /// The word at `index` of the column's list.
    pub fn word(&mut self, index: usize) -> &mut Self {
        match self.cell(true) {
            Cells::Word(c) => c.push(index as i32),
            _ => panic!("not a word column"),
        }
        self
    }

    pub fn text(&mut self, v: &str) -> &mut Self {
        match self.cell(true) {
            Cells::Text(c) => c.push(v.to_string()),
            _ => panic!("not a text column"),
        }
        self
    }

    /// A missing cell (a nullable column).
    pub fn null(&mut self) -> &mut Self {
        match self.cell(false) {
            Cells::Int(c) => c.push(0),
            Cells::Float(c) => c.push(0.0),
            Cells::Number(c, int) => {
                c.push(0.0);
                int.push(false);
            }
            Cells::Float32(c) => c.push(0.0),
            Cells::Milli(c) => c.push(0),
            Cells::Word(c) => c.push(0),
            Cells::Text(c) => c.push(String::new()),
        }
        self
    }

    pub fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    pub fn opt_float(&mut self, v: Option<f64>) -> &mut Self {
        match v {
            Some(v) => self.float(v),
            None => self.null(),
        }
    }

    /// Add row `r` of `from`, a batch of the same schema.
    pub fn push_row(&mut self, from: &Batch, r: usize) {
        for c in &from.columns {
            if c.valid.as_ref().is_some_and(|v| !v[r]) {
                self.null();
                continue;
            }
            match &c.cells {
                Cells::Int(v) => self.int(v[r]),
                Cells::Float(v) => self.float(v[r]),
                Cells::Number(v, int) if int[r] => self.int(v[r] as i64),
                Cells::Number(v, _) => self.float(v[r]),
                Cells::Float32(v) => self.float32(v[r]),
                Cells::Milli(v) => self.milli(f32::from(v[r]) / 1000.0),
                Cells::Word(v) => self.word(v[r] as usize),
                Cells::Text(v) => self.text(&v[r]),
            };
        }
    }

    /// The integer in column `c` of row `r` (an `Int` column).
    pub fn int_at(&self, c: usize, r: usize) -> i64 {
        match &self.columns[c].cells {
            Cells::Int(v) => v[r],
            _ => panic!("not an integer column"),
        }
    }

    /// The batch as an Arrow record batch of `schema` (`Schema::arrow`).
    fn to_arrow(&self, schema: &SchemaRef) -> anyhow::Result<RecordBatch> {
        anyhow::ensure!(self.next == 0, "a batch ends in the middle of a row");
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .zip(&self.schema.columns)
            .map(|(c, col)| -> anyhow::Result<ArrayRef> {
                let nulls = c.valid.clone().map(arrow_buffer_nulls);
                Ok(match &c.cells {
                    Cells::Int(v) => Arc::new(Int64Array::new(v.clone().into(), nulls)),
                    Cells::Float(v) | Cells::Number(v, _) => {
                        Arc::new(Float64Array::new(v.clone().into(), nulls))
                    }
                    Cells::Float32(v) => Arc::new(Float32Array::new(v.clone().into(), nulls)),
                    Cells::Milli(v) => Arc::new(Float64Array::new(
                        v.iter().map(|&k| f64::from(k) / 1000.0).collect(),
                        nulls,
                    )),
                    Cells::Word(v) => {
                        let Kind::Word(list) = &col.kind else {
                            unreachable!("word cells in a word column")
                        };
                        let keys = Int32Array::new(v.clone().into(), nulls);
                        let values = StringArray::from_iter_values(list.iter());
                        Arc::new(DictionaryArray::<Int32Type>::try_new(
                            keys,
                            Arc::new(values),
                        )?)
                    }
                    Cells::Text(v) => Arc::new(match &c.valid {
                        Some(valid) => StringArray::from_iter(
                            v.iter().zip(valid).map(|(s, &ok)| ok.then_some(s.as_str())),
                        ),
                        None => StringArray::from_iter_values(v.iter()),
                    }),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(RecordBatch::try_new(schema.clone(), arrays)?)
    }
}

/// A share in [0, 1] as the thousandths a `Milli` cell keeps.
pub(crate) fn thousandths(x: f32) -> u16 {
    (f64::from(x.clamp(0.0, 1.0)) * 1000.0).round() as u16
}

fn arrow_buffer_nulls(valid: Vec<bool>) -> arrow_buffer::NullBuffer {
    valid.into()
}

/// Where a table's batches go: a CSV or a Parquet file (`writer`).
pub trait TableWriter: Send {
    /// Append the batch's rows.
    fn write(&mut self, batch: &Batch) -> anyhow::Result<()>;
    /// CSV: push the rows written so far to the file. Parquet: nothing (a Parquet file is
    /// readable only once finished).
    fn flush(&mut self) -> anyhow::Result<()>;
    /// Rows written so far.
    fn rows(&self) -> u64;
    /// Write what is left (Parquet: the last row group and the footer).
    fn finish(self: Box<Self>) -> anyhow::Result<()>;
}

/// A writer of `format` for a table of `schema` into `out`; a CSV gets its header row.
pub fn writer<'a, W: Write + Send + 'a>(
    out: W,
    format: Format,
    schema: &Arc<Schema>,
) -> anyhow::Result<Box<dyn TableWriter + 'a>> {
    Ok(match format {
        Format::Csv => Box::new(Csv::new(out, schema, true)?),
        Format::Parquet => Box::new(Parquet::new(out, schema)?),
    })
}

/// Create the file `path` and a writer of `format` into it.
pub fn create(
    path: &Path,
    format: Format,
    schema: &Arc<Schema>,
) -> anyhow::Result<Box<dyn TableWriter>> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    writer(
        std::io::BufWriter::with_capacity(1 << 16, file),
        format,
        schema,
    )
}

/// CSV text, as `pandas.read_csv` and R's `read.csv` take it.
pub struct Csv<W: Write> {
    out: W,
    /// Text not yet written out.
    text: Vec<u8>,
    rows: u64,
}

impl<W: Write> Csv<W> {
    /// A CSV writer, with the header row first if `header` (not when appending to a table).
    pub fn new(mut out: W, schema: &Schema, header: bool) -> std::io::Result<Self> {
        if header {
            out.write_all(schema.header().as_bytes())?;
        }
        Ok(Csv {
            out,
            text: Vec::with_capacity(1 << 17),
            rows: 0,
        })
    }
}

/// A text field as the csv crate writes it: quoted, quotes doubled, when it holds a comma, a
/// quote or a line break.
fn csv_text(text: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        text.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                text.push(b'"');
            }
            text.push(b);
        }
        text.push(b'"');
    } else {
        text.extend_from_slice(s.as_bytes());
    }
}

/// Thousandths as a number with three decimals ("0.042", "1.000").
pub(crate) fn csv_milli(text: &mut Vec<u8>, k: u16) {
    text.extend_from_slice(if k >= 1000 { b"1." } else { b"0." });
    let k = k % 1000;
    text.extend_from_slice(&[
        b'0' + (k / 100) as u8,
        b'0' + (k / 10 % 10) as u8,
        b'0' + (k % 10) as u8,
    ]);
}

impl<W: Write + Send> TableWriter for Csv<W> {
    fn write(&mut self, batch: &Batch) -> anyhow::Result<()> {
        anyhow::ensure!(batch.next == 0, "a batch ends in the middle of a row");
        let mut int = itoa::Buffer::new();
        let mut float = ryu::Buffer::new();
        let text = &mut self.text;
        for r in 0..batch.rows {
            for (i, (c, col)) in batch.columns.iter().zip(&batch.schema.columns).enumerate() {
                if i > 0 {
                    text.push(b',');
                }
                if c.valid.as_ref().is_some_and(|v| !v[r]) {
                    continue;
                }
                match &c.cells {
                    Cells::Int(v) => text.extend_from_slice(int.format(v[r]).as_bytes()),
                    Cells::Float(v) => {
                        write!(text, "{}", v[r])?;
                    }
                    Cells::Number(v, is_int) => {
                        if is_int[r] {
                            text.extend_from_slice(int.format(v[r] as i64).as_bytes());
                        } else {
                            text.extend_from_slice(float.format(v[r]).as_bytes());
                        }
                    }
                    Cells::Float32(v) => {
                        write!(text, "{}", v[r])?;
                    }
                    Cells::Milli(v) => csv_milli(text, v[r]),
                    Cells::Word(v) => {
                        let Kind::Word(list) = &col.kind else {
                            unreachable!("word cells in a word column")
                        };
                        text.extend_from_slice(list[v[r] as usize].as_bytes());
                    }
                    Cells::Text(v) => csv_text(text, &v[r]),
                }
            }
            text.push(b'\n');
            if text.len() >= 1 << 16 {
                self.out.write_all(text)?;
                text.clear();
            }
        }
        self.rows += batch.rows as u64;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.out.write_all(&self.text)?;
        self.text.clear();
        self.out.flush()?;
        Ok(())
    }

    fn rows(&self) -> u64 {
        self.rows
    }

    fn finish(mut self: Box<Self>) -> anyhow::Result<()> {
        self.flush()
    }
}

/// Rows a Parquet row group holds at most: a year of a full-scale city's agents is some
/// eight row groups, each written out as it fills.
pub const ROW_GROUP_ROWS: usize = 1 << 17;

/// Parquet: typed columns, zstd, row groups of at most `ROW_GROUP_ROWS` rows.
pub struct Parquet<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    rows: u64,
}

impl<W: Write + Send> Parquet<W> {
    pub fn new(out: W, schema: &Schema) -> anyhow::Result<Self> {
        Self::with_arrow_schema(out, schema.arrow(), schema)
    }

    /// A writer of `table`'s columns, with `schema` the Arrow schema of the file (as an
    /// earlier file of the table holds it).
    fn with_arrow_schema(out: W, schema: SchemaRef, table: &Schema) -> anyhow::Result<Self> {
        // zstd's fastest level and statistics per column chunk only (not per page), none for
        // words (comparing strings row by row cost a fifth of a snapshot's encoding, and
        // min/max of a few words selects nothing): agent snapshots are encoded while the run
        // goes on (docs/PERFORMANCE.md).
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
        for c in &table.columns {
            let name = || c.name.as_str().into();
            if c.distinct {
                props = props
                    .set_column_dictionary_enabled(name(), false)
                    .set_column_encoding(name(), Encoding::DELTA_BINARY_PACKED);
            }
            if c.dense {
                props = props.set_column_compression(name(), Compression::UNCOMPRESSED);
            }
            if matches!(c.kind, Kind::Word(_)) {
                props = props.set_column_statistics_enabled(name(), EnabledStatistics::None);
            }
        }
        let props = props.build();
        Ok(Parquet {
            writer: ArrowWriter::try_new(out, schema.clone(), Some(props))?,
            schema,
            rows: 0,
        })
    }

    /// Append an Arrow batch of the file's schema (rows read from another file of the same
    /// table, or a batch built straight from a table's own columns).
    pub(crate) fn write_arrow(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        self.writer.write(batch)?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }
}

impl<W: Write + Send> TableWriter for Parquet<W> {
    fn write(&mut self, batch: &Batch) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let b = batch.to_arrow(&self.schema)?;
        self.write_arrow(&b)
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn rows(&self) -> u64 {
        self.rows
    }

    fn finish(self: Box<Self>) -> anyhow::Result<()> {
        let mut out = self.writer.into_inner()?;
        out.flush()?;
        Ok(())
    }
}

/// The record batches of a Parquet file, in order.
pub fn read_parquet(path: &Path) -> anyhow::Result<Vec<RecordBatch>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a Parquet file", path.display()))?
        .build()?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot read {}", path.display()))
}

/// Create `to`, a Parquet file holding the first `rows` rows of the Parquet file `from`
/// (a resumed run's tables, cut back to its checkpoint), and a writer to append the rest.
pub fn copy_parquet_rows(
    from: &Path,
    to: &Path,
    rows: u64,
    table: &Schema,
) -> anyhow::Result<Box<dyn TableWriter>> {
    let file =
        std::fs::File::open(from).with_context(|| format!("cannot read {}", from.display()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a Parquet file", from.display()))?;
    let schema = builder.schema().clone();
    let out =
        std::fs::File::create(to).with_context(|| format!("cannot create {}", to.display()))?;
    let mut w = Parquet::with_arrow_schema(
        std::io::BufWriter::with_capacity(1 << 16, out),
        schema,
        table,
    )?;
    let mut left = rows;
    for b in builder.build()? {
        let b = b?;
        let n = (b.num_rows() as u64).min(left);
        w.write_arrow(&b.slice(0, n as usize))?;
        left -= n;
        if left == 0 {
            break;
        }
    }
    anyhow::ensure!(
        left == 0,
        "{} holds fewer rows than its checkpoint expects: the folder was changed",
        from.display()
    );
    Ok(Box::new(w))
}

/// A Parquet file written with `schema`, read back into one batch (a sweep's results carried
/// on or merged).
pub fn read_batch(path: &Path, schema: &Arc<Schema>) -> anyhow::Result<Batch> {
    let bad = || format!("{} does not hold the columns expected", path.display());
    let mut batch = Batch::new(schema);
    for b in read_parquet(path)? {
        anyhow::ensure!(b.num_columns() == schema.columns.len(), bad());
        for r in 0..b.num_rows() {
            for (a, col) in b.columns().iter().zip(&schema.columns) {
                if a.is_null(r) {
                    batch.null();
                    continue;
                }
                let any = a.as_any();
                match &col.kind {
                    Kind::Int => {
                        let x = any.downcast_ref::<Int64Array>().with_context(bad)?;
                        batch.int(x.value(r))
                    }
                    Kind::Float | Kind::Number | Kind::Milli => {
                        let x = any.downcast_ref::<Float64Array>().with_context(bad)?;
                        if matches!(col.kind, Kind::Milli) {
                            batch.milli(x.value(r) as f32)
                        } else {
                            batch.float(x.value(r))
                        }
                    }
                    Kind::Float32 => {
                        let x = any.downcast_ref::<Float32Array>().with_context(bad)?;
                        batch.float32(x.value(r))
                    }
                    Kind::Word(list) => {
                        let x = any
                            .downcast_ref::<DictionaryArray<Int32Type>>()
                            .with_context(bad)?;
                        let values = x
                            .values()
                            .as_any()
                            .downcast_ref::<StringArray>()
                            .with_context(bad)?;
                        let word = values.value(x.keys().value(r) as usize);
                        let i = list.iter().position(|w| w == word).with_context(bad)?;
                        batch.word(i)
                    }
                    Kind::Text => {
                        let x = any.downcast_ref::<StringArray>().with_context(bad)?;
                        batch.text(x.value(r))
                    }
                };
            }
        }
    }
    Ok(batch)
}

/// Every cell of a Parquet file's numeric columns as f64, by row (missing cells NaN).
pub fn read_numbers(path: &Path) -> anyhow::Result<Vec<Vec<f64>>> {
    let mut rows = Vec::new();
    for b in read_parquet(path)? {
        let columns: Vec<Vec<f64>> = b
            .columns()
            .iter()
            .map(|a| -> anyhow::Result<Vec<f64>> {
                let any = a.as_any();
                let value = |i: usize, v: f64| if a.is_null(i) { f64::NAN } else { v };
                if let Some(x) = any.downcast_ref::<Int64Array>() {
                    Ok((0..x.len()).map(|i| value(i, x.value(i) as f64)).collect())
                } else if let Some(x) = any.downcast_ref::<Float64Array>() {
                    Ok((0..x.len()).map(|i| value(i, x.value(i))).collect())
                } else if let Some(x) = any.downcast_ref::<Float32Array>() {
                    Ok((0..x.len())
                        .map(|i| value(i, f64::from(x.value(i))))
                        .collect())
                } else {
                    anyhow::bail!("{}: a column is not numeric", path.display())
                }
            })
            .collect::<anyhow::Result<_>>()?;
        for r in 0..b.num_rows() {
            rows.push(columns.iter().map(|c| c[r]).collect());
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milli_cells_print_as_three_decimal_formatting_and_store_the_double_it_parses_to() {
        let schema = Schema::new(vec![Column::new("x", Kind::Milli)]);
        for x in [0.0f32, 0.0004, 0.042, 0.5, 0.9994, 0.9996, 1.0, 0.123_456] {
            let mut b = Batch::new(&schema);
            b.milli(x);
            let mut text = Vec::new();
            let mut csv = Csv::new(&mut text, &schema, false).unwrap();
            csv.write(&b).unwrap();
            csv.flush().unwrap();
            drop(csv);
            let text = String::from_utf8(text).unwrap();
            assert_eq!(text.trim_end(), format!("{x:.3}"), "{x}");
            let arrow = b.to_arrow(&schema.arrow()).unwrap();
            let stored = arrow
                .column(0)
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap()
                .value(0);
            assert_eq!(stored, text.trim_end().parse::<f64>().unwrap(), "{x}");
        }
    }

    #[test]
    fn text_cells_are_quoted_as_the_csv_crate_quotes_them() {
        let schema = Schema::new(vec![
            Column::new("a", Kind::Text),
            Column::new("b", Kind::Int),
        ]);
        let mut b = Batch::new(&schema);
        for s in ["plain", "[[2015, 3]]", "say \"hi\"", ""] {
            b.text(s).int(1);
        }
        let mut ours = Vec::new();
        let mut csv = Csv::new(&mut ours, &schema, true).unwrap();
        csv.write(&b).unwrap();
        csv.flush().unwrap();
        drop(csv);
        let mut theirs = csv::Writer::from_writer(Vec::new());
        theirs.write_record(["a", "b"]).unwrap();
        for s in ["plain", "[[2015, 3]]", "say \"hi\"", ""] {
            theirs.write_record([s, "1"]).unwrap();
        }
        assert_eq!(ours, theirs.into_inner().unwrap());
    }
}
