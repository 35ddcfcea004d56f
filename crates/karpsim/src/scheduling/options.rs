//! Settings of the provisioning scheduler. Defaults reproduce Karpenter with the AWS provider.

/// `PREFERENCE_POLICY` (§3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum PreferencePolicy {
    #[default]
    Respect,
    Ignore,
}

/// `MIN_VALUES_POLICY` (§2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum MinValuesPolicy {
    #[default]
    Strict,
    BestEffort,
}

/// How the launched instance is chosen among a NodeClaim's options (§4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum LaunchPolicy {
    /// The AWS provider: capacity type reserved, then spot, then on-demand; within it the cheapest
    /// offering (the deterministic stand-in for EC2 Fleet's `price-capacity-optimized` spot and
    /// `lowest-price` on-demand strategies).
    #[default]
    CapacityTypePrecedence,
    /// The cheapest compatible offering whatever its capacity type (a lower bound on cost).
    Cheapest,
}

/// Where topology spread and affinity domains come from (§3.9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum TopologyDomains {
    /// Karpenter v1.14.1 (`topology.go: buildDomainGroups`): the label values of every instance type
    /// of each NodePool (all types of its node class, intersected per key with the NodePool's
    /// requirements), so a zone where only types the NodePool cannot launch are offered is still a
    /// domain, and a spread with `DoNotSchedule` may wait for it forever
    /// (kubernetes-sigs/karpenter#3272).
    #[default]
    Karpenter,
    /// Not Karpenter: only the values of instance types a NodePool can launch (compatible with its
    /// requirements, with an available offering), what kube-scheduler would see once such nodes exist.
    Launchable,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ProvisionOptions {
    /// Instance types written into a NodeClaim. Core's `MaxInstanceTypes` is 600 since v1.7, but the
    /// AWS provider sends at most 60 to CreateFleet (`instance.go`), so 60 is what decides a launch.
    pub max_instance_types: usize,
    pub preference_policy: PreferencePolicy,
    pub min_values_policy: MinValuesPolicy,
    pub launch_policy: LaunchPolicy,
    /// Not Karpenter: decrement `limits.nodes` for each NodeClaim opened in the same run. Karpenter
    /// does not (instance-type capacities carry no `nodes` entry, §3.8), so a burst can overshoot.
    pub count_new_nodes_against_limits: bool,
    pub topology_domains: TopologyDomains,
}

impl Default for ProvisionOptions {
    fn default() -> Self {
        ProvisionOptions {
            max_instance_types: 60,
            preference_policy: PreferencePolicy::Respect,
            min_values_policy: MinValuesPolicy::Strict,
            launch_policy: LaunchPolicy::CapacityTypePrecedence,
            count_new_nodes_against_limits: false,
            topology_domains: TopologyDomains::Karpenter,
        }
    }
}
