//! Scheduler settings shared by the commands that run Karpenter's provisioning (`provision`,
//! `compare -f`, `bound`, `advise`).

use crate::args::{Launch, MinValues, TopologyDomainsArg};
use clap::Args;
use karpsim::scheduling::{LaunchPolicy, MinValuesPolicy, PreferencePolicy, ProvisionOptions, TopologyDomains};

/// The provisioning scheduler's settings.
#[derive(Debug, Clone, Args)]
pub struct SchedulerOpts {
    /// Instance types written into each NodeClaim (the AWS provider sends at most 60 to CreateFleet).
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_instance_types: u32,
    /// Ignore preferred affinities and ScheduleAnyway spreads (Karpenter's PREFERENCE_POLICY=Ignore).
    #[arg(long)]
    pub ignore_preferences: bool,
    /// How each NodeClaim's instance is chosen: Karpenter's capacity-type order, or the cheapest offering.
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = Launch::CapacityTypePrecedence)]
    pub launch: Launch,
    /// NodePool minValues: strict (Karpenter's default) or best-effort.
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = MinValues::Strict)]
    pub min_values: MinValues,
    /// Topology spread domains: every instance type of a NodePool's node class counts (Karpenter v1.14.1), or only types the NodePool can launch.
    #[arg(long, value_enum, value_name = "FROM", default_value_t = TopologyDomainsArg::Karpenter)]
    pub topology_domains: TopologyDomainsArg,
}

impl SchedulerOpts {
    /// The first flag whose setting differs from Karpenter's defaults, if any (`compare` over a
    /// scenario refuses them: its simulation provisions with the defaults).
    pub fn first_set(&self) -> Option<&'static str> {
        let given = self.provisioning();
        let default = ProvisionOptions::default();
        [
            ("--max-instance-types", given.max_instance_types != default.max_instance_types),
            ("--ignore-preferences", given.preference_policy != default.preference_policy),
            ("--launch", given.launch_policy != default.launch_policy),
            ("--min-values", given.min_values_policy != default.min_values_policy),
            ("--topology-domains", given.topology_domains != default.topology_domains),
        ]
        .into_iter()
        .find_map(|(flag, set)| set.then_some(flag))
    }

    pub fn provisioning(&self) -> ProvisionOptions {
        ProvisionOptions {
            max_instance_types: self.max_instance_types as usize,
            preference_policy: if self.ignore_preferences { PreferencePolicy::Ignore } else { PreferencePolicy::Respect },
            min_values_policy: match self.min_values {
                MinValues::Strict => MinValuesPolicy::Strict,
                MinValues::BestEffort => MinValuesPolicy::BestEffort,
            },
            launch_policy: match self.launch {
                Launch::CapacityTypePrecedence => LaunchPolicy::CapacityTypePrecedence,
                Launch::Cheapest => LaunchPolicy::Cheapest,
            },
            topology_domains: match self.topology_domains {
                TopologyDomainsArg::Karpenter => TopologyDomains::Karpenter,
                TopologyDomainsArg::Launchable => TopologyDomains::Launchable,
            },
            ..ProvisionOptions::default()
        }
    }
}

