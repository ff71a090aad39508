//! Writing newcomers over the rows of entities that leave, in place, and closing the gaps the
//! rest leave as despawning them one by one would. Knows no domain: it works on any bundle
//! of `Copy` components that share one table (`TableRow`).
//!
//! A despawn costs bevy bookkeeping and cache misses per entity, and a spawn more of the
//! same; a row written over costs a few writes. bevy's despawn moves the table's last row
//! into the freed one, and the model's sums over queries follow table order, so the gaps are
//! closed with exactly the moves those despawns would make: the table ends in the same order.

use bevy_ecs::change_detection::ContiguousMut;
use bevy_ecs::component::Mutable;
use bevy_ecs::prelude::*;
use bevy_ecs::query::ContiguousQueryData;

use crate::engine::par::join;

/// A bundle of `Copy` components that live in one table, whose rows can be written over in
/// place. Implemented for tuples of 2 to 8 components: the columns are written in two halves,
/// one per thread.
pub trait TableRow: Bundle + Sized {
    /// The bundle's components, for writing.
    type Columns: ContiguousQueryData + 'static;
    /// Write `values[i]` into row `written[i]` of every column, then copy row `from` into
    /// row `to` for each move (`rewrite_column`).
    fn rewrite(
        columns: <Self::Columns as ContiguousQueryData>::Contiguous<'_, '_>,
        written: &[usize],
        values: &[Self],
        moves: &[(usize, usize)],
    );
}

macro_rules! table_row {
    ($(($T:ident $v:ident $i:tt)),*; $(($U:ident $w:ident $j:tt)),*) => {
        impl<$($T,)* $($U,)*> TableRow for ($($T,)* $($U,)*)
        where
            $($T: Component<Mutability = Mutable> + Copy,)*
            $($U: Component<Mutability = Mutable> + Copy,)*
        {
            type Columns = ($(&'static mut $T,)* $(&'static mut $U,)*);
            fn rewrite(
                columns: <Self::Columns as ContiguousQueryData>::Contiguous<'_, '_>,
                written: &[usize],
                values: &[Self],
                moves: &[(usize, usize)],
            ) {
                let ($($v,)* $($w,)*) = columns;
                join(
                    || { $(rewrite_column($v, written, values.iter().map(|r| r.$i), moves);)* },
                    || { $(rewrite_column($w, written, values.iter().map(|r| r.$j), moves);)* },
                );
            }
        }
    };
}

table_row!((A a 0); (B b 1));
table_row!((A a 0); (B b 1), (C c 2));
table_row!((A a 0), (B b 1); (C c 2), (D d 3));
table_row!((A a 0), (B b 1); (C c 2), (D d 3), (E e 4));
table_row!((A a 0), (B b 1), (C c 2); (D d 3), (E e 4), (F f 5));
table_row!((A a 0), (B b 1), (C c 2); (D d 3), (E e 4), (F f 5), (G g 6));
table_row!((A a 0), (B b 1), (C c 2), (D d 3); (E e 4), (F f 5), (G g 6), (H h 7));

/// Write `newcomers` over the rows of the first of `departed` (entities whose components are
/// exactly `R`, all in one table), and remove the rest of them as despawning them in order
/// would: each despawn moves the table's last row into the freed one. Here the moves are
/// worked out first (`close_gaps`) and made column by column, values and change ticks, after
/// the newcomers' rows are written (values, and ticks that say added now); the entities then
/// left at the end of the table are despawned, last first, which moves nothing. A survivor
/// whose row moves takes over the entity of the row it moves to. `newcomers` must be no
/// more than `departed`.
pub fn rewrite_rows<R: TableRow>(world: &mut World, departed: &[Entity], newcomers: &[R]) {
    if departed.is_empty() {
        return;
    }
    let rows: Vec<usize> = departed
        .iter()
        .map(|&e| {
            let loc = world.entities().get(e).ok().flatten();
            loc.expect("a departed entity's row").table_row.index()
        })
        .collect();
    let (written, gone) = rows.split_at(newcomers.len());
    let end = {
        let mut query = world.query::<(Entity, R::Columns)>();
        let mut tables = query
            .contiguous_iter_mut(world)
            .expect("the rows are stored in tables");
        let (entities, columns) = tables.next().expect("the departed have these components");
        assert!(tables.next().is_none(), "the rows share one table");
        let (kept, moves) = close_gaps(entities.len(), gone);
        let end: Vec<Entity> = entities[kept..].iter().rev().copied().collect();
        R::rewrite(columns, written, newcomers, &moves);
        end
    };
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
/// once, where a despawn's own loads each wait for the one before. The result only keeps the
/// reads from being optimised away.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng;

    #[derive(Component)]
    struct Marker(u32);
    #[derive(Component)]
    struct Other;

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

    #[derive(Component, Clone, Copy, Debug, PartialEq)]
    struct Key(u64);
    #[derive(Component, Clone, Copy, Debug, PartialEq)]
    struct Value(u32);
    #[derive(Component, Clone, Copy, Debug, PartialEq)]
    struct Flag(bool);

    fn row(k: u64) -> (Key, Value, Flag) {
        (Key(k), Value(k as u32 * 7), Flag(k.is_multiple_of(2)))
    }

    /// Newcomers written over departed rows, and the rest removed, leave the same table
    /// (order and every component) as inserting each newcomer over a departed entity and
    /// despawning the others one by one.
    #[test]
    fn rewrite_rows_matches_inserting_and_despawning_one_by_one() {
        let order = |world: &mut World| -> Vec<(Key, Value, Flag)> {
            let mut q = world.query::<(&Key, &Value, &Flag)>();
            q.iter(world).map(|(k, v, f)| (*k, *v, *f)).collect()
        };
        for newcomers in [0usize, 1, 40, 80] {
            let mut world = World::new();
            let mut reference = World::new();
            let a: Vec<Entity> = (0..300).map(|i| world.spawn(row(i)).id()).collect();
            let b: Vec<Entity> = (0..300).map(|i| reference.spawn(row(i)).id()).collect();
            let gone: Vec<usize> = (0..300)
                .filter(|&i| rng::mix(i as u64).is_multiple_of(3) || i >= 295)
                .collect();
            assert!(gone.len() >= newcomers);
            let fresh: Vec<(Key, Value, Flag)> =
                (0..newcomers as u64).map(|i| row(1000 + i)).collect();
            let departed: Vec<Entity> = gone.iter().map(|&i| a[i]).collect();
            rewrite_rows(&mut world, &departed, &fresh);
            for (n, &i) in gone.iter().enumerate() {
                match fresh.get(n) {
                    Some(&r) => {
                        reference.entity_mut(b[i]).insert(r);
                    }
                    None => {
                        reference.despawn(b[i]);
                    }
                }
            }
            assert_eq!(
                order(&mut world),
                order(&mut reference),
                "{newcomers} newcomers"
            );
        }
    }
}
