//! Volume models: how many journeys should be in flight (closed model), re-evaluated every tick.
//!
//! A model is a function of the tick window `(start_s, end_s)` since the run started. It returns
//! `Some(n)` for "n journeys in flight" (the total across all cores and injectors; the engine
//! splits it exactly) or `None` to stop, Mite's `StopVolumeModel`.

use std::fmt;
use std::sync::Arc;

use crate::limits::{ARRIVALS_PER_S_MIN, ARRIVALS_PER_S_PER_CORE_MAX, JOURNEYS_PER_CORE_MAX};

/// A user-supplied model: `f(start_s, end_s) -> Some(n) | None (stop)`.
pub type VolumeFn = Arc<dyn Fn(f64, f64) -> Option<u64> + Send + Sync>;

/// How many journeys to keep in flight over time.
///
/// ```
/// # use mite_core::prelude::VolumeModel;
/// // Mite's `ramp(...) + constant(...)`, then a custom model that stops after ten minutes.
/// let stages = VolumeModel::Stages(vec![
///     VolumeModel::Ramp { from: 0, to: 40, duration_s: 60.0 },
///     VolumeModel::Constant { journeys: 40, duration_s: Some(240.0) },
/// ]);
/// assert_eq!(stages.target(29.0, 30.0), Some(20));
/// let custom = VolumeModel::Custom(std::sync::Arc::new(|_start_s, end_s| (end_s < 600.0).then_some(8)));
/// assert_eq!((custom.target(0.0, 1.0), custom.target(599.0, 600.0)), (Some(8), None));
/// ```
#[derive(Clone)]
pub enum VolumeModel {
    /// No journeys for `duration_s`, then stop (Mite's `nothing`): a pause between stages.
    ///
    /// ```
    /// # use mite_core::prelude::VolumeModel;
    /// let pause = VolumeModel::Nothing { duration_s: 30.0 };
    /// assert_eq!((pause.target(0.0, 1.0), pause.target(29.0, 30.0)), (Some(0), None));
    /// ```
    Nothing { duration_s: f64 },
    /// `journeys` in flight; stops after `duration_s` when given.
    Constant { journeys: u64, duration_s: Option<f64> },
    /// Linear ramp from `from` to `to` journeys over `duration_s`, then stop.
    Ramp { from: u64, to: u64, duration_s: f64 },
    /// Models run one after another; each must have a duration (Mite's `a + b`).
    Stages(Vec<VolumeModel>),
    /// Each of `journeys` runs exactly once; the model stops when they have finished.
    ///
    /// ```
    /// # use mite_core::prelude::VolumeModel;
    /// let smoke = VolumeModel::Oneshot { journeys: 3 }; // three journeys, once each
    /// assert_eq!((smoke.target(0.0, 1.0), smoke.duration_s()), (Some(3), None));
    /// ```
    Oneshot { journeys: u64 },
    /// Any function of the tick window.
    Custom(VolumeFn),
    /// Open model: journeys start at `rate` per second (all cores together) whatever the
    /// target does, at most `max_in_flight` at once; starts that find no free slot wait in a
    /// bounded queue (the wait shows in the corrected latencies) or, past it, are counted as
    /// missed.
    Arrivals {
        /// Arrival rate over time.
        rate: RateModel,
        /// Journeys in flight at most (all cores together).
        max_in_flight: u64,
    },
}

/// Arrival rate over time, in journeys per second (all cores together): the `rate` of an
/// open-model [`VolumeModel::Arrivals`].
///
/// ```
/// # use mite_core::prelude::*;
/// // 10/s for a minute, then a ramp to 50/s over five minutes.
/// let rate = RateModel::Stages(vec![
///     RateModel::Constant { per_s: 10.0, duration_s: Some(60.0) },
///     RateModel::Ramp { from: 10.0, to: 50.0, duration_s: 300.0 },
/// ]);
/// let volume = VolumeModel::Arrivals { rate, max_in_flight: 500 };
/// assert!(volume.is_open() && volume.validate().is_ok());
/// assert_eq!(volume.duration_s(), Some(360.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum RateModel {
    /// `per_s` for `duration_s` (or for ever).
    Constant { per_s: f64, duration_s: Option<f64> },
    /// Linear ramp from `from` to `to` per second over `duration_s`, then stop.
    Ramp { from: f64, to: f64, duration_s: f64 },
    /// One after another; each needs a duration.
    Stages(Vec<RateModel>),
}

/// Where an arrival falls in a rate model.
enum Arrival {
    /// Seconds from the model's start.
    At(f64),
    /// After the model ends; it expects `expected` arrivals in all.
    After { expected: f64 },
}

impl RateModel {
    /// The rate at `t_s` seconds, or `None` once the model has ended.
    ///
    /// ```
    /// # use mite_core::prelude::RateModel;
    /// let ramp = RateModel::Ramp { from: 0.0, to: 100.0, duration_s: 10.0 };
    /// assert_eq!((ramp.rate_at(5.0), ramp.rate_at(10.0)), (Some(50.0), None));
    /// ```
    pub fn rate_at(&self, t_s: f64) -> Option<f64> {
        match self {
            RateModel::Constant { per_s, duration_s } => match duration_s {
                Some(d) if t_s >= *d => None,
                _ => Some(*per_s),
            },
            RateModel::Ramp { from, to, duration_s } => {
                (t_s < *duration_s).then(|| from + (to - from) * (t_s / duration_s).clamp(0.0, 1.0))
            }
            RateModel::Stages(stages) => {
                let mut offset = 0.0;
                for stage in stages {
                    let length = stage.duration_s().unwrap_or(0.0);
                    if t_s < offset + length {
                        return stage.rate_at(t_s - offset);
                    }
                    offset += length;
                }
                None
            }
        }
    }

    /// When the model's arrival number `n` (counted from 0, all parts together) is due: the
    /// first moment its expected arrivals (the integral of its rate from the start) pass `n`.
    /// `None` when the model ends (or its rate stays 0 for ever) before that. Computed from the
    /// start each time, so a low rate before a high one, a stage at rate 0 or a ramp from 0 get
    /// exactly the arrivals their rates integrate to, and millions of arrivals do not drift.
    ///
    /// ```
    /// # use mite_core::prelude::RateModel;
    /// let rate = RateModel::Constant { per_s: 4.0, duration_s: Some(1.0) };
    /// assert_eq!((rate.arrival_time_s(0.0), rate.arrival_time_s(2.0)), (Some(0.0), Some(0.5)));
    /// assert_eq!(rate.arrival_time_s(4.0), None); // only 4 arrivals in its second
    /// ```
    pub fn arrival_time_s(&self, n: f64) -> Option<f64> {
        match self.arrival_in(n) {
            Arrival::At(t) => Some(t),
            Arrival::After { .. } => None,
        }
    }

    /// Where arrival `n` falls: at a time within the model, or after it, with how many
    /// arrivals the model expects in all.
    fn arrival_in(&self, n: f64) -> Arrival {
        match self {
            RateModel::Constant { per_s, duration_s } => {
                let expected = duration_s.map_or(f64::INFINITY, |d| per_s * d);
                if *per_s > 0.0 && n < expected {
                    Arrival::At(n / per_s)
                } else {
                    Arrival::After { expected: if *per_s > 0.0 { expected } else { 0.0 } }
                }
            }
            RateModel::Ramp { from, to, duration_s } => {
                let expected = (from + to) / 2.0 * duration_s;
                if n >= expected {
                    return Arrival::After { expected };
                }
                // Arrivals by s: from·s + k·s², k = (to − from) / 2d; solved for n in the form
                // that stays exact when k or `from` is 0 (a flat ramp, a ramp from 0).
                let k = (to - from) / (2.0 * duration_s);
                let root = (from * from + 4.0 * k * n).max(0.0).sqrt();
                let s = if n == 0.0 { 0.0 } else { 2.0 * n / (from + root) };
                Arrival::At(s.min(*duration_s))
            }
            RateModel::Stages(stages) => {
                let (mut offset_s, mut before) = (0.0, 0.0);
                for stage in stages {
                    match stage.arrival_in(n - before) {
                        Arrival::At(t) => return Arrival::At(offset_s + t),
                        Arrival::After { expected } => before += expected,
                    }
                    offset_s += stage.duration_s().unwrap_or(f64::INFINITY);
                }
                Arrival::After { expected: before }
            }
        }
    }

    /// Length, when the model ends by itself.
    ///
    /// ```
    /// # use mite_core::prelude::RateModel;
    /// assert_eq!(RateModel::Constant { per_s: 5.0, duration_s: None }.duration_s(), None);
    /// ```
    pub fn duration_s(&self) -> Option<f64> {
        match self {
            RateModel::Constant { duration_s, .. } => *duration_s,
            RateModel::Ramp { duration_s, .. } => Some(*duration_s),
            RateModel::Stages(stages) => stages.iter().map(RateModel::duration_s).sum(),
        }
    }

    /// The highest rate the model reaches.
    ///
    /// ```
    /// # use mite_core::prelude::RateModel;
    /// assert_eq!(RateModel::Ramp { from: 80.0, to: 20.0, duration_s: 60.0 }.peak_per_s(), 80.0);
    /// ```
    pub fn peak_per_s(&self) -> f64 {
        match self {
            RateModel::Constant { per_s, .. } => *per_s,
            RateModel::Ramp { from, to, .. } => from.max(*to),
            RateModel::Stages(stages) => stages.iter().map(RateModel::peak_per_s).fold(0.0, f64::max),
        }
    }

    fn validate(&self) -> Result<(), VolumeError> {
        let rate_ok = |r: f64| r.is_finite() && (r == 0.0 || r >= ARRIVALS_PER_S_MIN);
        let duration_ok = |d: f64| d.is_finite() && d > 0.0;
        match self {
            RateModel::Constant { per_s, duration_s } => {
                if !rate_ok(*per_s) {
                    return Err(VolumeError::Rate { per_s: *per_s });
                }
                if let Some(d) = duration_s
                    && !duration_ok(*d)
                {
                    return Err(VolumeError::Duration { duration_s: *d });
                }
            }
            RateModel::Ramp { from, to, duration_s } => {
                if !rate_ok(*from) || !rate_ok(*to) {
                    return Err(VolumeError::RampRates { from: *from, to: *to });
                }
                if !duration_ok(*duration_s) {
                    return Err(VolumeError::Duration { duration_s: *duration_s });
                }
            }
            RateModel::Stages(stages) => {
                if stages.is_empty() {
                    return Err(VolumeError::NoRateStages);
                }
                for (i, stage) in stages.iter().enumerate() {
                    stage.validate().map_err(|e| VolumeError::Stage { number: i + 1, source: Box::new(e) })?;
                    if stage.duration_s().is_none() {
                        return Err(VolumeError::RateStageWithoutDuration { number: i + 1 });
                    }
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for VolumeModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VolumeModel::Nothing { duration_s } => write!(f, "nothing({duration_s}s)"),
            VolumeModel::Constant { journeys, duration_s: Some(d) } => {
                write!(f, "constant({journeys} for {d}s)")
            }
            VolumeModel::Constant { journeys, duration_s: None } => write!(f, "constant({journeys})"),
            VolumeModel::Ramp { from, to, duration_s } => {
                write!(f, "ramp({from}->{to} over {duration_s}s)")
            }
            VolumeModel::Stages(stages) => f.debug_list().entries(stages).finish(),
            VolumeModel::Oneshot { journeys } => write!(f, "oneshot({journeys})"),
            VolumeModel::Custom(_) => write!(f, "custom"),
            VolumeModel::Arrivals { rate, max_in_flight } => {
                write!(f, "arrivals({rate:?}, at most {max_in_flight} in flight)")
            }
        }
    }
}

/// Why a model cannot work, said before the run starts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VolumeError {
    /// An arrival rate below the smallest (and not 0), negative or not finite.
    #[error("rate must be 0 or a number of journeys per second from {ARRIVALS_PER_S_MIN} up, got {per_s}")]
    Rate {
        /// The rate.
        per_s: f64,
    },
    /// A ramp of arrival rates with an end that is not a rate.
    #[error("ramp rates must each be 0 or from {ARRIVALS_PER_S_MIN} per second up, got {from} -> {to}")]
    RampRates {
        /// Rate at the start, per second.
        from: f64,
        /// Rate at the end, per second.
        to: f64,
    },
    /// A duration that is not a positive number of seconds.
    #[error("duration must be a positive number of seconds, got {duration_s}")]
    Duration {
        /// The duration.
        duration_s: f64,
    },
    /// `stages = []`.
    #[error("stages needs at least one stage")]
    NoStages,
    /// `rate_stages = []`.
    #[error("rate stages need at least one stage")]
    NoRateStages,
    /// A stage (1-based) that cannot work.
    #[error("stage {number}: {source}")]
    Stage {
        /// Its place, from 1.
        number: usize,
        /// Why.
        source: Box<VolumeError>,
    },
    /// A stage that would run for ever, so the next never starts.
    #[error("stage {number} ({stage}) has no duration; every stage needs one")]
    StageWithoutDuration {
        /// Its place, from 1.
        number: usize,
        /// The stage.
        stage: String,
    },
    /// A rate stage that would run for ever.
    #[error("stage {number} has no duration; every stage needs one")]
    RateStageWithoutDuration {
        /// Its place, from 1.
        number: usize,
    },
    /// `max_in_flight = 0`.
    #[error("max_in_flight must be at least 1")]
    NoSlots,
    /// Fewer slots than parts sharing the load.
    #[error(
        "max_in_flight {max_in_flight} is below the {parts} cores (x segments) sharing the load: \
         each needs at least one journey slot; raise max_in_flight to at least {parts}"
    )]
    SlotsBelowParts {
        /// The model's `max_in_flight`.
        max_in_flight: u64,
        /// Cores × segments.
        parts: usize,
    },
    /// More journeys in flight than the cores can hold.
    #[error(
        "{peak} journeys in flight over {} is {per_part} per core; one core holds at most \
         {JOURNEYS_PER_CORE_MAX} (each journey keeps its task and, between requests, its connection): a run \
         needs at least {} cores (cores x segments); add cores or segments, or lower it",
        crate::model::counts::counted(*parts as u64, "core"),
        peak.div_ceil(JOURNEYS_PER_CORE_MAX)
    )]
    JourneysPerCore {
        /// The model's most journeys in flight.
        peak: u64,
        /// Cores × segments sharing it.
        parts: usize,
        /// Its share per core, rounded up.
        per_part: u64,
    },
    /// A peak rate one core cannot start.
    #[error(
        "a peak rate of {peak_per_s} per second over {} is {per_part_per_s:.0} per core; one core \
         cannot start more than {ARRIVALS_PER_S_PER_CORE_MAX} journeys per second: a run needs at least {} cores \
         (cores x segments); add cores or segments, or lower the rate",
        crate::model::counts::counted(*parts as u64, "core"),
        (peak_per_s / ARRIVALS_PER_S_PER_CORE_MAX).ceil()
    )]
    RatePerCore {
        /// The model's peak rate.
        peak_per_s: f64,
        /// Cores × segments sharing it.
        parts: usize,
        /// Its share per core.
        per_part_per_s: f64,
    },
}

impl VolumeModel {
    /// `n` journeys in flight for ever (until the run's duration).
    ///
    /// ```
    /// # use mite_core::prelude::VolumeModel;
    /// let model = VolumeModel::constant(50);
    /// assert_eq!(model.target(0.0, 1.0), Some(50));
    /// assert_eq!(model.target(3600.0, 3601.0), Some(50));
    /// assert_eq!(model.duration_s(), None); // `--duration` ends the run
    /// ```
    pub fn constant(journeys: u64) -> VolumeModel {
        VolumeModel::Constant { journeys, duration_s: None }
    }

    /// Checks the parameters; a model that cannot work is refused with the reason.
    ///
    /// ```
    /// # use mite_core::prelude::VolumeModel;
    /// assert!(VolumeModel::Ramp { from: 0, to: 10, duration_s: 60.0 }.validate().is_ok());
    /// let endless_stage = VolumeModel::Stages(vec![VolumeModel::constant(5)]);
    /// let err = endless_stage.validate().unwrap_err();
    /// assert_eq!(err.to_string(), "stage 1 (constant(5)) has no duration; every stage needs one");
    /// ```
    pub fn validate(&self) -> Result<(), VolumeError> {
        let bad_duration = |d: f64| !(d.is_finite() && d > 0.0);
        match self {
            VolumeModel::Arrivals { rate, max_in_flight } => {
                rate.validate()?;
                if *max_in_flight == 0 {
                    return Err(VolumeError::NoSlots);
                }
                Ok(())
            }
            VolumeModel::Nothing { duration_s } | VolumeModel::Ramp { duration_s, .. } if bad_duration(*duration_s) => {
                Err(VolumeError::Duration { duration_s: *duration_s })
            }
            VolumeModel::Constant { duration_s: Some(d), .. } if bad_duration(*d) => {
                Err(VolumeError::Duration { duration_s: *d })
            }
            VolumeModel::Stages(stages) => {
                if stages.is_empty() {
                    return Err(VolumeError::NoStages);
                }
                for (i, stage) in stages.iter().enumerate() {
                    stage.validate().map_err(|e| VolumeError::Stage { number: i + 1, source: Box::new(e) })?;
                    if stage.duration_s().is_none() {
                        return Err(VolumeError::StageWithoutDuration { number: i + 1, stage: format!("{stage:?}") });
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// How long the model runs before it stops by itself, when it says.
    ///
    /// ```
    /// # use mite_core::prelude::VolumeModel;
    /// let warm_then_soak = VolumeModel::Stages(vec![
    ///     VolumeModel::Ramp { from: 0, to: 20, duration_s: 30.0 },
    ///     VolumeModel::Constant { journeys: 20, duration_s: Some(300.0) },
    /// ]);
    /// assert_eq!(warm_then_soak.duration_s(), Some(330.0));
    /// assert_eq!(VolumeModel::constant(20).duration_s(), None);
    /// ```
    pub fn duration_s(&self) -> Option<f64> {
        match self {
            VolumeModel::Nothing { duration_s } | VolumeModel::Ramp { duration_s, .. } => Some(*duration_s),
            VolumeModel::Constant { duration_s, .. } => *duration_s,
            VolumeModel::Stages(stages) => stages.iter().map(VolumeModel::duration_s).sum(),
            VolumeModel::Oneshot { .. } | VolumeModel::Custom(_) => None,
            VolumeModel::Arrivals { rate, .. } => rate.duration_s(),
        }
    }

    /// Checks what depends on how many parts (cores × segments) the load is split into: each
    /// part needs at least one journey slot (wrk2's trap of a rate below the thread count is
    /// avoided by splitting rates fractionally, but slots are whole).
    #[doc(hidden)]
    pub fn validate_split(&self, parts: usize) -> Result<(), VolumeError> {
        if let VolumeModel::Arrivals { max_in_flight, .. } = self
            && *max_in_flight < parts as u64
        {
            return Err(VolumeError::SlotsBelowParts { max_in_flight: *max_in_flight, parts });
        }
        if let Some(peak) = self.peak_journeys() {
            let per_part = peak.div_ceil(parts.max(1) as u64);
            if per_part > JOURNEYS_PER_CORE_MAX {
                return Err(VolumeError::JourneysPerCore { peak, parts, per_part });
            }
        }
        if let VolumeModel::Arrivals { rate, .. } = self {
            let per_part = rate.peak_per_s() / parts as f64;
            if per_part > ARRIVALS_PER_S_PER_CORE_MAX {
                let peak_per_s = rate.peak_per_s();
                return Err(VolumeError::RatePerCore { peak_per_s, parts, per_part_per_s: per_part });
            }
        }
        Ok(())
    }

    /// The most journeys the model keeps in flight at once (`None`: a custom model, which
    /// only says as it runs).
    ///
    /// ```
    /// # use mite_core::prelude::VolumeModel;
    /// let warm_then_soak = VolumeModel::Stages(vec![
    ///     VolumeModel::Ramp { from: 0, to: 40, duration_s: 60.0 },
    ///     VolumeModel::Constant { journeys: 25, duration_s: Some(300.0) },
    /// ]);
    /// assert_eq!(warm_then_soak.peak_journeys(), Some(40));
    /// assert_eq!(VolumeModel::Custom(std::sync::Arc::new(|_, _| Some(3))).peak_journeys(), None);
    /// ```
    pub fn peak_journeys(&self) -> Option<u64> {
        match self {
            VolumeModel::Nothing { .. } => Some(0),
            VolumeModel::Constant { journeys, .. } | VolumeModel::Oneshot { journeys } => Some(*journeys),
            VolumeModel::Ramp { from, to, .. } => Some((*from).max(*to)),
            VolumeModel::Stages(stages) => {
                stages.iter().map(VolumeModel::peak_journeys).try_fold(0, |peak, p| p.map(|p| peak.max(p)))
            }
            VolumeModel::Arrivals { max_in_flight, .. } => Some(*max_in_flight),
            VolumeModel::Custom(_) => None,
        }
    }

    /// True for the open (arrival-rate) model.
    ///
    /// ```
    /// # use mite_core::prelude::VolumeModel;
    /// assert!(!VolumeModel::constant(5).is_open()); // closed: journeys in flight, not arrivals
    /// ```
    pub fn is_open(&self) -> bool {
        matches!(self, VolumeModel::Arrivals { .. })
    }

    /// Whether a journey that finishes is started again while the target allows.
    #[doc(hidden)]
    pub fn restarts(&self) -> bool {
        !matches!(self, VolumeModel::Oneshot { .. })
    }

    /// Journeys in flight for the tick window, or `None` to stop.
    ///
    /// ```
    /// # use mite_core::prelude::VolumeModel;
    /// let ramp = VolumeModel::Ramp { from: 0, to: 100, duration_s: 10.0 };
    /// assert_eq!(ramp.target(4.0, 5.0), Some(50)); // evaluated at the end of the tick
    /// assert_eq!(ramp.target(9.0, 10.0), None); // the ramp is over: stop
    /// assert_eq!(VolumeModel::Nothing { duration_s: 5.0 }.target(0.0, 1.0), Some(0));
    /// ```
    pub fn target(&self, start_s: f64, end_s: f64) -> Option<u64> {
        match self {
            VolumeModel::Nothing { duration_s } => (end_s < *duration_s).then_some(0),
            VolumeModel::Constant { journeys, duration_s } => match duration_s {
                Some(d) if end_s >= *d => None,
                _ => Some(*journeys),
            },
            VolumeModel::Ramp { from, to, duration_s } => {
                if end_s >= *duration_s {
                    return None;
                }
                let progress = (end_s / duration_s).clamp(0.0, 1.0);
                let value = *from as f64 + (*to as f64 - *from as f64) * progress;
                Some(value.round() as u64)
            }
            VolumeModel::Stages(stages) => {
                let mut offset = 0.0;
                for stage in stages {
                    let length = stage.duration_s().unwrap_or(0.0);
                    if end_s < offset + length {
                        return stage.target((start_s - offset).max(0.0), end_s - offset);
                    }
                    offset += length;
                }
                None
            }
            VolumeModel::Oneshot { journeys } => Some(*journeys),
            VolumeModel::Custom(f) => f(start_s, end_s),
            // Open models are driven by their arrival schedule, not by this target.
            VolumeModel::Arrivals { rate, .. } => rate.rate_at(end_s).map(|_| 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_journeys_than_the_cores_hold_are_refused() {
        let at_limit = VolumeModel::constant(JOURNEYS_PER_CORE_MAX * 2);
        assert!(at_limit.validate_split(2).is_ok());
        let over = VolumeModel::constant(JOURNEYS_PER_CORE_MAX * 2 + 1).validate_split(2).unwrap_err();
        assert!(matches!(over, VolumeError::JourneysPerCore { per_part, .. } if per_part == JOURNEYS_PER_CORE_MAX + 1));
        let said = over.to_string();
        assert!(said.contains("over 2 cores is") && said.contains("needs at least 3 cores"), "{said}");
        let huge = VolumeModel::Stages(vec![
            VolumeModel::Constant { journeys: 1, duration_s: Some(1.0) },
            VolumeModel::Ramp { from: 0, to: 4_000_000_000, duration_s: 1.0 },
        ]);
        assert!(huge.validate_split(1).unwrap_err().to_string().contains("add cores or segments"));
        assert!(VolumeModel::Custom(Arc::new(|_, _| Some(u64::MAX))).validate_split(1).is_ok());
    }

    #[test]
    fn ramp_is_linear_then_stops() {
        let ramp = VolumeModel::Ramp { from: 0, to: 100, duration_s: 10.0 };
        assert_eq!(ramp.target(0.0, 0.0), Some(0));
        assert_eq!(ramp.target(4.0, 5.0), Some(50));
        assert_eq!(ramp.target(9.0, 9.9), Some(99));
        assert_eq!(ramp.target(9.0, 10.0), None);
    }

    #[test]
    fn stages_run_in_order() {
        let stages = VolumeModel::Stages(vec![
            VolumeModel::Ramp { from: 0, to: 10, duration_s: 10.0 },
            VolumeModel::Constant { journeys: 10, duration_s: Some(20.0) },
            VolumeModel::Nothing { duration_s: 5.0 },
        ]);
        assert!(stages.validate().is_ok());
        assert_eq!(stages.duration_s(), Some(35.0));
        assert_eq!(stages.target(4.0, 5.0), Some(5));
        assert_eq!(stages.target(14.0, 15.0), Some(10));
        assert_eq!(stages.target(31.0, 32.0), Some(0));
        assert_eq!(stages.target(34.0, 35.0), None);
    }

    #[test]
    fn invalid_models_say_why() {
        let err = VolumeModel::Ramp { from: 0, to: 1, duration_s: -1.0 }.validate().unwrap_err();
        assert!(err.to_string().contains("positive"), "{err}");
        let err = VolumeModel::Stages(vec![VolumeModel::constant(1)]).validate().unwrap_err();
        assert!(err.to_string().contains("stage 1"), "{err}");
        assert!(VolumeModel::Stages(vec![]).validate().is_err());
    }

    #[test]
    fn open_models_validate_against_the_split() {
        let open = |per_s: f64, max_in_flight: u64| VolumeModel::Arrivals {
            rate: RateModel::Constant { per_s, duration_s: Some(10.0) },
            max_in_flight,
        };
        assert!(open(1.5, 4).validate_split(4).is_ok(), "a rate below the core count is fine");
        assert!(open(100.0, 3).validate_split(4).unwrap_err().to_string().contains("max_in_flight 3"));
        assert!(open(1e8, 1000).validate_split(4).unwrap_err().to_string().contains("cannot start"));
        assert!(open(-1.0, 10).validate().is_err());
        let ramp = RateModel::Ramp { from: 10.0, to: 30.0, duration_s: 10.0 };
        assert_eq!(ramp.rate_at(5.0), Some(20.0));
        assert_eq!(ramp.rate_at(10.0), None);
        let stages = RateModel::Stages(vec![RateModel::Constant { per_s: 5.0, duration_s: Some(2.0) }, ramp]);
        assert_eq!(stages.rate_at(1.0), Some(5.0));
        assert_eq!(stages.rate_at(7.0), Some(20.0));
        assert_eq!(stages.duration_s(), Some(12.0));
        assert_eq!(stages.peak_per_s(), 30.0);
    }

    #[test]
    fn rates_at_their_bounds() {
        let open = |per_s: f64| VolumeModel::Arrivals {
            rate: RateModel::Constant { per_s, duration_s: Some(10.0) },
            max_in_flight: 1000,
        };
        assert!(open(ARRIVALS_PER_S_MIN).validate().is_ok());
        assert!(open(0.0).validate().is_ok());
        let err = open(ARRIVALS_PER_S_MIN / 2.0).validate().unwrap_err();
        assert!(err.to_string().contains(&format!("from {ARRIVALS_PER_S_MIN} up")), "{err}");
        assert!(open(ARRIVALS_PER_S_PER_CORE_MAX * 4.0).validate_split(4).is_ok());
        let err = open(ARRIVALS_PER_S_PER_CORE_MAX * 4.0 + 8.0).validate_split(4).unwrap_err();
        assert!(err.to_string().contains("cannot start more than"), "{err}");
    }

    #[test]
    fn constant_without_duration_never_stops() {
        assert_eq!(VolumeModel::constant(7).target(1e6, 1e6 + 1.0), Some(7));
    }

    #[test]
    fn custom_model_can_stop() {
        let model = VolumeModel::Custom(Arc::new(|_, end| (end < 3.0).then_some(2)));
        assert_eq!(model.target(0.0, 1.0), Some(2));
        assert_eq!(model.target(2.0, 3.0), None);
    }
}
