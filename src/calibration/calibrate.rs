//! `calibrate`: Nelder–Mead (argmin) over chosen parameters, in coordinates scaled to [0, 1]
//! by each parameter's bounds, with restarts around the best point until the evaluation
//! budget is spent. Every candidate runs the same seeds (common random numbers), in parallel,
//! and its loss is the weighted squared error of the mean over seeds against the targets.
//!
//! The search is deterministic: the same setup asks for the same candidates in the same order.
//! So an interrupted calibration resumes by replaying its history (`run_with`): each candidate
//! the search asks for again takes its recorded loss, and the search goes on from where it
//! stopped exactly as if it had never stopped.

use anyhow::bail;
use argmin::core::{CostFunction, Error, Executor};
use argmin::solver::neldermead::NelderMead;
use rayon::prelude::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::targets::{How, Parameter, Run, Targets};
use crate::config::{self, Config};
use crate::experiment::{RunSpec, run_to_memory};

pub struct Calibration {
    pub base: Config,
    pub targets: Targets,
    pub params: Vec<Parameter>,
    pub budget: usize,
    pub seeds: Vec<u64>,
    pub scale: f64,
}

/// The search stopped on request (the stop flag) after `evaluations` evaluations.
#[derive(Debug, thiserror::Error)]
#[error("the calibration stopped after {evaluations} evaluations")]
pub struct Stopped {
    pub evaluations: usize,
}

/// A recorded evaluation that is not the one the search asks for: the history is another
/// calibration's.
#[derive(Debug, thiserror::Error)]
#[error("evaluation {index} of the history is not the candidate this search asks for ({asked:?})")]
pub struct ReplayDiffers {
    pub index: usize,
    pub asked: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct Evaluation {
    pub index: usize,
    pub values: Vec<f64>,
    pub loss: f64,
}

pub struct Outcome {
    pub best: Evaluation,
    pub history: Vec<Evaluation>,
    /// The base config with the best values set (the run years as in the base).
    pub config: Config,
}

impl Calibration {
    /// The last year any target reads: candidates need not simulate past it.
    fn last_year(&self) -> i32 {
        self.targets
            .target
            .iter()
            .map(|t| match t.how {
                How::At => t.year.unwrap_or(i32::MAX),
                How::Max => t.years.map_or(i32::MAX, |[_, b]| b),
                How::Change | How::Difference | How::Cohort => {
                    t.from.unwrap_or(0).max(t.to.unwrap_or(0))
                }
            })
            .max()
            .unwrap_or(self.base.run.end_year)
            .min(self.base.run.end_year)
    }

    fn values(&self, x: &[f64]) -> Vec<f64> {
        self.params
            .iter()
            .zip(x)
            .map(|(p, u)| p.low + u.clamp(0.0, 1.0) * (p.high - p.low))
            .collect()
    }

    /// The base config with `values` set on the calibrated keys.
    pub fn config_with(&self, values: &[f64], end_year: Option<i32>) -> anyhow::Result<Config> {
        let mut sets: Vec<String> = self
            .params
            .iter()
            .zip(values)
            .map(|(p, v)| format!("{}={v}", p.key))
            .collect();
        if let Some(y) = end_year {
            sets.push(format!("run.end_year={y}"));
        }
        Ok(config::with_overrides(&self.base, &sets)?)
    }

    /// Simulate `config` for every seed (in parallel).
    pub fn runs(&self, config: &Config) -> Vec<Run> {
        self.seeds
            .par_iter()
            .map(|&seed| {
                Run::from_records(
                    &run_to_memory(
                        config,
                        &RunSpec {
                            seed,
                            scale: self.scale,
                        },
                    )
                    .1,
                )
            })
            .collect()
    }

    fn start(&self) -> anyhow::Result<Vec<f64>> {
        self.params
            .iter()
            .map(|p| {
                let v = config::get(&self.base, &p.key)?;
                if p.low.partial_cmp(&p.high) != Some(std::cmp::Ordering::Less)
                    || v < p.low
                    || v > p.high
                {
                    bail!(
                        "parameter {}: the base value {v} is outside its bounds {}..{}",
                        p.key,
                        p.low,
                        p.high
                    );
                }
                Ok((v - p.low) / (p.high - p.low))
            })
            .collect()
    }

    /// argmin evaluates the whole starting simplex (n + 1 points) before it looks at the
    /// budget, so a smaller budget would end inside it: refused as a usage error.
    pub fn check_budget(&self) -> Result<(), crate::config::UsageError> {
        let n = self.params.len();
        if self.budget < n + 1 {
            return Err(crate::config::UsageError(format!(
                "--budget {}: too small for {n} parameters; the search needs at least {} evaluations (parameters + 1)",
                self.budget,
                n + 1
            )));
        }
        Ok(())
    }

    /// A series key is a lever: a number sets its level from `run.lever_start_year`. If every
    /// target is read before that year, the parameter cannot move the loss: refused.
    pub fn check_levers(&self) -> Result<(), crate::config::UsageError> {
        let (last, start) = (self.last_year(), self.base.run.lever_start_year);
        match self
            .params
            .iter()
            .find(|p| config::is_series(&self.base, &p.key))
        {
            Some(p) if last < start => Err(crate::config::UsageError(format!(
                "--params {}: a series key, so a value sets its level from run.lever_start_year ({start}), after the last target year ({last}): it cannot move the loss; add --set run.lever_start_year={} to calibrate a level held over the whole run",
                p.key, self.base.run.start_year
            ))),
            _ => Ok(()),
        }
    }

    pub fn run(&self, on_eval: &mut (dyn FnMut(&Evaluation) + Send)) -> anyhow::Result<Outcome> {
        self.run_with(&[], None, on_eval)
    }

    /// `run`, taking the loss of evaluation i from `replay[i]` (a history read back; its values
    /// must be the candidate asked for, else `ReplayDiffers`) and stopping with `Stopped` once
    /// `stop` is set, between two evaluations. `on_eval` sees replayed evaluations too.
    pub fn run_with(
        &self,
        replay: &[Evaluation],
        stop: Option<&AtomicBool>,
        on_eval: &mut (dyn FnMut(&Evaluation) + Send),
    ) -> anyhow::Result<Outcome> {
        if self.params.is_empty() {
            bail!(
                "no parameters to calibrate: list them with --params or as [[parameter]] in the targets file"
            );
        }
        self.check_budget()?;
        self.check_levers()?;
        // Validate every key and its bounds before spending the budget.
        self.config_with(&self.params.iter().map(|p| p.low).collect::<Vec<_>>(), None)?;
        self.config_with(
            &self.params.iter().map(|p| p.high).collect::<Vec<_>>(),
            None,
        )?;
        let x0 = self.start()?;
        let end = self.last_year();
        let state = Mutex::new(Search {
            history: Vec::new(),
            on_eval,
            calls: 0,
            halt: None,
        });
        let problem = Problem {
            cal: self,
            end,
            state: &state,
            replay,
            stop,
        };
        let mut centre = x0;
        let mut size = 0.25;
        loop {
            let used = state.lock().expect("not poisoned").history.len();
            // argmin evaluates the whole starting simplex (n + 1 points) in `init` and
            // unwraps each cost, so a restart needs that much budget left.
            if used >= self.budget || (used > 0 && used + centre.len() + 1 > self.budget) {
                break;
            }
            let simplex = simplex(&centre, size);
            let solver = NelderMead::new(simplex).with_sd_tolerance(1e-4)?;
            state.lock().expect("not poisoned").calls = 0;
            let result = Executor::new(problem.clone(), solver)
                .configure(|s| s.max_iters((self.budget - used) as u64))
                .run();
            let mut s = state.lock().expect("not poisoned");
            let best = s.best().map(|b| b.values.clone());
            let evaluations = s.history.len();
            let halt = s.halt.take();
            drop(s);
            match halt {
                Some(Halt::Stopped) => return Err(Stopped { evaluations }.into()),
                Some(Halt::Differs(d)) => return Err(d.into()),
                None => {}
            }
            if let Err(e) = result
                && !e.to_string().contains(BUDGET_SPENT)
            {
                return Err(anyhow::anyhow!("optimiser failed: {e}"));
            }
            // Restart around the best point with a smaller simplex.
            if let Some(b) = best {
                centre = self
                    .params
                    .iter()
                    .zip(&b)
                    .map(|(p, v)| (v - p.low) / (p.high - p.low))
                    .collect();
            }
            size = (size * 0.5).max(0.02);
        }
        let s = state.into_inner().expect("not poisoned");
        let best = s.best().cloned().expect("at least one evaluation");
        let config = self.config_with(&best.values, None)?;
        Ok(Outcome {
            best,
            history: s.history,
            config,
        })
    }
}

const BUDGET_SPENT: &str = "evaluation budget spent";
const HALTED: &str = "calibration halted";

/// Why the search must end before its budget: told between two evaluations.
enum Halt {
    Stopped,
    Differs(ReplayDiffers),
}

struct Search<'a> {
    history: Vec<Evaluation>,
    on_eval: &'a mut (dyn FnMut(&Evaluation) + Send),
    /// Costs asked for by the current executor: its first n + 1 are the starting simplex.
    calls: usize,
    halt: Option<Halt>,
}

impl Search<'_> {
    fn best(&self) -> Option<&Evaluation> {
        self.history
            .iter()
            .min_by(|a, b| a.loss.total_cmp(&b.loss).then(a.index.cmp(&b.index)))
    }
}

struct Problem<'a, 'b> {
    cal: &'a Calibration,
    end: i32,
    state: &'a Mutex<Search<'b>>,
    replay: &'a [Evaluation],
    stop: Option<&'a AtomicBool>,
}

impl Clone for Problem<'_, '_> {
    fn clone(&self) -> Self {
        Problem {
            cal: self.cal,
            end: self.end,
            state: self.state,
            replay: self.replay,
            stop: self.stop,
        }
    }
}

impl CostFunction for Problem<'_, '_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        let (index, in_simplex, halted) = {
            let mut s = self.state.lock().expect("not poisoned");
            s.calls += 1;
            (
                s.history.len(),
                s.calls <= self.cal.params.len() + 1,
                s.halt.is_some(),
            )
        };
        // argmin unwraps the costs of the starting simplex: there a halt answers a finite
        // cost, recorded nowhere, and the executor's next call returns the error.
        let halt = |why: Option<Halt>| -> Result<f64, Error> {
            if let Some(why) = why {
                self.state
                    .lock()
                    .expect("not poisoned")
                    .halt
                    .get_or_insert(why);
            }
            if in_simplex {
                Ok(f64::MAX)
            } else {
                Err(Error::msg(HALTED))
            }
        };
        if halted {
            return halt(None);
        }
        if index >= self.cal.budget {
            return Err(Error::msg(BUDGET_SPENT));
        }
        let values = self.cal.values(x);
        let loss = match self.replay.get(index) {
            Some(old)
                if old
                    .values
                    .iter()
                    .map(|v| v.to_bits())
                    .eq(values.iter().map(|v| v.to_bits())) =>
            {
                old.loss
            }
            Some(_) => {
                return halt(Some(Halt::Differs(ReplayDiffers {
                    index,
                    asked: values,
                })));
            }
            None => {
                if self.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                    return halt(Some(Halt::Stopped));
                }
                // Leaving the box costs, so the simplex comes back inside.
                let outside: f64 = x
                    .iter()
                    .map(|u| (u - u.clamp(0.0, 1.0)).powi(2))
                    .sum::<f64>()
                    * 100.0;
                let config = self
                    .cal
                    .config_with(&values, Some(self.end))
                    .map_err(|e| Error::msg(e.to_string()))?;
                self.cal.targets.loss(&self.cal.runs(&config)) + outside
            }
        };
        let mut s = self.state.lock().expect("not poisoned");
        let e = Evaluation {
            index: s.history.len(),
            values,
            loss,
        };
        (s.on_eval)(&e);
        s.history.push(e);
        Ok(loss)
    }
}

/// A right-angled simplex of `size` around `centre` (kept inside the unit box).
fn simplex(centre: &[f64], size: f64) -> Vec<Vec<f64>> {
    let mut out = vec![centre.to_vec()];
    for i in 0..centre.len() {
        let mut p = centre.to_vec();
        p[i] = if p[i] + size <= 1.0 {
            p[i] + size
        } else {
            p[i] - size
        };
        out.push(p);
    }
    out
}
