//! `karpsim advise`: a search over NodePool settings, each candidate run through karpsim's faithful
//! Karpenter (provisioning, then consolidation until stable, or a whole scenario over time), with
//! the NodePool manifests of the best ones.
//!
//! The search starts from what the proven bound's best packing uses (its instance families,
//! categories, capacity types and sizes), tries each allowed change alone, then combines the best
//! (a greedy coordinate search). Candidates run in parallel on rayon, or on any executor through
//! [`advise_with`] (each candidate a serialisable [`Job`]); results come back in a fixed order and
//! are ranked with written tie-breaks, so the answer is the same on any thread count or executor.

pub mod manifest;
pub mod space;

use super::bound::{BoundOptions, BoundResult, bound};
use crate::whatif::cluster::provision_and_launch;
use crate::whatif::run_warnings;
use crate::disruption::{DisruptionOptions, until_stable_state};
use crate::labels::Sym;
use crate::model::NodePool;
use crate::scheduling::ProvisionOptions;
use crate::sim::whatif::summarize;
use crate::sim::{Scenario, SimOptions, simulate};
use crate::state::ClusterState;
use rayon::prelude::*;
use space::{ARCH, Allowed, CAPACITY_TYPE, CATEGORY, CPU, Candidate, Change, FAMILY, GENERATION};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AdviseOptions {
    pub provisioning: ProvisionOptions,
    pub disruption: DisruptionOptions,
    /// Rank by the cost after consolidation until stable (else by the provisioning cost).
    pub consolidate: bool,
    pub allowed: Allowed,
    /// Candidates evaluated at most (the baseline included).
    pub max_candidates: usize,
    /// Recommendations returned.
    pub recommendations: usize,
    /// Column-generation iterations of the bound.
    pub bound_iterations: usize,
    /// Wall-clock limit of the bound's search, in seconds.
    pub time_limit_seconds: Option<f64>,
}

impl Default for AdviseOptions {
    fn default() -> Self {
        AdviseOptions {
            provisioning: ProvisionOptions::default(),
            disruption: DisruptionOptions::default(),
            consolidate: true,
            allowed: Allowed::default(),
            max_candidates: 80,
            recommendations: 5,
            bound_iterations: BoundOptions::default().max_iterations,
            time_limit_seconds: None,
        }
    }
}

/// What a scenario run of a candidate gave.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScenarioOutcome {
    pub total_cost: f64,
    pub mean_cost_per_hour: f64,
    pub disruptions: u64,
    pub pod_wait_p95_s: f64,
    pub pending_at_end: usize,
}

/// One evaluated configuration.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recommendation {
    pub name: String,
    /// What changes against the input NodePools, one line each.
    pub changes: Vec<String>,
    /// The NodeClaims' cost of Karpenter's provisioning run (what `karpsim provision` prints).
    pub cost_per_hour: f64,
    /// The cost of every Karpenter node after consolidation until stable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_consolidation_cost_per_hour: Option<f64>,
    /// Consolidation commands until stable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disruptions: Option<usize>,
    pub nodes: usize,
    pub pending: usize,
    /// The ranking cost over the lower bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_lower_bound: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<ScenarioOutcome>,
    /// Complete NodePool manifests (multi-document YAML) for this configuration.
    pub nodepools_yaml: String,
    /// What this candidate's runs warned beyond the input's own warnings (a round cap that cut
    /// until-stable short, pods pending at the end of its scenario...): its figures carry them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AdviseResult {
    pub baseline: Recommendation,
    pub lower_bound_per_hour: f64,
    pub best_packing_cost_per_hour: f64,
    /// Best first: by cost with every pod placed (pending pods rank last), then fewer changes, then name.
    pub recommendations: Vec<Recommendation>,
    /// With a scenario: the names of candidates no other beats on mean cost, disruptions and p95
    /// pod wait together.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pareto: Vec<String>,
    pub candidates_evaluated: usize,
    pub warnings: Vec<String>,
}

/// The state with other NodePools; each takes the instance types of the pool it derives from.
pub fn with_pools(state: &ClusterState, pools: &[(NodePool, Sym)]) -> ClusterState {
    let mut s = state.clone();
    let mut types = BTreeMap::new();
    for (p, origin) in pools {
        if let Some(t) = state.pool_types.get(origin) {
            types.insert(p.name, t.clone());
        }
    }
    s.nodepools = pools.iter().map(|(p, _)| p.clone()).collect();
    s.pool_types = types;
    s
}

/// A point of the search: changes applied to every target NodePool, or (split) to a preferred
/// copy of each beside the original.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Spec {
    changes: Vec<Change>,
    split: bool,
}

impl Spec {
    fn name(&self) -> String {
        if self.changes.is_empty() && !self.split {
            return "baseline".into();
        }
        let mut parts: Vec<String> = self.changes.iter().map(|c| {
            let key = c.key.rsplit('/').next().unwrap_or(c.key);
            match c.operator {
                "Gt" => format!("{key}>{}", c.values.join(",")),
                "Lt" => format!("{key}<{}", c.values.join(",")),
                _ => format!("{key}={}", c.values.join("+")),
            }
        }).collect();
        if self.split {
            parts.insert(0, "preferred pool".into());
        }
        parts.join(" ")
    }

    fn job(&self, targets: &BTreeSet<Sym>) -> Job {
        let changes = self.changes.iter().map(|c| JobChange { key: c.key.to_string(), operator: c.operator.to_string(), values: c.values.clone() }).collect();
        Job { changes, split: self.split, targets: targets.iter().map(|t| t.to_string()).collect() }
    }

    fn of_job(job: &Job) -> crate::Result<Spec> {
        let bad = |what: String| crate::Error::Option { option: "advise job".into(), message: what };
        let mut changes = Vec::with_capacity(job.changes.len());
        for c in &job.changes {
            let key = [CAPACITY_TYPE, ARCH, CATEGORY, FAMILY, GENERATION, CPU].into_iter().find(|k| *k == c.key).ok_or_else(|| bad(format!("unknown key {:?}", c.key)))?;
            let operator = ["In", "Gt", "Lt"].into_iter().find(|o| *o == c.operator).ok_or_else(|| bad(format!("unknown operator {:?}", c.operator)))?;
            changes.push(Change { key, operator, values: c.values.clone() });
        }
        Ok(Spec { changes, split: job.split })
    }

    fn build(&self, state: &ClusterState, targets: &BTreeSet<Sym>, allowed: &Allowed) -> Option<Candidate> {
        let mut pools = Vec::new();
        let mut lines = Vec::new();
        for np in &state.nodepools {
            if !targets.contains(&np.name) {
                pools.push((np.clone(), np.name));
                continue;
            }
            let mut changed = np.clone();
            for c in &self.changes {
                changed = space::apply(&changed, c, allowed)?;
            }
            if self.split {
                let mut preferred = changed;
                preferred.name = Sym::new(&format!("{}-preferred", np.name));
                preferred.weight = 100;
                let mut fallback = np.clone();
                fallback.weight = fallback.weight.min(99);
                lines.push(format!("NodePool {} (weight 100) tried before {} (weight {}): {}", preferred.name, np.name, fallback.weight, self.changes.iter().map(Change::label).collect::<Vec<_>>().join("; ")));
                pools.push((preferred, np.name));
                pools.push((fallback, np.name));
            } else {
                for c in &self.changes {
                    lines.push(format!("NodePool {}: {}", np.name, c.label()));
                }
                pools.push((changed, np.name));
            }
        }
        Some(Candidate { name: self.name(), changes: lines, pools })
    }
}

struct Evaluated {
    rec: Recommendation,
    /// The ranking cost (infinite when pods stay pending).
    objective: f64,
}

/// One candidate of a round, serialisable, so that an executor in other processes (Dask, Ray, a
/// process pool) can run it with [`evaluate_job`] on the same state and options.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Job {
    pub changes: Vec<JobChange>,
    /// The changes go to a preferred copy of each target NodePool.
    pub split: bool,
    /// The NodePools the changes apply to.
    pub targets: Vec<String>,
}

/// A requirement a [`Job`] sets (a [`Change`] by its key's and operator's names).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JobChange {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// What [`evaluate_job`] gives back.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JobResult {
    pub recommendation: Recommendation,
    /// The ranking cost; `None` when pods stay pending (the candidate ranks last).
    pub objective: Option<f64>,
}

/// Run one candidate of [`advise_with`]'s rounds, on the state and options the search was given.
pub fn evaluate_job(state: &ClusterState, job: &Job, opts: &AdviseOptions, scenario: Option<&Scenario>) -> crate::Result<JobResult> {
    let spec = Spec::of_job(job)?;
    let targets: BTreeSet<Sym> = job.targets.iter().map(|t| Sym::new(t)).collect();
    let candidate = spec
        .build(state, &targets, &opts.allowed)
        .ok_or_else(|| crate::Error::Option { option: "advise job".into(), message: format!("{} does not apply to these NodePools", spec.name()) })?;
    let e = evaluate(state, &candidate, opts, scenario)?;
    Ok(JobResult { recommendation: e.rec, objective: e.objective.is_finite().then_some(e.objective) })
}

fn evaluate(state: &ClusterState, c: &Candidate, opts: &AdviseOptions, scenario: Option<&Scenario>) -> crate::Result<Evaluated> {
    let s = with_pools(state, &c.pools);
    let now = opts.disruption.now.unwrap_or_else(|| state.snapshot_time());
    let (prov, launched) = provision_and_launch(&s, &opts.provisioning, now);
    let existing: f64 = s.nodes.iter().filter(|n| n.nodepool.is_some()).map(|n| n.price.unwrap_or(0.0)).sum();
    let pending = prov.unschedulable.len();
    let mut warnings = run_warnings::own(&state.warnings, prov.warnings);
    let (after, disruptions, nodes) = if opts.consolidate {
        let d = DisruptionOptions { now: Some(now), provisioning: opts.provisioning.clone(), ..opts.disruption.clone() };
        let (r, end) = until_stable_state(&launched, &d);
        warnings = run_warnings::own(&state.warnings, [warnings, r.warnings].concat());
        let managed: Vec<_> = end.nodes.iter().filter(|n| n.nodepool.is_some()).collect();
        (Some(managed.iter().map(|n| n.price.unwrap_or(0.0)).sum::<f64>()), Some(r.commands.len()), managed.len())
    } else {
        (None, None, launched.nodes.iter().filter(|n| n.nodepool.is_some()).count())
    };
    let scenario = scenario.map(|sc| -> crate::Result<ScenarioOutcome> {
        let mut sc = sc.clone();
        sc.base = with_pools(&sc.base, &c.pools);
        let r = simulate(&sc, &SimOptions { provisioning: opts.provisioning.clone(), disruption: opts.disruption.clone() })?;
        let row = summarize(&c.name, &r);
        warnings = run_warnings::own(&sc.base.warnings, [std::mem::take(&mut warnings), r.warnings].concat());
        Ok(ScenarioOutcome {
            total_cost: row.total_cost,
            mean_cost_per_hour: row.mean_cost_per_hour,
            disruptions: row.disruptions,
            pod_wait_p95_s: row.pod_wait_p95_s,
            pending_at_end: row.pending_at_end,
        })
    });
    // a simulation refused (a work limit) refuses the search: the candidate cannot be compared
    let scenario = scenario.transpose()?;
    let objective = if pending > 0 {
        f64::INFINITY
    } else if let Some(o) = &scenario {
        o.mean_cost_per_hour
    } else {
        after.unwrap_or(prov.cost_per_hour + existing)
    };
    let pools: Vec<NodePool> = c.pools.iter().map(|(p, _)| p.clone()).collect();
    let rec = Recommendation {
        name: c.name.clone(),
        changes: c.changes.clone(),
        cost_per_hour: prov.cost_per_hour,
        after_consolidation_cost_per_hour: after,
        disruptions,
        nodes,
        pending,
        vs_lower_bound: None,
        scenario,
        nodepools_yaml: manifest::to_yaml(&pools),
        warnings,
    };
    Ok(Evaluated { rec, objective })
}

/// Labels of the instance types the best packing uses, weighted by what they cost.
struct PackingMix {
    families: Vec<String>,
    categories: Vec<String>,
    capacity_types: Vec<String>,
    architectures: Vec<String>,
    max_cpu: i64,
}

fn packing_mix(state: &ClusterState, b: &BoundResult) -> PackingMix {
    let mut share: BTreeMap<(&'static str, String), f64> = BTreeMap::new();
    let mut max_cpu = 0i64;
    for n in b.best_packing.nodes.iter().filter(|n| n.existing.is_none()) {
        let Some(pt) = state.pool_types.get(&Sym::new(&n.nodepool)) else { continue };
        let Some(t) = pt.types.iter().find(|t| t.it.name.as_str() == n.instance_type) else { continue };
        for key in [FAMILY, CATEGORY, ARCH] {
            if let Some(Some(v)) = t.it.label(Sym::new(key)) {
                *share.entry((key, v.to_string())).or_default() += n.price_per_hour;
            }
        }
        *share.entry((CAPACITY_TYPE, n.capacity_type.clone())).or_default() += n.price_per_hour;
        if let Some(Some(v)) = t.it.label(Sym::new(CPU)) {
            max_cpu = max_cpu.max(v.as_str().parse().unwrap_or(0));
        }
    }
    let ranked = |key: &str| {
        let mut v: Vec<(String, f64)> = share.iter().filter(|((k, _), _)| *k == key).map(|((_, v), s)| (v.clone(), *s)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter().map(|(v, _)| v).collect::<Vec<_>>()
    };
    PackingMix { families: ranked(FAMILY), categories: ranked(CATEGORY), capacity_types: ranked(CAPACITY_TYPE), architectures: ranked(ARCH), max_cpu }
}

/// The single changes tried, grouped by axis (one change per axis in a candidate).
fn axes(state: &ClusterState, targets: &[&NodePool], mix: &PackingMix, allowed: &Allowed) -> Vec<Vec<Change>> {
    let mut out: Vec<Vec<Change>> = Vec::new();
    let in_ = |key: &'static str, values: Vec<String>| Change { key, operator: "In", values };
    let pool_values = |key: &str, default: &[&str]| -> Vec<String> {
        let mut set = BTreeSet::new();
        for p in targets {
            match p.requirements.iter().find(|r| r.key.as_str() == key && r.operator == "In") {
                Some(r) => set.extend(r.values.iter().cloned()),
                None => set.extend(default.iter().map(|s| s.to_string())),
            }
        }
        set.into_iter().collect::<Vec<_>>()
    };
    let ct = allowed.capacity_types.clone().unwrap_or_else(|| pool_values(CAPACITY_TYPE, &["spot", "on-demand"]));
    out.push(space::subsets(&ct).into_iter().map(|v| in_(CAPACITY_TYPE, v)).collect());
    let arch = allowed.architectures.clone().unwrap_or_else(|| pool_values(ARCH, &["amd64", "arm64"]));
    out.push(space::subsets(&arch).into_iter().map(|v| in_(ARCH, v)).collect());
    let cat = space::catalogue(state, targets);
    if allowed.categories {
        let mut v: Vec<Change> = mix.categories.iter().take(3).map(|c| in_(CATEGORY, vec![c.clone()])).collect();
        if mix.categories.len() > 1 {
            let mut all = mix.categories.clone();
            all.sort();
            v.push(in_(CATEGORY, all));
        }
        out.push(v);
    }
    if allowed.families {
        let mut v = Vec::new();
        for k in 1..=mix.families.len().min(4) {
            let mut f: Vec<String> = mix.families[..k].to_vec();
            f.sort();
            v.push(in_(FAMILY, f));
        }
        out.push(v);
    }
    if allowed.generations {
        let gens: Vec<i64> = cat.generations.iter().copied().collect();
        out.push(gens.iter().skip(1).rev().take(3).map(|g| Change { key: GENERATION, operator: "Gt", values: vec![(g - 1).to_string()] }).collect());
    }
    if allowed.sizes {
        let mut caps: BTreeSet<i64> = [8i64, 16, 32, 48, 64, 96, 128].into_iter().collect();
        if mix.max_cpu > 0 {
            caps.insert(mix.max_cpu);
        }
        out.push(caps.into_iter().filter(|&c| c < cat.max_cpu).map(|c| Change { key: CPU, operator: "Lt", values: vec![(c + 1).to_string()] }).collect());
    }
    out.retain(|a| !a.is_empty());
    out
}

/// Search NodePool configurations for the state's pods (and, with a scenario, over its run); the
/// candidates of each round run in parallel on rayon.
pub fn advise(state: &ClusterState, opts: &AdviseOptions, scenario: Option<&Scenario>) -> crate::Result<AdviseResult> {
    advise_with(state, opts, scenario, |jobs| jobs.par_iter().map(|j| evaluate_job(state, j, opts, scenario)).collect())
}

/// [`advise`] with the candidates of each round run by `run_round`, which returns one result per
/// job, in the jobs' order (e.g. [`evaluate_job`] on an executor's workers). The ranking and the
/// result are [`advise`]'s whenever `run_round` returns what [`evaluate_job`] does.
pub fn advise_with(
    state: &ClusterState,
    opts: &AdviseOptions,
    scenario: Option<&Scenario>,
    mut run_round: impl FnMut(&[Job]) -> crate::Result<Vec<JobResult>>,
) -> crate::Result<AdviseResult> {
    let mut warnings = state.warnings.clone();
    let dynamic: Vec<&NodePool> = state.nodepools.iter().filter(|p| p.replicas.is_none()).collect();
    // the bound over the widest configuration the user allows
    let widest = {
        let mut pools: Vec<(NodePool, Sym)> = Vec::new();
        for p in &state.nodepools {
            let mut q = p.clone();
            for (key, vals) in [(CAPACITY_TYPE, &opts.allowed.capacity_types), (ARCH, &opts.allowed.architectures)] {
                if let Some(v) = vals {
                    q.set_requirement(crate::model::NodeSelectorRequirement { key: Sym::new(key), operator: "In".into(), values: v.clone(), min_values: None });
                }
            }
            pools.push((q, p.name));
        }
        with_pools(state, &pools)
    };
    let b = bound(
        &widest,
        &BoundOptions {
            provisioning: opts.provisioning.clone(),
            disruption: opts.disruption.clone(),
            consolidate: false,
            max_iterations: opts.bound_iterations,
            time_limit_seconds: opts.time_limit_seconds,
        },
    );
    let mix = packing_mix(&widest, &b);
    // NodePools Karpenter uses for these pods (all dynamic ones when it uses none)
    let baseline_prov = crate::scheduling::provision(state, &opts.provisioning);
    let mut targets: BTreeSet<Sym> = baseline_prov.nodeclaims.iter().map(|n| Sym::new(&n.nodepool)).collect();
    if targets.is_empty() {
        targets = dynamic.iter().map(|p| p.name).collect();
    }
    let target_pools: Vec<&NodePool> = dynamic.iter().copied().filter(|p| targets.contains(&p.name)).collect();
    let axes = axes(state, &target_pools, &mix, &opts.allowed);

    let mut seen: BTreeSet<Spec> = BTreeSet::new();
    let mut done: Vec<Evaluated> = Vec::new();
    let mut run = |specs: Vec<Spec>, seen: &mut BTreeSet<Spec>, done: &mut Vec<Evaluated>| -> crate::Result<()> {
        let budget = opts.max_candidates.saturating_sub(done.len());
        // the specs that make a candidate (a change may allow nothing on these NodePools)
        let jobs: Vec<Job> = specs
            .into_iter()
            .filter(|s| seen.insert(s.clone()))
            .filter(|s| s.build(state, &targets, &opts.allowed).is_some())
            .take(budget)
            .map(|s| s.job(&targets))
            .collect();
        let results = run_round(&jobs)?;
        if results.len() != jobs.len() {
            return Err(crate::Error::Option { option: "advise".into(), message: format!("{} result(s) for {} candidate(s)", results.len(), jobs.len()) });
        }
        done.extend(results.into_iter().map(|r| Evaluated { objective: r.objective.unwrap_or(f64::INFINITY), rec: r.recommendation }));
        Ok(())
    };
    // round 1: the baseline, every single change, and what the best packing uses, alone and as a
    // preferred pool
    let mut first = vec![Spec { changes: Vec::new(), split: false }];
    for a in &axes {
        first.extend(a.iter().map(|c| Spec { changes: vec![c.clone()], split: false }));
    }
    let mut from_packing: Vec<Change> = Vec::new();
    if opts.allowed.families && !mix.families.is_empty() {
        let mut f = mix.families.clone();
        f.sort();
        from_packing.push(Change { key: FAMILY, operator: "In", values: f });
    }
    if !mix.capacity_types.is_empty() {
        let mut v = mix.capacity_types.clone();
        v.sort();
        from_packing.push(Change { key: CAPACITY_TYPE, operator: "In", values: v });
    }
    if !mix.architectures.is_empty() {
        let mut v = mix.architectures.clone();
        v.sort();
        from_packing.push(Change { key: ARCH, operator: "In", values: v });
    }
    if opts.allowed.sizes && mix.max_cpu > 0 {
        from_packing.push(Change { key: CPU, operator: "Lt", values: vec![(mix.max_cpu + 1).to_string()] });
    }
    from_packing.sort();
    if !from_packing.is_empty() {
        first.push(Spec { changes: from_packing.clone(), split: false });
        if opts.allowed.split {
            first.push(Spec { changes: from_packing.clone(), split: true });
        }
    }
    run(first, &mut seen, &mut done)?;
    // rounds 2 and 3: add one change on another axis to the best so far
    for _ in 0..2 {
        let mut ranked: Vec<&Evaluated> = done.iter().filter(|e| e.objective.is_finite()).collect();
        ranked.sort_by(|a, b| a.objective.total_cmp(&b.objective).then(a.rec.name.cmp(&b.rec.name)));
        let mut next = Vec::new();
        for e in ranked.iter().take(3) {
            let Some(spec) = seen.iter().find(|s| s.name() == e.rec.name).cloned() else { continue };
            for a in &axes {
                if spec.changes.iter().any(|c| a.first().is_some_and(|x| x.key == c.key)) {
                    continue;
                }
                for c in a {
                    let mut changes = spec.changes.clone();
                    changes.push(c.clone());
                    changes.sort();
                    next.push(Spec { changes, split: spec.split });
                }
            }
        }
        if next.is_empty() || done.len() >= opts.max_candidates {
            break;
        }
        run(next, &mut seen, &mut done)?;
    }

    let lb = b.lower_bound_per_hour;
    for e in &mut done {
        e.rec.vs_lower_bound = (lb > 0.0 && e.objective.is_finite()).then(|| e.objective / lb);
    }
    let baseline = done.iter().find(|e| e.rec.name == "baseline").map(|e| e.rec.clone()).expect("the baseline is evaluated first");
    let pareto = if scenario.is_some() { pareto(&done) } else { Vec::new() };
    let evaluated = done.len();
    // each candidate's own warnings, in the order they were evaluated (the baseline first)
    let runs = run_warnings::grouped("candidate", done.iter().map(|e| (e.rec.name.as_str(), &e.rec.warnings[..])), &warnings);
    warnings.extend(runs);
    // ties: fewer pending pods, then fewer changes, then the name
    done.sort_by(|a, b| {
        a.objective
            .total_cmp(&b.objective)
            .then(a.rec.pending.cmp(&b.rec.pending))
            .then(a.rec.changes.len().cmp(&b.rec.changes.len()))
            .then(a.rec.name.cmp(&b.rec.name))
    });
    if done.first().is_none_or(|e| !e.objective.is_finite()) {
        warnings.push("no configuration tried places every pod".into());
    }
    warnings.extend(b.warnings.iter().filter(|w| !warnings.contains(w)).cloned().collect::<Vec<_>>());
    let recommendations = done.into_iter().take(opts.recommendations.max(1)).map(|e| e.rec).collect();
    Ok(AdviseResult {
        baseline,
        lower_bound_per_hour: lb,
        best_packing_cost_per_hour: b.best_packing.cost_per_hour,
        recommendations,
        pareto,
        candidates_evaluated: evaluated,
        warnings,
    })
}

/// Names of the candidates no other beats on all of mean cost, disruptions and p95 wait.
fn pareto(done: &[Evaluated]) -> Vec<String> {
    let pts: Vec<(&str, f64, f64, f64)> = done
        .iter()
        .filter(|e| e.objective.is_finite())
        .filter_map(|e| e.rec.scenario.as_ref().map(|s| (e.rec.name.as_str(), s.mean_cost_per_hour, s.disruptions as f64, s.pod_wait_p95_s)))
        .collect();
    let mut out: Vec<String> = pts
        .iter()
        .filter(|a| !pts.iter().any(|b| b.1 <= a.1 && b.2 <= a.2 && b.3 <= a.3 && (b.1 < a.1 || b.2 < a.2 || b.3 < a.3)))
        .map(|a| a.0.to_string())
        .collect();
    out.sort();
    out
}
