//! The simulation engine: the world's shared resources, world set-up, the order of one
//! year, and the seeded random streams. No I/O here.

pub mod invariants;
pub mod rng;
pub mod schedule;
pub mod world;

use bevy_ecs::change_detection::ContiguousMut;
use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Deref;

use crate::config::Config;
use crate::model::demography::{AgentId, Person};
use crate::model::household::{HouseholdSummary, Member};
use crate::model::labour::Work;
use crate::model::migration::Traits;
use crate::sim::world::Resident;

/// The validated config, read-only during a run.
#[derive(Resource, Clone, Debug)]
pub struct Params(pub Config);

impl Deref for Params {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.0
    }
}

/// Where the run is in time, and what it stands for.
#[derive(Resource, Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Clock {
    pub year: i32,
    pub start_year: i32,
    pub seed: u64,
    /// Agents per real person (`--scale`).
    pub scale: f64,
}

impl Clock {
    pub fn years_since_start(&self) -> i32 {
        self.year - self.start_year
    }
}

/// Residents who left the city this step (died, or emigrated) whose rows wait for the step's
/// newcomers: a newcomer written over a departed resident's row costs a few writes, where a
/// despawn and a spawn cost ~0.55 and ~0.18 µs of bevy bookkeeping and cache misses (perf, full
/// scale). ~224,000 of a full run's ~617,000 departures are taken over by newborns and
/// arrivals. Until then the departed are still entities with their old components, so only
/// systems that do not query residents may run in between (code that must tell them apart asks
/// `has_left`). Placing moves survivors' rows to other entities, so no `Entity` is held across
/// a placement: `AgentId` is who a resident is. `place_newcomers` empties it.
#[derive(Resource, Clone, Debug, Default)]
pub struct Departed {
    /// Sorted by agent id.
    rows: Vec<(AgentId, Entity)>,
}

impl Departed {
    /// Note residents who left; `left` must be sorted by agent id.
    pub fn leave(&mut self, left: Vec<(AgentId, Entity)>) {
        debug_assert!(left.windows(2).all(|w| w[0].0 < w[1].0));
        debug_assert!(
            self.rows.is_empty(),
            "a step's departures were never placed"
        );
        self.rows = left;
    }

    pub fn has_left(&self, id: AgentId) -> bool {
        self.rows.binary_search_by_key(&id, |r| r.0).is_ok()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The newcomers take the departed residents' rows in agent-id order (each component
    /// written over); the rows left over are closed as bevy's despawns, in agent-id order,
    /// would close them (so the table keeps the same order, and iteration order and sums stay
    /// the same), and newcomers left over are spawned. Applied with the calling system's other
    /// commands, after which nobody departed is left in the world.
    pub fn place_newcomers(&mut self, commands: &mut Commands, newcomers: Vec<Resident>) {
        let rows: Vec<Entity> = std::mem::take(&mut self.rows)
            .into_iter()
            .map(|r| r.1)
            .collect();
        commands.queue(move |world: &mut World| {
            let mut newcomers = newcomers;
            let extra = newcomers.split_off(rows.len().min(newcomers.len()));
            rewrite_rows(world, &rows, &newcomers);
            world.spawn_batch(extra);
        });
    }
}

type ResidentMut = (
    &'static mut AgentId,
    &'static mut Person,
    &'static mut Work,
    &'static mut Traits,
    &'static mut Member,
);

/// Write `newcomers` over the rows of the first of `departed` (all in the residents' table),
/// and remove the rest of them as despawning them in order would: each despawn moves the
/// table's last row into the freed one. Here the moves are worked out first (`close_gaps`)
/// and made column by column, values and change ticks, after the newcomers' rows are written
/// (values, and ticks that say added now); the entities then left at the end of the table
/// are despawned, last first, which moves nothing. A survivor whose row moves takes over the
/// entity of the row it moves to.
fn rewrite_rows(world: &mut World, departed: &[Entity], newcomers: &[Resident]) {
    if departed.is_empty() {
        return;
    }
    let rows: Vec<usize> = departed
        .iter()
        .map(|&e| {
            let loc = world.entities().get(e).ok().flatten();
            loc.expect("a departed resident's row").table_row.index()
        })
        .collect();
    let (written, gone) = rows.split_at(newcomers.len());
    let mut query = world.query::<(Entity, ResidentMut)>();
    let mut tables = query
        .contiguous_iter_mut(world)
        .expect("residents are stored in tables");
    let (entities, (id, person, work, traits, member)) =
        tables.next().expect("the departed are residents");
    assert!(tables.next().is_none(), "residents share one table");
    let (kept, moves) = close_gaps(entities.len(), gone);
    let end: Vec<Entity> = entities[kept..].iter().rev().copied().collect();
    join(
        || {
            rewrite_column(id, written, newcomers.iter().map(|n| n.0), &moves);
            rewrite_column(person, written, newcomers.iter().map(|n| n.1), &moves);
        },
        || {
            rewrite_column(work, written, newcomers.iter().map(|n| n.2), &moves);
            rewrite_column(traits, written, newcomers.iter().map(|n| n.3), &moves);
            rewrite_column(member, written, newcomers.iter().map(|n| n.4), &moves);
        },
    );
    despawn_all(world, &end);
}

/// What removing `rows` from a table of `len` rows does, each removal (in the given order)
/// moving the table's last row into the removed one: how many rows are kept, and which of
/// them receive which rows from the end (`(to, from)`, each `to` once) once all are removed.
fn close_gaps(len: usize, rows: &[usize]) -> (usize, Vec<(usize, usize)>) {
    #[derive(Clone, Copy)]
    enum Holds {
        Kept(usize),
        Gone(usize),
    }
    let kept = len - rows.len();
    // What each row from `kept` on holds now, and where each removed row is now.
    let mut end: Vec<Holds> = (kept..len).map(Holds::Kept).collect();
    let mut at = rows.to_vec();
    for (j, &r) in rows.iter().enumerate() {
        if r >= kept {
            end[r - kept] = Holds::Gone(j);
        }
    }
    let mut moves = Vec::new();
    let mut last = len;
    for j in 0..rows.len() {
        last -= 1;
        let r = at[j];
        if r == last {
            continue;
        }
        let moved = end[last - kept];
        if let Holds::Gone(i) = moved {
            at[i] = r;
        }
        if r >= kept {
            end[r - kept] = moved;
        } else if let Holds::Kept(from) = moved {
            moves.push((r, from));
        }
    }
    (kept, moves)
}

/// Write `values` into `rows` of a column (ticks: added and changed now), then copy row `from`
/// into row `to`, value and change ticks, for each move.
fn rewrite_column<T: Copy>(
    column: ContiguousMut<'_, T>,
    rows: &[usize],
    values: impl Iterator<Item = T>,
    moves: &[(usize, usize)],
) {
    let (cells, mut ticks) = ContiguousMut::bypass_change_detection_split(column);
    let now = ticks.this_run();
    for (&r, v) in rows.iter().zip(values) {
        cells[r] = v;
    }
    for &(to, from) in moves {
        cells[to] = cells[from];
    }
    let added = ticks.added_mut();
    for &r in rows {
        added[r] = now;
    }
    for &(to, from) in moves {
        added[to] = added[from];
    }
    let changed = ticks.changed_mut();
    for &r in rows {
        changed[r] = now;
    }
    for &(to, from) in moves {
        changed[to] = changed[from];
    }
}

/// Despawn entities in the given order.
fn despawn_all(world: &mut World, entities: &[Entity]) {
    for part in entities.chunks(DESPAWN_AHEAD) {
        std::hint::black_box(warm_up(world, part));
        for &e in part {
            world.despawn(e);
        }
    }
}

/// How many despawns `warm_up` reads ahead for.
const DESPAWN_AHEAD: usize = 256;

/// Read what despawning `entities` will touch: their locations and their
/// rows in their archetype and table; and ask for their rows of every column to be fetched for
/// writing. These loads do not depend on each other, so many cache misses are in flight at
/// once; a despawn's own loads each wait for the one before. At full scale, the run's
/// ~840,000 despawns (residents and households, before households left the ECS) took 785 -> 591 ms with the reads (median of 5 interleaved runs) and
/// 625 -> 505 ms when the column prefetch was added (another 5), with the same result.
fn warm_up(world: &World, entities: &[Entity]) -> u64 {
    let mut sum = 0u64;
    for &e in entities {
        let Ok(Some(loc)) = world.entities().get(e) else {
            continue;
        };
        let archetype = &world.archetypes()[loc.archetype_id];
        if let Some(table) = world.storages().tables.get(archetype.table_id()) {
            sum ^= archetype.entities()[loc.archetype_row.index()]
                .id()
                .to_bits();
            sum ^= table.entities()[loc.table_row.index()].to_bits();
            prefetch_row(table, loc.table_row);
        }
    }
    sum
}

/// Ask the CPU to fetch, for writing, `row` of every column of `table` and of its two change-tick
/// arrays (a despawn moves the table's last row over it). A hint only: nothing is read.
#[cfg(target_arch = "x86_64")]
fn prefetch_row(table: &bevy_ecs::storage::Table, row: bevy_ecs::storage::TableRow) {
    use std::arch::x86_64::{_MM_HINT_ET0, _mm_prefetch};
    for column in table.iter_columns() {
        // SAFETY: `row` is the row of a live entity of `table`, so it is below the length of
        // each column; the pointers are only passed to the prefetch, never dereferenced.
        let rows = unsafe {
            [
                column.get_data_unchecked(row).as_ptr() as *const i8,
                column.get_added_tick_unchecked(row).get() as *const i8,
                column.get_changed_tick_unchecked(row).get() as *const i8,
            ]
        };
        for p in rows {
            // SAFETY: a prefetch has no effect on memory; sse is in the x86_64 baseline.
            unsafe { _mm_prefetch::<_MM_HINT_ET0>(p) };
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn prefetch_row(_table: &bevy_ecs::storage::Table, _row: bevy_ecs::storage::TableRow) {}

/// Run `f` on one contiguous part of `items` per compute thread, passing the index of the
/// part's first item. Every item is in exactly one part, so work keyed by index (a household
/// id, a dwelling id) splits across threads without changing any result.
pub fn par_parts_mut<T: Send>(mut items: &mut [T], f: impl Fn(usize, &mut [T]) + Send + Sync) {
    use bevy_tasks::ParallelSliceMut;
    let (pool, size) = parts_of(items.len());
    items.par_chunk_map_mut(pool, size, |k, part| f(k * size, part));
}

/// A vector of `f(0)`, …, `f(n - 1)`, made split across the compute threads: each thread
/// writes, and so first touches, its own part of the new memory (on this VM the first touch
/// of fresh pages is much of the cost of building a large vector).
pub fn par_collect<T: Send>(n: usize, f: impl Fn(usize) -> T + Send + Sync) -> Vec<T> {
    let mut items = Vec::with_capacity(n);
    par_parts_mut(&mut items.spare_capacity_mut()[..n], |first, part| {
        for (j, slot) in part.iter_mut().enumerate() {
            slot.write(f(first + j));
        }
    });
    // SAFETY: `par_parts_mut` hands every index below `n` to exactly one part, and each part
    // wrote every slot it was given. (If `f` panics, the panic leaves here before this line,
    // and the vector drops with no items.)
    unsafe { items.set_len(n) };
    items
}

/// Run `a` and `b` at once (`b` on a thread of its own) when the compute pool has more than
/// one thread, else one after the other. For steps that do not depend on each other: each
/// must draw from streams of its own, so the results do not depend on which way they ran.
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if bevy_tasks::ComputeTaskPool::get().thread_num() > 1 {
        std::thread::scope(|s| {
            let b = s.spawn(b);
            let a = a();
            (a, b.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        })
    } else {
        (a(), b())
    }
}

/// Sort `items`: one part per compute thread sorted at once, then the sorted parts merged.
/// With no two items equal (the callers sort by a unique key) the result is the one order,
/// whatever the thread count.
pub fn par_sort<T: Ord + Copy + Send>(items: &mut Vec<T>) {
    let (_, size) = parts_of(items.len());
    par_parts_mut(items, |_, part| part.sort_unstable());
    let mut merged = Vec::with_capacity(items.len());
    let mut run = size;
    while run < items.len() {
        merged.clear();
        for pair in items.chunks(2 * run) {
            let (mut a, mut b) = pair.split_at(run.min(pair.len()));
            while let (Some(x), Some(y)) = (a.first(), b.first()) {
                if y < x {
                    merged.push(*y);
                    b = &b[1..];
                } else {
                    merged.push(*x);
                    a = &a[1..];
                }
            }
            merged.extend_from_slice(a);
            merged.extend_from_slice(b);
        }
        std::mem::swap(items, &mut merged);
        run *= 2;
    }
}

/// `par_parts_mut` for reading only; each part's result, in the parts' order (so results
/// concatenated from them are in index order whatever the thread count).
pub fn par_parts<T: Sync, R: Send + 'static>(
    items: &[T],
    f: impl Fn(usize, &[T]) -> R + Send + Sync,
) -> Vec<R> {
    use bevy_tasks::ParallelSlice;
    let (pool, size) = parts_of(items.len());
    items.par_chunk_map(pool, size, |k, part| f(k * size, part))
}

/// The compute pool and the length of one part of `n` items per thread.
fn parts_of(n: usize) -> (&'static bevy_tasks::ComputeTaskPool, usize) {
    let pool = bevy_tasks::ComputeTaskPool::get();
    (pool, n.div_ceil(pool.thread_num().max(1)).max(1))
}

/// Ids are never reused; new agents and households take the next one.
#[derive(Resource, Clone, Debug, Default, Serialize, Deserialize)]
pub struct Ids {
    pub next_agent: u64,
    pub next_household: u32,
}

impl Ids {
    pub fn agent(&mut self) -> crate::model::demography::AgentId {
        self.next_agent += 1;
        crate::model::demography::AgentId(self.next_agent - 1)
    }
    pub fn household(&mut self) -> crate::model::household::HouseholdId {
        self.next_household += 1;
        crate::model::household::HouseholdId(self.next_household - 1)
    }
}

/// Emigration drivers, in output order.
pub const DRIVERS: [&str; 8] = [
    "job_loss",
    "wages",
    "climate",
    "public_services",
    "amenities",
    "housing",
    "network",
    "family",
];

/// Age groups for emigrants.
pub const EMIGRANT_AGE_BANDS: [&str; 5] = ["0-17", "18-29", "30-44", "45-64", "65+"];

pub fn emigrant_age_band(age: u8) -> usize {
    match age {
        0..=17 => 0,
        18..=29 => 1,
        30..=44 => 2,
        45..=64 => 3,
        _ => 4,
    }
}

/// This year's flows, in agents; reset at the start of every year.
#[derive(Resource, Clone, Debug, Default)]
pub struct Tally {
    pub births: u64,
    pub deaths: u64,
    pub immigrants: u64,
    pub emigrants: u64,
    /// [driver][age band]
    pub emigrants_by_driver: [[u64; 5]; 8],
    pub jobs_created: u64,
    pub jobs_lost: u64,
    pub new_job_seekers: u64,
    pub transactions: u64,
    pub listings: u64,
    pub buyers: u64,
    pub demolished: u64,
    pub completed: u64,
}

/// Cumulative emigrants per 5-year birth cohort and the cohort's size when first seen: the
/// "network" each resident has among those who already left.
#[derive(Resource, Clone, Debug, Default, Serialize, Deserialize)]
pub struct Cohorts {
    pub emigrated: Vec<f64>,
    pub size: Vec<f64>,
}

impl Cohorts {
    pub const FIRST_BIRTH_YEAR: i32 = 1900;

    pub fn index(birth_year: i32) -> usize {
        ((birth_year - Self::FIRST_BIRTH_YEAR).max(0) / 5) as usize
    }

    /// Share of a birth cohort who have left the city so far.
    pub fn left_share(&self, birth_year: i32) -> f64 {
        let i = Self::index(birth_year);
        match (self.emigrated.get(i), self.size.get(i)) {
            (Some(&e), Some(&s)) if s > 0.0 => (e / s).min(1.0),
            _ => 0.0,
        }
    }

    fn slot(&mut self, birth_year: i32) -> usize {
        let i = Self::index(birth_year);
        if self.size.len() <= i {
            self.size.resize(i + 1, 0.0);
            self.emigrated.resize(i + 1, 0.0);
        }
        i
    }

    pub fn add_member(&mut self, birth_year: i32) {
        let i = self.slot(birth_year);
        self.size[i] += 1.0;
    }

    pub fn add_emigrant(&mut self, birth_year: i32) {
        let i = self.slot(birth_year);
        self.emigrated[i] += 1.0;
    }
}

/// This year's per-household figures, gathered once when migration starts (indexed by
/// household id). Migration and housing keep `members` and `income_yuan` current as people
/// leave, move out and arrive; the economy reads incomes from it. The other fields describe
/// households as they were when gathered.
#[derive(Resource, Clone, Debug, Default)]
pub struct HouseholdTable(pub Vec<HouseholdSummary>);

impl HouseholdTable {
    /// The entry for `id`, growing the table for new households.
    pub fn entry(&mut self, id: crate::model::household::HouseholdId) -> &mut HouseholdSummary {
        let i = id.0 as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, HouseholdSummary::default());
        }
        &mut self.0[i]
    }

    /// One member with `income_yuan` moves from `from` to `to` (either may be `None`).
    pub fn move_member(
        &mut self,
        from: Option<crate::model::household::HouseholdId>,
        to: Option<crate::model::household::HouseholdId>,
        income_yuan: f32,
    ) {
        if let Some(f) = from {
            let e = self.entry(f);
            e.members = e.members.saturating_sub(1);
            e.income_yuan -= income_yuan;
        }
        if let Some(t) = to {
            let e = self.entry(t);
            e.members += 1;
            e.income_yuan += income_yuan;
        }
    }
}

/// Create the compute task pool that `par_iter` runs on, with `threads` threads (default:
/// all cores). The first call wins; later calls keep the existing pool.
pub fn init_task_pool(threads: Option<usize>) -> usize {
    let pool = bevy_tasks::ComputeTaskPool::get_or_init(|| {
        let n =
            threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        bevy_tasks::TaskPoolBuilder::new().num_threads(n).build()
    });
    pool.thread_num()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Component)]
    struct Marker(u32);
    #[derive(Component)]
    struct Other;

    /// Every index is made once and lands at its place, whatever the split (the parts
    /// here do not divide the length evenly), and a part's results come back in order.
    #[test]
    fn par_collect_and_par_parts_keep_index_order() {
        init_task_pool(None);
        let made = par_collect(10_007, |i| (i as u64) * 3);
        assert_eq!(made, (0..10_007u64).map(|i| i * 3).collect::<Vec<_>>());
        let firsts: Vec<usize> = par_parts(&made, |first, part| {
            assert_eq!(part[0], first as u64 * 3);
            first
        });
        assert!(firsts.windows(2).all(|w| w[0] < w[1]), "{firsts:?}");
        if bevy_tasks::ComputeTaskPool::get().thread_num() > 1 {
            assert!(firsts.len() > 1, "split into parts: {firsts:?}");
        }
        assert!(par_collect(0, |i| i).is_empty());
    }

    /// The parallel sort gives the sorted order, for lengths that split unevenly or not at
    /// all.
    #[test]
    fn par_sort_sorts() {
        init_task_pool(None);
        for n in [0usize, 1, 2, 3, 1000, 10_007] {
            let mut items: Vec<u64> = (0..n as u64).map(|i| rng::mix(i) % 1_000_000_007).collect();
            let mut expected = items.clone();
            expected.sort_unstable();
            par_sort(&mut items);
            assert_eq!(items, expected, "{n} items");
        }
    }

    /// `close_gaps` gives what removing the rows one by one from a list, each by moving the
    /// last row into it, gives.
    #[test]
    fn close_gaps_matches_removing_rows_one_by_one() {
        for (len, n, seed) in [
            (1usize, 1usize, 1u64),
            (10, 10, 2),
            (50, 7, 3),
            (300, 150, 4),
            (300, 299, 5),
        ] {
            let mut rows: Vec<usize> = (0..len).collect();
            let key = |i: usize| rng::mix(seed ^ (i as u64 * 0x9E37));
            rows.sort_by_key(|&i| key(i));
            let gone = &rows[..n];
            let mut table: Vec<usize> = (0..len).collect();
            for g in gone {
                let r = table.iter().position(|x| x == g).expect("still there");
                table.swap_remove(r);
            }
            let (kept, moves) = close_gaps(len, gone);
            assert_eq!(kept, table.len());
            let mut closed: Vec<usize> = (0..kept).collect();
            for &(to, from) in &moves {
                assert!(to < kept && from >= kept, "({to}, {from})");
                closed[to] = from;
            }
            assert_eq!(closed, table, "len {len}, {n} gone");
        }
    }

    /// A batch longer than the read-ahead, over two archetypes, removes exactly its entities
    /// and leaves the others' components where they were.
    #[test]
    fn despawn_all_removes_exactly_the_batch_across_tables() {
        let mut world = World::new();
        let a: Vec<Entity> = (0..1000).map(|i| world.spawn(Marker(i)).id()).collect();
        let b: Vec<Entity> = (1000..1300)
            .map(|i| world.spawn((Marker(i), Other)).id())
            .collect();
        let gone: Vec<Entity> = a.iter().chain(&b).copied().step_by(3).collect();
        assert!(gone.len() > DESPAWN_AHEAD);
        despawn_all(&mut world, &gone);
        for (i, &e) in a.iter().chain(&b).enumerate() {
            let expect_gone = i % 3 == 0;
            assert_eq!(world.get_entity(e).is_err(), expect_gone, "entity {i}");
            if !expect_gone {
                assert_eq!(world.get::<Marker>(e).map(|m| m.0), Some(i as u32));
            }
        }
        let left = world.query::<&Marker>().iter(&world).count();
        assert_eq!(left, 1300 - gone.len());
    }

    fn resident(id: u64) -> Resident {
        use crate::model::demography::Sex;
        use crate::model::household::{HouseholdId, Role};
        use crate::model::labour::{Income, Job, Status};
        (
            AgentId(id),
            Person {
                age: (id % 90) as u8,
                sex: Sex::Female,
                role: Role::Head,
            },
            Work {
                job: Job::new(Status::Inactive),
                income: Income {
                    yuan: id as f32,
                    skill: 1.0,
                },
            },
            Traits {
                climate_tolerance: 0.5,
                attachment: 0.5,
            },
            Member(HouseholdId(id as u32)),
        )
    }

    /// After `place_newcomers` the world holds exactly the residents who stayed and the
    /// newcomers, each with all of its own components, in the table order that writing the
    /// newcomers over the departed and despawning the rest (in id order) gives, whether the
    /// newcomers are fewer than the departed (the rest removed) or more (the rest spawned); the
    /// departed are reported as left until then.
    #[test]
    fn newcomers_take_the_departed_rows_and_nobody_departed_is_left() {
        let storage_order = |world: &mut World| -> Vec<u64> {
            world.query::<&AgentId>().iter(world).map(|a| a.0).collect()
        };
        for newcomers in [0usize, 100, 400, 700] {
            let mut world = World::new();
            let mut reference = World::new();
            let entities: Vec<Entity> = (0..1000).map(|i| world.spawn(resident(i)).id()).collect();
            let same: Vec<Entity> = (0..1000)
                .map(|i| reference.spawn(resident(i)).id())
                .collect();
            // About half leave, scattered, including rows at the end of the table.
            let gone: Vec<u64> = (0..1000u64)
                .filter(|&i| rng::mix(i).is_multiple_of(2) || i >= 990)
                .collect();
            let left: Vec<(AgentId, Entity)> = gone
                .iter()
                .map(|&i| (AgentId(i), entities[i as usize]))
                .collect();
            let mut departed = Departed::default();
            departed.leave(left);
            let stays = (0..1000)
                .find(|i| !gone.contains(i))
                .expect("someone stays");
            assert!(departed.has_left(AgentId(999)) && !departed.has_left(AgentId(stays)));
            let arriving: Vec<Resident> =
                (0..newcomers as u64).map(|i| resident(5000 + i)).collect();
            // The reference: newcomers written over the first departed, the others despawned.
            let mut arrivals = arriving.clone().into_iter();
            for &i in &gone {
                let e = same[i as usize];
                match arrivals.next() {
                    Some(n) => {
                        reference.entity_mut(e).insert(n);
                    }
                    None => {
                        reference.despawn(e);
                    }
                }
            }
            reference.spawn_batch(arrivals);
            let mut schedule = Schedule::default();
            schedule.add_systems(move |mut commands: Commands| {
                departed.place_newcomers(&mut commands, arriving.clone());
                assert!(departed.is_empty());
            });
            schedule.run(&mut world);
            assert_eq!(
                storage_order(&mut world),
                storage_order(&mut reference),
                "{newcomers} newcomers"
            );
            let mut found: Vec<Resident> = world
                .query::<(&AgentId, &Person, &Work, &Traits, &Member)>()
                .iter(&world)
                .map(|(a, p, w, t, m)| (*a, *p, *w, *t, *m))
                .collect();
            found.sort_by_key(|r| r.0);
            let expected: Vec<u64> = (0..1000)
                .filter(|i| !gone.contains(i))
                .chain(5000..5000 + newcomers as u64)
                .collect();
            assert_eq!(found.iter().map(|r| r.0.0).collect::<Vec<_>>(), expected);
            for r in &found {
                let want = resident(r.0.0);
                assert_eq!(
                    (r.1.age, r.2.income.yuan, r.4),
                    (want.1.age, want.2.income.yuan, want.4),
                    "resident {}",
                    r.0.0
                );
            }
        }
    }
}
