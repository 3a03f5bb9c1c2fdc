//! Warnings about a scenario said before it runs (by `scenario check` and at the start of a
//! run): a volume model that runs nothing, and a recyclable datapool with fewer rows per core
//! than the journeys per core it must feed (the journeys beyond the rows wait for a row).

use crate::journey::Scenario;
use crate::journey::ScenarioEntry;
use crate::limits::{ARRIVALS_PER_S_PER_CORE_MAX, JOURNEYS_PER_CORE_MAX};
use crate::model::counts::counted;
use crate::model::terminal::printable;
use crate::model::volume::VolumeModel;
use crate::scenario::file_words::{VolumeWords, rate};

/// The most journeys a model asks to have in flight at once, when it can be told.
pub fn peak_journeys(volume: &VolumeModel) -> Option<u64> {
    match volume {
        VolumeModel::Nothing { .. } => Some(0),
        VolumeModel::Constant { journeys, .. } | VolumeModel::Oneshot { journeys } => Some(*journeys),
        VolumeModel::Ramp { from, to, .. } => Some((*from).max(*to)),
        VolumeModel::Stages(stages) => stages.iter().map(peak_journeys).try_fold(0, |peak, s| Some(peak.max(s?))),
        VolumeModel::Arrivals { rate, max_in_flight } => Some(if rate.peak_per_s() > 0.0 { *max_in_flight } else { 0 }),
        VolumeModel::Custom(_) => None,
    }
}

/// A volume model that `parts` cores cannot run: an arrival rate above what they start (one
/// core starts at most `ARRIVALS_PER_S_PER_CORE_MAX` per second), or more journeys in flight
/// than they hold (`JOURNEYS_PER_CORE_MAX` each); how many cores it needs. The run refuses it.
fn beyond_the_cores(volume: &VolumeModel, parts: u64) -> Option<String> {
    if let VolumeModel::Arrivals { rate: model, .. } = volume {
        let peak_per_s = model.peak_per_s();
        if peak_per_s / parts as f64 > ARRIVALS_PER_S_PER_CORE_MAX {
            let needed = (peak_per_s / ARRIVALS_PER_S_PER_CORE_MAX).ceil();
            return Some(format!(
                "a peak rate of {} journeys per second needs at least {needed} cores (cores x segments; \
                 one core starts at most {ARRIVALS_PER_S_PER_CORE_MAX} per second): a run on fewer is refused",
                rate(peak_per_s)
            ));
        }
    }
    let peak = volume.peak_journeys()?;
    (peak.div_ceil(parts) > JOURNEYS_PER_CORE_MAX).then(|| {
        format!(
            "{peak} journeys in flight need at least {} cores (cores x segments; one core holds at most \
             {JOURNEYS_PER_CORE_MAX}): a run on fewer is refused",
            peak.div_ceil(JOURNEYS_PER_CORE_MAX)
        )
    })
}

/// How a run's load is split: the cores of this injector, and its segment `(k, n)` of a
/// distributed run (`(0, 1)` when not distributed). Each of the `n` injectors runs as many
/// cores, so the load is split into cores × segments parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// This injector's cores (at least one is counted).
    pub cores: usize,
    /// This injector's segment `(k, n)`.
    pub segment: (usize, usize),
}

impl Split {
    /// `cores` cores of a run that is not distributed.
    pub fn cores(cores: usize) -> Self {
        Split { cores, segment: (0, 1) }
    }

    /// The parts the load is split into: cores × segments.
    fn parts(self) -> u64 {
        (self.cores.max(1) * self.segment.1.max(1)) as u64
    }

    /// `2 cores`, or on a distributed run `4 cores (1 core on each of 4 segments)`.
    fn words(self) -> String {
        let n = self.segment.1.max(1) as u64;
        let all = counted(self.parts(), "core");
        if n == 1 {
            return all;
        }
        format!("{all} ({} on each of {})", counted(self.cores.max(1) as u64, "core"), counted(n, "segment"))
    }

    /// This injector's segment, when the run is distributed and the segment is one of its own.
    fn of_many(self) -> Option<(usize, usize)> {
        let (k, n) = self.segment;
        (n > 1 && k < n).then_some(self.segment)
    }
}

/// Warnings for `scenario`, its load split as `split` says, each naming its entry
/// (`scenario entry 1 (login): ...`). An entry that this injector's segment runs none of (see
/// [`segment_warnings`], said apart) gets no warning here about its datapool's rows: one
/// warning about it is enough.
pub fn warnings(scenario: &Scenario, split: Split) -> Vec<String> {
    let said_for_the_segment =
        |i: usize| split.of_many().is_some_and(|segment| segment_warning(&scenario.entries[i], i, segment).is_some());
    findings(scenario, split)
        .into_iter()
        .filter(|(i, warning)| !(warning.is_about_rows && said_for_the_segment(*i)))
        .map(|(i, warning)| {
            format!("scenario entry {} ({}): {}", i + 1, printable(&scenario.entries[i].journey), warning.text)
        })
        .collect()
}

/// Warnings for this injector's segment `(k, n)` of a distributed run: an entry whose peak of
/// journeys in flight, split across the `n` segments, leaves this one none (`constant = 2` on
/// 4 segments: segments 2/4 and 3/4 run nothing of it), or whose datapool has fewer rows than
/// segments and none for this one (its journeys here end at once). Arrival rates are not split
/// so (each segment keeps a journey slot and its share of the arrivals).
pub fn segment_warnings(scenario: &Scenario, segment: (usize, usize)) -> Vec<String> {
    scenario.entries.iter().enumerate().filter_map(|(i, entry)| segment_warning(entry, i, segment)).collect()
}

/// The warning of [`segment_warnings`] for entry `i`, if any.
fn segment_warning(entry: &ScenarioEntry, i: usize, segment: (usize, usize)) -> Option<String> {
    let (k, n) = segment;
    let entry_name = format!("scenario entry {} ({})", i + 1, entry.journey);
    let peak = peak_journeys(&entry.volume);
    if peak == Some(0) {
        // It runs nothing anywhere: said by `warnings`.
        return None;
    }
    let open = matches!(entry.volume, VolumeModel::Arrivals { .. });
    let share = peak.filter(|_| !open).map(|peak| crate::model::split::share(peak, k, n));
    if share == Some(0) {
        return Some(format!(
            "{entry_name}: its volume peaks at {} in flight, split across {n} segments: segment \
             {k}/{n}'s share is none, so this injector runs none of it (use fewer segments, or raise the volume \
             to at least {n})",
            counted(peak.unwrap_or_default(), "journey"),
        ));
    }
    // Row i goes to segment i mod n: segments from the pool's length on get none.
    let pool = entry.datapool.as_ref().filter(|p| p.len() <= k)?;
    Some(format!(
        "{entry_name}: datapool {:?} has {}, split across {n} segments: segment {k}/{n} gets none, so \
         this injector runs none of its journeys (they end at once; use fewer segments, or add rows)",
        pool.name,
        counted(pool.len() as u64, "row"),
    ))
}

/// The same warnings, each with the index (0-based) of the entry it is about, for a caller
/// that names the entry its own way (a scenario file's `file:line: scenario[0].volume`).
pub fn entry_warnings(scenario: &Scenario, split: Split) -> Vec<(usize, String)> {
    findings(scenario, split).into_iter().map(|(i, finding)| (i, finding.text)).collect()
}

/// A warning about an entry, and whether it is about its datapool's rows.
struct Finding {
    text: String,
    is_about_rows: bool,
}

fn findings(scenario: &Scenario, split: Split) -> Vec<(usize, Finding)> {
    let parts = split.parts();
    let mut out = Vec::new();
    let about_volume = |text| Finding { text, is_about_rows: false };
    let about_rows = |text| Finding { text, is_about_rows: true };
    for (i, entry) in scenario.entries.iter().enumerate() {
        if let Some(warning) = beyond_the_cores(&entry.volume, parts) {
            out.push((i, about_volume(warning)));
        }
        let Some(peak) = peak_journeys(&entry.volume) else { continue };
        if peak == 0 {
            let volume = VolumeWords(&entry.volume);
            out.push((
                i,
                about_volume(format!("volume {volume} runs no journey at all: the run will measure nothing")),
            ));
            continue;
        }
        if let Some(warning) = idle_single_use_rows(scenario, i, parts) {
            out.push((i, about_rows(warning)));
        }
        let Some(pool) = entry.datapool.as_ref().filter(|p| p.is_recyclable()) else { continue };
        if let Some(warning) = cores_without_rows(pool, peak, split) {
            out.push((i, about_rows(warning)));
            continue;
        }
        if let Some(warning) = rows_fewer_than_journeys(pool, peak, split) {
            out.push((i, about_rows(warning)));
        }
    }
    out
}

/// A recyclable pool of fewer rows than the journeys it feeds: the journeys beyond the rows
/// wait for one. Rows and journeys go to the cores in the same order (`model::split::share`),
/// so with at least as many rows as journeys every core has a row for each of its journeys.
fn rows_fewer_than_journeys(pool: &crate::model::datapool::DataPool, peak: u64, split: Split) -> Option<String> {
    let parts = split.parts();
    let rows = pool.len() as u64;
    // The fewest rows a core gets, against the most journeys a core must run. The cores' rows
    // differ by one at most; with fewer rows than journeys, no core has more rows than
    // journeys, so one journey runs per row: `rows` in all.
    let rows_per_core = rows / parts;
    let journeys_per_core = peak.div_ceil(parts);
    let rows_on_a_core = match rows % parts {
        0 => rows_per_core.to_string(),
        _ => format!("{rows_per_core} or {}", rows_per_core + 1),
    };
    (rows < peak && rows_per_core < journeys_per_core).then(|| {
        format!(
            "recyclable datapool {:?} has {}, {rows_on_a_core} per core over {}, fewer than the {} per core \
             the volume model asks for ({peak} in all): at most {} run at once (one per row), the others wait \
             for a row; add rows or lower the volume",
            pool.name,
            counted(rows, "row"),
            split.words(),
            counted(journeys_per_core, "journey"),
            counted(rows, "journey"),
        )
    })
}

/// The other entries (0-based, in order) that share entry `index`'s single-use datapool: each
/// row of it is used once across all of them (`model::datapool::CoreShards`), by whichever
/// entry checks it out first. Empty for a recyclable pool (each entry recycles rows of its
/// own), an entry without one, or a pool no other entry names.
pub fn sharing_single_use_pool(scenario: &Scenario, index: usize) -> Vec<usize> {
    let Some(pool) = scenario.entries[index].datapool.as_ref().filter(|p| !p.is_recyclable()) else {
        return Vec::new();
    };
    let shares = |entry: &ScenarioEntry| entry.datapool.as_ref().is_some_and(|p| p.is_same_pool(pool));
    scenario.entries.iter().enumerate().filter(|&(i, entry)| i != index && shares(entry)).map(|(i, _)| i).collect()
}

/// A recyclable pool of fewer rows than cores (`parts`, with segments) leaves some cores
/// without a row: their journeys wait for one for ever, and at most one journey per row runs.
fn cores_without_rows(pool: &crate::model::datapool::DataPool, peak: u64, split: Split) -> Option<String> {
    let parts = split.parts();
    let rows = pool.len() as u64;
    (rows < parts && rows < peak).then(|| {
        format!(
            "recyclable datapool {:?} has {} for {}: the {} without a row {} none of its \
             journeys, the others one journey per row: at most {} at once, of the {peak} the volume model asks \
             for; add rows or run on fewer cores",
            pool.name,
            counted(rows, "row"),
            split.words(),
            counted(parts - rows, "core"),
            if parts - rows == 1 { "runs" } else { "run" },
            if rows == 1 { "1 journey runs".to_string() } else { format!("{rows} journeys run") },
        )
    })
}

/// A single-use pool whose entries (all those naming it) run journeys on fewer than `parts`
/// cores: the rows owned by the others are never used (those cores end its journeys at once,
/// `exec::core_loop`); or fewer rows than the cores that run them: the journeys on the cores
/// without a row end at once. Said once, on the first entry naming the pool.
fn idle_single_use_rows(scenario: &Scenario, index: usize, parts: u64) -> Option<String> {
    let pool = scenario.entries[index].datapool.as_ref().filter(|p| !p.is_recyclable())?;
    let sharing = || scenario.entries.iter().filter(|e| e.datapool.as_ref().is_some_and(|p| p.is_same_pool(pool)));
    if sharing().next().map(|e| std::ptr::eq(e, &scenario.entries[index])) != Some(true) {
        return None;
    }
    let mut busy = 0;
    for entry in sharing() {
        // An arrival rate keeps a slot on every core; a closed model's journeys go to the first
        // cores, one each, when there are fewer journeys than cores.
        let peak = match &entry.volume {
            VolumeModel::Arrivals { .. } => parts,
            volume => peak_journeys(volume)?,
        };
        busy = busy.max(peak.min(parts));
    }
    let rows = pool.len() as u64;
    if busy > 0 && busy < parts && rows > busy {
        return Some(format!(
            "single-use datapool {:?}: its journeys run on {busy} of the {parts} cores (cores x segments) at \
             most, so the rows the other {} own are never used (those cores end its journeys at once); run at \
             least {parts} journeys, or on fewer cores",
            pool.name,
            parts - busy
        ));
    }
    // Rows go to the cores in the order journeys do (core c of segment k is the (k + c × n)-th
    // of both): with fewer rows than cores running journeys, the last of those get none.
    (rows < busy).then(|| {
        format!(
            "single-use datapool {:?} has {} for the {busy} cores (cores x segments) that run its journeys: \
             the journeys on the {} without a row end at once",
            pool.name,
            counted(rows, "row"),
            counted(busy - rows, "core"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::Config;
    use crate::model::datapool::{DataPool, Row};
    use crate::model::volume::RateModel;

    fn one(volume: VolumeModel, rows: Option<usize>) -> Scenario {
        Scenario {
            name: "t".into(),
            entries: vec![ScenarioEntry {
                journey: "j".into(),
                datapool: rows
                    .map(|n| DataPool::recyclable("users", (0..n).map(|i| Row::new([i.to_string()])).collect())),
                volume,
            }],
            config: Config::default(),
        }
    }

    /// Outside try: `constant = 2` on 4 segments left segments 2/4 and 3/4 without a journey,
    /// and their pods ran to the end measuring nothing, without a word.
    #[test]
    fn a_segment_with_no_share_is_named() {
        let scenario = one(VolumeModel::constant(2), None);
        assert!(segment_warnings(&scenario, (1, 4)).is_empty());
        let said = segment_warnings(&scenario, (2, 4));
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].starts_with(
                "scenario entry 1 (j): its volume peaks at 2 journeys in flight, split across 4 segments: \
                                 segment 2/4's share is none"
            ),
            "{said:?}"
        );
        assert!(segment_warnings(&one(VolumeModel::constant(1), None), (0, 2)).is_empty());
        let said = segment_warnings(&one(VolumeModel::constant(1), None), (1, 2));
        assert!(said[0].contains("peaks at 1 journey in flight"), "{said:?}");
    }

    /// A datapool with fewer rows than segments gives the last segments none: their journeys
    /// end at once, and the run said nothing (`requests 0`, stopped by completed). An entry
    /// whose volume already leaves the segment nothing is said once, for its volume.
    #[test]
    fn a_segment_the_datapool_gives_no_row_is_named() {
        let rows = |n: usize| (0..n).map(|i| Row::new([i.to_string()])).collect::<Vec<_>>();
        for pool in [DataPool::single_use("ids", rows(1)), DataPool::recyclable("ids", rows(1))] {
            let mut scenario = one(VolumeModel::constant(2), None);
            scenario.entries[0].datapool = Some(pool);
            assert!(segment_warnings(&scenario, (0, 2)).is_empty());
            let said = segment_warnings(&scenario, (1, 2));
            assert_eq!(
                said,
                ["scenario entry 1 (j): datapool \"ids\" has 1 row, split across 2 segments: segment 1/2 gets none, \
                  so this injector runs none of its journeys (they end at once; use fewer segments, or add rows)"]
            );
            let rate = RateModel::Constant { per_s: 5.0, duration_s: None };
            scenario.entries[0].volume = VolumeModel::Arrivals { rate, max_in_flight: 4 };
            assert!(segment_warnings(&scenario, (1, 2))[0].contains("segment 1/2 gets none"));
            scenario.entries[0].volume = VolumeModel::constant(1);
            let said = segment_warnings(&scenario, (1, 2));
            assert!(said.len() == 1 && said[0].contains("share is none"), "{said:?}");
            scenario.entries[0].volume = VolumeModel::constant(0);
            assert!(segment_warnings(&scenario, (1, 2)).is_empty(), "said by `warnings`");
        }
    }

    /// A single-use pool with fewer rows than the cores running its journeys: the journeys on
    /// the cores without a row end at once.
    #[test]
    fn single_use_rows_fewer_than_the_cores_running_them_are_named() {
        let pool = DataPool::single_use("ids", vec![Row::new(["1"])]);
        let mut scenario = one(VolumeModel::constant(3), None);
        scenario.entries[0].datapool = Some(pool);
        let said = super::warnings(&scenario, Split::cores(2));
        assert_eq!(
            said,
            ["scenario entry 1 (j): single-use datapool \"ids\" has 1 row for the 2 cores (cores x segments) that \
              run its journeys: the journeys on the 1 core without a row end at once"]
        );
        assert!(super::warnings(&scenario, Split::cores(1)).is_empty());
    }

    /// A single-use pool whose journeys leave some cores idle: those cores' rows were never
    /// used, and the run went on to its duration without a word (those cores now end at once). Entries sharing the pool
    /// count together.
    #[test]
    fn single_use_rows_on_cores_without_journeys_are_named() {
        let pool = DataPool::single_use("ids", (0..100).map(|i| Row::new([i.to_string()])).collect());
        let entry = |journeys| ScenarioEntry {
            journey: "j".into(),
            datapool: Some(pool.clone()),
            volume: VolumeModel::constant(journeys),
        };
        let scenario = |entries| Scenario { name: "t".into(), entries, config: Config::default() };
        let warned = super::warnings(&scenario(vec![entry(3), entry(2)]), Split::cores(4));
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(warned[0].contains("single-use datapool \"ids\": its journeys run on 3 of the 4 cores"), "{warned:?}");
        assert!(warned[0].contains("the rows the other 1 own are never used (those cores end its"), "{warned:?}");
        assert!(super::warnings(&scenario(vec![entry(3), entry(4)]), Split::cores(4)).is_empty());
        assert!(super::warnings(&scenario(vec![entry(3)]), Split::cores(3)).is_empty());
        let recyclable = DataPool::recyclable("ids", (0..100).map(|i| Row::new([i.to_string()])).collect());
        let mut other = entry(1);
        other.datapool = Some(recyclable);
        assert!(super::warnings(&scenario(vec![other]), Split::cores(4)).iter().all(|w| !w.contains("single-use")));
    }

    /// Outside try 5: entries naming one single-use pool share its rows, and nothing said so.
    /// Two clones of one pool share it; a pool of the same name built apart, a recyclable one,
    /// or no pool, shares nothing.
    #[test]
    fn entries_sharing_a_single_use_pool_are_found() {
        let rows = || (0..10).map(|i| Row::new([i.to_string()])).collect::<Vec<_>>();
        let ids = DataPool::single_use("ids", rows());
        let entry = |pool: Option<DataPool>| ScenarioEntry {
            journey: "j".into(),
            datapool: pool,
            volume: VolumeModel::constant(1),
        };
        let entries = vec![
            entry(Some(ids.clone())),
            entry(Some(DataPool::single_use("ids", rows()))),
            entry(Some(ids.clone())),
            entry(None),
            entry(Some(ids)),
            entry(Some(DataPool::recyclable("users", rows()))),
        ];
        let users = entries[5].datapool.clone();
        let scenario = Scenario { name: "t".into(), entries, config: Config::default() };
        assert_eq!(sharing_single_use_pool(&scenario, 0), [2, 4]);
        assert_eq!(sharing_single_use_pool(&scenario, 2), [0, 4]);
        assert_eq!(sharing_single_use_pool(&scenario, 1), Vec::<usize>::new(), "built apart: a pool of its own");
        assert_eq!(sharing_single_use_pool(&scenario, 3), Vec::<usize>::new());
        let mut twice = scenario.clone();
        twice.entries[3].datapool = users;
        assert_eq!(sharing_single_use_pool(&twice, 5), Vec::<usize>::new(), "recyclable pools are not shared");
    }

    /// Issue 11: a 3-row recyclable pool under a ramp to 20 capped concurrency silently.
    #[test]
    fn small_recyclable_pool_is_named_with_its_numbers() {
        let scenario = one(VolumeModel::Ramp { from: 0, to: 20, duration_s: 10.0 }, Some(3));
        let warnings = warnings(&scenario, Split::cores(1));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("3 rows") && warnings[0].contains("20 journeys per core"), "{}", warnings[0]);
        assert!(super::warnings(&one(VolumeModel::constant(4), Some(8)), Split::cores(2)).is_empty());
        let single = super::warnings(&one(VolumeModel::constant(4), Some(1)), Split::cores(1));
        assert!(single[0].contains("has 1 row, 1 per core over 1 core,"), "{single:?}");
        let split = super::warnings(&one(VolumeModel::constant(8), Some(7)), Split::cores(2));
        assert!(split[0].contains("3 or 4 per core over 2 cores"), "{split:?}");
    }

    /// 3 rows for 4 journeys on 2 cores were said to be "1 per core", "at most 1 journey per
    /// core run at once", while the run showed 3 in flight: the first core has 2 rows and runs
    /// 2 journeys. The rows a core gets differ by one, and one journey runs per row.
    #[test]
    fn rows_split_unevenly_are_said_as_they_fall() {
        let said = warnings(&one(VolumeModel::constant(4), Some(3)), Split::cores(2));
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("has 3 rows, 1 or 2 per core over 2 cores,"), "{said:?}");
        assert!(said[0].contains("at most 3 journeys run at once (one per row)"), "{said:?}");
        let even = warnings(&one(VolumeModel::constant(6), Some(4)), Split::cores(2));
        assert!(even[0].contains("has 4 rows, 2 per core over 2 cores,"), "{even:?}");
    }

    /// `1 per core over 4 cores` was said for 1 core on each of 4 segments, and as many rows as
    /// journeys, split alike, were said to leave "at most 0 journeys per core" ("fewer than
    /// the 1 journeys per core") though every journey had its row.
    #[test]
    fn rows_and_cores_are_counted_as_they_are() {
        let on_segments = Split { cores: 1, segment: (0, 4) };
        let said = warnings(&one(VolumeModel::constant(9), Some(5)), on_segments);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].contains(
                "has 5 rows, 1 or 2 per core over 4 cores (1 core on each of 4 segments), fewer than the 3 journeys per core"
            ),
            "{said:?}"
        );
        assert!(said[0].contains("at most 5 journeys run at once (one per row)"), "{said:?}");
        for (rows, journeys, cores) in [(2, 2, 4), (5, 5, 4), (9, 7, 2)] {
            let said = warnings(&one(VolumeModel::constant(journeys), Some(rows)), Split::cores(cores));
            assert!(said.is_empty(), "{rows} rows, {journeys} journeys on {cores} cores: {said:?}");
        }
    }

    /// A segment that the datapool gives no row was warned twice about the same entry: once
    /// for the segment, once for the run's cores without a row. The segment's warning is said;
    /// a segment with rows still hears the run's.
    #[test]
    fn a_segment_without_a_row_is_warned_once() {
        let rows = vec![Row::new(["1"])];
        for pool in [DataPool::single_use("ids", rows.clone()), DataPool::recyclable("ids", rows.clone())] {
            let mut scenario = one(VolumeModel::constant(4), None);
            scenario.entries[0].datapool = Some(pool);
            let segment = (1, 2);
            assert_eq!(segment_warnings(&scenario, segment).len(), 1);
            let run = warnings(&scenario, Split { cores: 1, segment });
            assert!(run.is_empty(), "{run:?}");
            let first = warnings(&scenario, Split { cores: 1, segment: (0, 2) });
            assert!(first.len() == 1 && first[0].contains("has 1 row for"), "{first:?}");
        }
    }

    /// A 1-row recyclable pool on 2 cores said "0 per core ... at most 0 journeys per core run
    /// at once", as though nothing ran: one core runs a journey at a time, the other none.
    #[test]
    fn a_recyclable_pool_with_fewer_rows_than_cores_names_the_cores_without_one() {
        let warnings = warnings(&one(VolumeModel::constant(4), Some(1)), Split::cores(2));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("recyclable datapool \"users\" has 1 row for 2 cores"), "{}", warnings[0]);
        assert!(warnings[0].contains("the 1 core without a row runs none of its journeys"), "{}", warnings[0]);
        assert!(warnings[0].contains("at most 1 journey runs at once"), "{}", warnings[0]);
        assert!(!warnings[0].contains("0 per core"), "{}", warnings[0]);
        let three = super::warnings(&one(VolumeModel::constant(8), Some(3)), Split::cores(4));
        assert!(three[0].contains("has 3 rows for 4 cores") && three[0].contains("the 1 core without"), "{three:?}");
        assert!(three[0].contains("at most 3 journeys run at once"), "{three:?}");
        let spread = super::warnings(&one(VolumeModel::constant(8), Some(1)), Split { cores: 2, segment: (0, 2) });
        assert!(
            spread[0]
                .contains("has 1 row for 4 cores (2 cores on each of 2 segments): the 3 cores without a row run none"),
            "{spread:?}"
        );
    }

    /// Issue 11: `constant = 0` and `rate = 0` ran nothing and passed.
    #[test]
    fn a_model_that_runs_nothing_is_a_warning() {
        let zero_rate = VolumeModel::Arrivals {
            rate: RateModel::Constant { per_s: 0.0, duration_s: Some(5.0) },
            max_in_flight: 10,
        };
        for volume in [VolumeModel::constant(0), zero_rate, VolumeModel::Oneshot { journeys: 0 }] {
            let warnings = warnings(&one(volume, None), Split::cores(1));
            assert!(warnings.len() == 1 && warnings[0].contains("runs no journey"), "{warnings:?}");
        }
        assert!(warnings(&one(VolumeModel::constant(1), None), Split::cores(1)).is_empty());
    }

    /// A model beyond the cores it is checked for says how many it needs (the run refuses it
    /// on fewer); on enough cores nothing is said.
    #[test]
    fn a_model_beyond_the_cores_says_how_many_it_needs() {
        let fast = VolumeModel::Arrivals {
            rate: RateModel::Constant { per_s: ARRIVALS_PER_S_PER_CORE_MAX * 2.5, duration_s: None },
            max_in_flight: 10,
        };
        let said = warnings(&one(fast.clone(), None), Split::cores(1));
        assert!(said.len() == 1 && said[0].contains("needs at least 3 cores"), "{said:?}");
        assert!(warnings(&one(fast, None), Split::cores(3)).is_empty());
        let many = VolumeModel::constant(JOURNEYS_PER_CORE_MAX * 2 + 1);
        let said = warnings(&one(many.clone(), None), Split::cores(2));
        assert!(said.len() == 1 && said[0].contains("need at least 3 cores"), "{said:?}");
        assert!(warnings(&one(many, None), Split::cores(3)).is_empty());
    }

    /// A journey or datapool name holding an escape sequence or a line break is written out
    /// in a warning: it forged a `WARNING:` line of its own and recoloured the terminal.
    #[test]
    fn names_in_warnings_are_shown_not_obeyed() {
        let mut scenario = one(VolumeModel::Constant { journeys: 3, duration_s: None }, Some(1));
        scenario.entries[0].journey = "j\u{1b}[2J\nWARNING: forged".into();
        scenario.entries[0].datapool =
            Some(DataPool::recyclable("p\u{1b}[31m\nx\u{202e}", vec![Row::new(["a".to_string()])]));
        let warnings = warnings(&scenario, Split::cores(1));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let text = &warnings[0];
        assert!(text.starts_with("scenario entry 1 (j\\u{1b}[2J\\nWARNING: forged): recyclable datapool"), "{text}");
        assert!(!text.contains(['\n', '\u{1b}', '\u{202e}']), "{text}");
    }
}
