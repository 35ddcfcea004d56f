//! The command line, as clap derive types. Kept apart from the commands so that tests and the Python
//! package can build the same values.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ABOUT: &str = "Simulate Karpenter's node provisioning over real AWS instance catalogs.\n\
Give it the YAML you already have (NodePools, EC2NodeClasses, workloads) and it prints the NodeClaims \
Karpenter would launch, what they cost, and why any pod would stay pending.";

const EXAMPLES: &str = "Examples:\n  \
karpsim provision -f examples/online-boutique\n  \
karpsim provision -f cluster/ --catalog aws:us-west-2 --output json\n  \
karpsim catalog --requirement 'karpenter.k8s.aws/instance-family In m7g'";

#[derive(Debug, Parser)]
#[command(name = "karpsim", version, about = ABOUT, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the instance types of a catalog: capacity, overhead, allocatable, labels, offerings.
    Catalog(CatalogArgs),
    /// Print the NodeClaims Karpenter would create for the pending pods of the inputs.
    Provision(ProvisionArgs),
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
    /// Catalog: aws:REGION (embedded: us-east-1, us-west-2, eu-west-1) or a custom JSON/YAML file.
    #[arg(long, value_name = "aws:REGION|PATH", default_value = "aws:us-east-1")]
    pub catalog: String,
    /// YAML/JSON file or directory holding an EC2NodeClass whose kubelet settings apply (repeatable).
    #[arg(short = 'f', long = "filename", value_name = "FILE_OR_DIR")]
    pub files: Vec<PathBuf>,
    /// Which EC2NodeClass of the -f inputs to apply (default: the first one).
    #[arg(long, value_name = "NAME")]
    pub nodeclass: Option<String>,
    /// Keep types matching a node-selector requirement, e.g. 'kubernetes.io/arch In arm64' (repeatable, ANDed).
    #[arg(short = 'r', long = "requirement", value_name = "KEY OP [VALUES]")]
    pub requirements: Vec<String>,
    /// Keep only this instance type (repeatable).
    #[arg(short = 't', long = "instance-type", value_name = "NAME")]
    pub instance_types: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// YAML/JSON file or directory of manifests: NodePools, EC2NodeClasses, workloads, Nodes (repeatable).
    #[arg(short = 'f', long = "filename", value_name = "FILE_OR_DIR", required = true)]
    pub files: Vec<PathBuf>,
    /// Catalog: aws:REGION (embedded: us-east-1, us-west-2, eu-west-1) or a custom JSON/YAML file.
    #[arg(long, value_name = "aws:REGION|PATH", default_value = "aws:us-east-1")]
    pub catalog: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Instance types written into each NodeClaim (the AWS provider sends at most 60 to CreateFleet).
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_instance_types: u32,
    /// Ignore preferred affinities and ScheduleAnyway spreads (Karpenter's PREFERENCE_POLICY=Ignore).
    #[arg(long)]
    pub ignore_preferences: bool,
    /// How each NodeClaim's instance is chosen: Karpenter's capacity-type order, or the cheapest offering.
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = Launch::CapacityTypePrecedence)]
    pub launch: Launch,
    /// NodePool minValues: strict (Karpenter's default) or best-effort (relax to what is available).
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = MinValues::Strict)]
    pub min_values: MinValues,
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
