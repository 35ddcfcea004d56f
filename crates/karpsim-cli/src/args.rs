//! The command line, as clap derive types. Kept apart from the commands so that tests and the Python
//! package can build the same values.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ABOUT: &str = "Simulate Karpenter's node provisioning over real AWS instance catalogs.\n\
Give it the YAML you already have (NodePools, EC2NodeClasses, workloads) and it prints the NodeClaims \
Karpenter would launch, what they cost, and why any pod would stay pending; what consolidation would do \
to a running cluster; and, over simulated time, what a cluster costs and how variants of it compare.";

const EXAMPLES: &str = "Examples:\n  \
karpsim provision -f examples/online-boutique\n  \
karpsim provision -f cluster/ --catalog aws:us-west-2 --output json\n  \
karpsim catalog --requirement 'karpenter.k8s.aws/instance-family In m7g'\n  \
karpsim consolidate -f examples/eks-snapshot/cluster.json --until-stable\n  \
karpsim simulate examples/diurnal-web/scenario.yaml --output csv out/\n  \
karpsim compare examples/diurnal-web/scenario.yaml --vary capacity_types=spot,on-demand --seeds 5\n  \
karpsim compare -f examples/online-boutique --vary arch=amd64,arm64\n  \
kubectl get pods -A -o json | karpsim trace from-pods - -o trace.csv\n  \
karpsim bound -f examples/bound/two-shapes.yaml -f examples/bound/nodepool-all-types.yaml\n  \
karpsim advise -f examples/bound/two-shapes.yaml -f examples/bound/nodepool-all-types.yaml";

#[derive(Debug, Parser)]
#[command(name = "karpsim", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    /// Print no warnings and no progress on stderr (errors still go there).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the instance types of a catalog: capacity, overhead, allocatable, labels, offerings.
    Catalog(CatalogArgs),
    /// Print the NodeClaims Karpenter would create for the pending pods of the inputs.
    Provision(ProvisionArgs),
    /// What Karpenter's disruption (expiration, emptiness, drift, consolidation) would do to a cluster.
    Consolidate(ConsolidateArgs),
    /// Run a scenario over simulated time: cost, nodes, utilisation, pod wait times, disruptions.
    Simulate(SimulateArgs),
    /// Run variants of a scenario side by side (in parallel), optionally over several seeds.
    #[command(after_help = compare_help())]
    Compare(CompareArgs),
    /// Recorded workloads: turn a cluster's pods into the event CSV a scenario's `trace` replays.
    Trace(TraceArgs),
    /// How far from optimal: Karpenter's cost, after consolidation, a proven lower bound, the best packing found.
    Bound(crate::bound_cmd::BoundArgs),
    /// What to change: NodePool configurations searched with karpsim's Karpenter, with their manifests.
    Advise(crate::advise_cmd::AdviseArgs),
}

/// The work limit every command that reads pods takes.
#[derive(Debug, Clone, Copy, Args)]
pub struct WorkOpts {
    /// Refuse inputs that hold more pods than this, controllers expanded (and simulations whose peak
    /// holds more): a mistyped replica count is reported instead of exhausting memory.
    #[arg(long, value_name = "N", default_value_t = karpsim::work::DEFAULT_MAX_PODS as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub pod_limit: u64,
}

impl WorkOpts {
    pub fn limits(&self) -> karpsim::WorkLimits {
        karpsim::WorkLimits::new(usize::try_from(self.pod_limit).unwrap_or(usize::MAX))
    }
}

/// The cap on until-stable's rounds, for every command that consolidates until stable.
#[derive(Debug, Clone, Copy, Args)]
pub struct RoundsOpts {
    /// Until stable: stop after N rounds even if methods still act, with a warning that the end
    /// state is partial (default: 2 x the cluster's nodes + 1,000, enough for every node to be
    /// disrupted once and its replacement once more; Karpenter itself has no cap).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rounds: Option<u64>,
}

impl RoundsOpts {
    /// `DisruptionOptions::max_rounds`: `None` lets the core follow the cluster's size.
    pub fn max_rounds(&self) -> Option<usize> {
        self.max_rounds.map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// On a command where until-stable is an option, `--max-rounds` needs `--until-stable`: one
    /// round would silently ignore it.
    pub fn only_until_stable(&self, until_stable: bool) -> karpsim::Result<()> {
        match self.max_rounds {
            Some(_) if !until_stable => {
                Err(karpsim::Error::Option { option: "--max-rounds".into(), message: "applies with --until-stable only".into() })
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Output {
    /// Aligned columns, for people.
    #[default]
    Table,
    /// One JSON document, for programs (stable keys).
    Json,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    #[command(flatten)]
    pub catalog: crate::catalog_opts::CatalogOpts,
    /// YAML/JSON file or directory: an EC2NodeClass whose kubelet settings and capacity reservations apply, NodeOverlays (repeatable).
    #[arg(short = 'f', long = "filename", value_name = "FILE_OR_DIR")]
    pub files: Vec<PathBuf>,
    /// Which EC2NodeClass of the -f inputs to apply (default: the --nodepool's, else the first one).
    #[arg(long, value_name = "NAME")]
    pub nodeclass: Option<String>,
    /// Apply the -f inputs' NodeOverlays as for this NodePool (its name and template labels).
    #[arg(long, value_name = "NAME")]
    pub nodepool: Option<String>,
    /// Keep types matching a node-selector requirement, e.g. 'kubernetes.io/arch In arm64' (repeatable, ANDed).
    #[arg(short = 'r', long = "requirement", value_name = "KEY OP [VALUES]")]
    pub requirements: Vec<String>,
    /// Keep only this instance type (repeatable).
    #[arg(short = 't', long = "instance-type", value_name = "NAME")]
    pub instance_types: Vec<String>,
    #[command(flatten)]
    pub work: WorkOpts,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// YAML/JSON file or directory of manifests: NodePools, EC2NodeClasses, workloads, Nodes (repeatable).
    #[arg(short = 'f', long = "filename", value_name = "FILE_OR_DIR", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub catalog: crate::catalog_opts::CatalogOpts,
    #[command(flatten)]
    pub work: WorkOpts,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub scheduler: crate::scheduler_opts::SchedulerOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TopologyDomainsArg {
    /// Zones (and other label values) of every instance type of the node class, even those the NodePool's requirements exclude (kubernetes-sigs/karpenter#3272).
    Karpenter,
    /// Only values of instance types the NodePool can launch (not Karpenter: what the nodes would show).
    Launchable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Launch {
    /// The cheapest compatible offering, whatever its capacity type (a lower bound on cost).
    Cheapest,
    /// reserved, then spot, then on-demand; the cheapest offering within it (the AWS provider).
    CapacityTypePrecedence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MinValues {
    /// Relax minValues when too few instance types remain.
    BestEffort,
    /// A NodeClaim must keep minValues distinct values (Karpenter's default).
    Strict,
}

#[derive(Debug, Args)]
pub struct ConsolidateArgs {
    /// YAML/JSON file or directory: a `kubectl get nodes,pods,pdb,nodepools,ec2nodeclasses -A -o json` snapshot or manifests (repeatable).
    #[arg(short = 'f', long = "filename", value_name = "SNAPSHOT_OR_DIR", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub catalog: crate::catalog_opts::CatalogOpts,
    /// Apply commands round after round until no method acts, and print the end state.
    #[arg(long)]
    pub until_stable: bool,
    /// Simulated time, RFC 3339 (default: the latest timestamp found in the inputs).
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Allow spot-to-spot consolidation (Karpenter's SpotToSpotConsolidation feature gate, off by default).
    #[arg(long)]
    pub spot_to_spot: bool,
    /// Candidate order: savings per disruption cost (Karpenter v1.14) or disruption cost ascending (v1.0–v1.13).
    #[arg(long, value_enum, value_name = "ORDER", default_value_t = CandidateOrderArg::SavingsRatio)]
    pub candidate_order: CandidateOrderArg,
    #[command(flatten)]
    pub rounds: RoundsOpts,
    #[command(flatten)]
    pub work: WorkOpts,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CandidateOrderArg {
    /// Price ÷ disruption cost, descending (Karpenter v1.14).
    SavingsRatio,
    /// Disruption cost ascending (Karpenter v1.0–v1.13).
    DisruptionCost,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The scenario file (YAML; see docs/scenarios.md).
    #[arg(value_name = "SCENARIO.yaml")]
    pub scenario: PathBuf,
    /// Simulated duration, overriding the scenario's (Go duration: 2h, 90m, 720h).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Random seed, overriding the scenario's.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub work: WorkOpts,
    /// Output: table, json, or `csv DIR` (series.csv, nodes_by_*.csv, events.csv, summary.json in DIR).
    #[arg(short = 'o', long, num_args = 1..=2, value_names = ["FORMAT", "DIR"], default_value = "table")]
    pub output: Vec<String>,
    /// Also compute the proven cost lower bound at every metrics interval (the scenario's settings.lower_bound).
    #[arg(long)]
    pub lower_bound: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The scenario file (YAML; see docs/scenarios.md). Or, instead, -f to compare provisioning of a cluster.
    #[arg(value_name = "SCENARIO.yaml", required_unless_present = "files", conflicts_with = "files")]
    pub scenario: Option<PathBuf>,
    /// Compare the provisioning of these manifests or snapshot instead of simulating a scenario (file or directory, repeatable).
    #[arg(short = 'f', long = "filename", value_name = "FILE_OR_DIR")]
    pub files: Vec<PathBuf>,
    /// With -f: after provisioning, run Karpenter's disruption until stable and compare where each variant settles.
    #[arg(long, requires = "files")]
    pub until_stable: bool,
    #[command(flatten)]
    pub rounds: RoundsOpts,
    #[command(flatten)]
    pub catalog: crate::catalog_opts::CatalogOpts,
    /// KEY=V1,V2,...: one variant per value; several --vary combine as a cartesian product (repeatable).
    #[arg(long = "vary", value_name = "KEY=V1,V2,...")]
    pub vary: Vec<String>,
    /// YAML file with a list of variants: `- {name: spot, changes: {capacity_types: spot}}`.
    #[arg(long, value_name = "FILE")]
    pub sweep: Option<PathBuf>,
    /// Run every variant with seeds 0..N-1 and show means with 95% confidence intervals (N = 1: the scenario's seed).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000), conflicts_with = "files")]
    pub seeds: u64,
    /// Simulated duration, overriding the scenario's (Go duration: 2h, 90m, 720h).
    #[arg(long, value_name = "DURATION", conflicts_with = "files")]
    pub duration: Option<String>,
    #[command(flatten)]
    pub work: WorkOpts,
    /// With -f: the provisioning scheduler's settings, as for `provision` (a scenario's runs use the defaults).
    #[command(flatten)]
    pub scheduler: crate::scheduler_opts::SchedulerOpts,
    /// Output: table, json, or `csv FILE` (one row per variant and seed).
    #[arg(short = 'o', long, num_args = 1..=2, value_names = ["FORMAT", "FILE"], default_value = "table")]
    pub output: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(subcommand)]
    pub command: TraceCommand,
}

#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Convert a `kubectl get pods -A -o json` dump into the pod event CSV of docs/scenarios.md.
    ///
    /// A create row per pod at its creationTimestamp; a delete row when it stopped (its containers'
    /// finishedAt if it Succeeded or Failed, else its deletionTimestamp). DaemonSet and mirror pods are
    /// skipped and counted on stderr. Timestamps are RFC 3339: the scenario's `start` places them.
    FromPods(FromPodsArgs),
}

#[derive(Debug, Args)]
pub struct FromPodsArgs {
    /// The dump: a List or PodList of Pods, or one Pod, JSON or YAML (a directory: every *.json/*.yaml under it; `-`: stdin).
    #[arg(value_name = "DUMP.json")]
    pub dump: PathBuf,
    #[command(flatten)]
    pub work: WorkOpts,
    /// Write the CSV to FILE (default: stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `karpsim compare --help`: how variants combine, and the keys they may change.
fn compare_help() -> String {
    let mut s = String::from(
        "Variants: the unmodified scenario (or cluster) is always the first row (\"base\"). Each --vary KEY=V1,V2 \
gives one variant per value; several --vary flags combine as a cartesian product (--vary a=1,2 --vary b=x,y gives \
a=1 b=x, a=1 b=y, a=2 b=x, a=2 b=y). A list value joins its items with '+' (instance_families=m7i+c7i). \
Variants of --sweep FILE come after those of --vary. Values the catalog decides (architectures, capacity types, \
families, categories, sizes, instance types) and NodePool names are checked; a typo is an error that lists the \
valid values.\n\nWith -f INPUTS instead of a scenario, each variant of the cluster is provisioned (and with \
--until-stable consolidated until stable) and compared by cost, nodes, pending pods and utilisation.\n\nKeys:\n",
    );
    let width = karpsim::sim::whatif::KEYS.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, what) in karpsim::sim::whatif::KEYS {
        s.push_str(&format!("  {k:width$}  {what}\n"));
    }
    s.push_str("\nExamples:\n  karpsim compare examples/diurnal-web/scenario.yaml --vary capacity_types=spot,on-demand --seeds 5\n  \
karpsim compare -f examples/online-boutique --vary arch=amd64,arm64,amd64+arm64\n  \
karpsim compare -f examples/eks-snapshot/cluster.json --until-stable --vary nodepools=default --vary capacity_types=spot,on-demand");
    s
}
