//! An entry's `volume = { ... }`: exactly one closed model (constant, ramp, stages, oneshot,
//! nothing) or arrival-rate model (rate, ramp_rate, rate_stages), checked by the model itself.

use std::ops::Range;

use super::error::{ScenarioFileError, Source};
use super::schema::VolumeSpec;
use crate::limits::{
    ARRIVALS_IN_FLIGHT_DEFAULT, ARRIVALS_PER_S_PER_CORE_MAX, CORES_MAX, JOURNEYS_PER_CORE_MAX, SEGMENTS_MAX,
};
use crate::model::volume::{RateModel, VolumeModel};
use crate::scenario::duration::parse_duration;
use crate::scenario::file_words::rate;

/// The volume model at `field`; errors point at `span`, the entry's volume.
pub(super) fn volume(
    src: &Source<'_>,
    field: &str,
    spec: &VolumeSpec,
    span: Range<usize>,
) -> Result<VolumeModel, ScenarioFileError> {
    let err = |message: String| src.error(Some(span.clone()), field, message);
    if kinds(spec) != 1 {
        return Err(err("give exactly one of constant = N (with optional duration), ramp = { from, to, duration }, \
             stages = [...], oneshot = N, nothing = \"10s\", or an arrival rate: rate = R (with optional \
             duration), ramp_rate = { from, to, duration }, rate_stages = [...] (with max_in_flight)"
            .into()));
    }
    let duration = |text: &str| parse_duration(text).map(|d| d.as_secs_f64()).map_err(|e| err(e.to_string()));
    let open = spec.rate.is_some() || spec.ramp_rate.is_some() || spec.rate_stages.is_some();
    if spec.max_in_flight.is_some() && !open {
        return Err(err("max_in_flight applies to arrival-rate models (rate, ramp_rate, rate_stages) only".into()));
    }
    let model = if open {
        VolumeModel::Arrivals {
            rate: rate_model(src, field, spec, span.clone())?,
            max_in_flight: spec.max_in_flight.unwrap_or(ARRIVALS_IN_FLIGHT_DEFAULT),
        }
    } else if let Some(journeys) = spec.constant {
        VolumeModel::Constant { journeys, duration_s: spec.duration.as_deref().map(duration).transpose()? }
    } else if let Some(ramp) = &spec.ramp {
        VolumeModel::Ramp { from: ramp.from, to: ramp.to, duration_s: duration(&ramp.duration)? }
    } else if let Some(stages) = &spec.stages {
        let mut built = Vec::new();
        for (i, stage) in stages.iter().enumerate() {
            built.push(volume(src, &format!("{field}.stages[{i}]"), stage, span.clone())?);
        }
        VolumeModel::Stages(built)
    } else if let Some(journeys) = spec.oneshot {
        VolumeModel::Oneshot { journeys }
    } else {
        VolumeModel::Nothing { duration_s: duration(spec.nothing.as_deref().unwrap_or_default())? }
    };
    model.validate().map_err(|e| err(e.to_string()))?;
    reachable(&model).map_err(err)?;
    Ok(model)
}

/// A model some run can hold: one core starts at most `ARRIVALS_PER_S_PER_CORE_MAX` journeys
/// per second and holds at most `JOURNEYS_PER_CORE_MAX` in flight, and a run has at most
/// `CORES_MAX` cores in each of `SEGMENTS_MAX` segments. (A model beyond one core is checked
/// against the real cores when the run starts; `scenario check` warns about it.)
fn reachable(model: &VolumeModel) -> Result<(), String> {
    let parts = CORES_MAX as u64 * SEGMENTS_MAX as u64;
    let run = format!("a run has at most {CORES_MAX} cores in each of {SEGMENTS_MAX} segments");
    if let VolumeModel::Arrivals { rate: arrivals, .. } = model {
        let (peak_per_s, most) = (arrivals.peak_per_s(), ARRIVALS_PER_S_PER_CORE_MAX * parts as f64);
        if peak_per_s > most {
            return Err(format!(
                "a peak rate of {} journeys per second is more than any run can start: one core starts at \
                 most {ARRIVALS_PER_S_PER_CORE_MAX} per second, and {run} ({most:e} per second); lower the rate",
                rate(peak_per_s)
            ));
        }
    }
    match model.peak_journeys() {
        Some(peak) if peak.div_ceil(parts) > JOURNEYS_PER_CORE_MAX => Err(format!(
            "{peak} journeys in flight is more than any run can hold: one core holds at most \
             {JOURNEYS_PER_CORE_MAX}, and {run} ({} in all); lower it",
            JOURNEYS_PER_CORE_MAX * parts
        )),
        _ => Ok(()),
    }
}

/// How many kinds of model the table gives (one is right).
fn kinds(spec: &VolumeSpec) -> usize {
    [
        spec.constant.is_some(),
        spec.ramp.is_some(),
        spec.stages.is_some(),
        spec.oneshot.is_some(),
        spec.nothing.is_some(),
        spec.rate.is_some(),
        spec.ramp_rate.is_some(),
        spec.rate_stages.is_some(),
    ]
    .into_iter()
    .filter(|k| *k)
    .count()
}

fn rate_model(
    src: &Source<'_>,
    field: &str,
    spec: &VolumeSpec,
    span: Range<usize>,
) -> Result<RateModel, ScenarioFileError> {
    let err = |message: String| src.error(Some(span.clone()), field, message);
    let duration = |text: &str| parse_duration(text).map(|d| d.as_secs_f64()).map_err(|e| err(e.to_string()));
    if let Some(per_s) = spec.rate {
        Ok(RateModel::Constant { per_s, duration_s: spec.duration.as_deref().map(duration).transpose()? })
    } else if let Some(ramp) = &spec.ramp_rate {
        Ok(RateModel::Ramp { from: ramp.from, to: ramp.to, duration_s: duration(&ramp.duration)? })
    } else if let Some(stages) = &spec.rate_stages {
        let mut built = Vec::new();
        for (i, stage) in stages.iter().enumerate() {
            if stage.rate.is_none() && stage.ramp_rate.is_none() {
                return Err(err(format!(
                    "rate_stages[{i}]: each stage is {{ rate = R, duration = \"..\" }} or {{ ramp_rate = {{ from, to, duration }} }}"
                )));
            }
            built.push(rate_model(src, &format!("{field}.rate_stages[{i}]"), stage, span.clone())?);
        }
        Ok(RateModel::Stages(built))
    } else {
        Err(err("not an arrival-rate model".into()))
    }
}
