//! How much a NodeClaim's pods may request of each instance type and still fit it with its
//! DaemonSet overhead (`nodeclaim.go: filterInstanceTypesByRequirements` keeps a type when
//! `resources.Fits(requests + daemon overhead, allocatable)`). Most pods added to an open NodeClaim
//! leave its requirements as they are, so only that fit is checked again, for every option of the
//! claim: four comparisons against precomputed bounds instead of summing a `Resources` per option.

use super::daemons::DaemonGroup;
use crate::resources::Resources;
use crate::state::TypeInfo;

/// Per type: the largest cpu, memory, ephemeral storage and pod count a NodeClaim may request and
/// still fit the type with its DaemonSet group's overhead.
#[derive(Debug, Default)]
pub(crate) struct FitBounds {
    bounds: Vec<[i64; 4]>,
}

/// A bound no total meets: the type is always checked in full.
const CHECK_IN_FULL: [i64; 4] = [i64::MIN; 4];

impl FitBounds {
    /// `group_of` gives each type's index in `groups` (empty when the template launches nothing).
    pub fn new(types: &[TypeInfo], groups: &[DaemonGroup], group_of: &[u32]) -> FitBounds {
        let bounds = types
            .iter()
            .enumerate()
            .map(|(t, it)| {
                let Some(g) = group_of.get(t).and_then(|&g| groups.get(g as usize)) else { return CHECK_IN_FULL };
                let (a, o) = (&it.it.allocatable, &g.overhead);
                // Exact only where `total + overhead <= allocatable` cannot saturate and no other
                // resource takes part: non-negative amounts, no extended resources in the overhead
                // (callers check the total has none), and a non-negative allocatable (`fits`).
                // An allocatable of `i64::MAX` could be met by a saturated sum: no bound either,
                // so that a total outside the bounds surely does not fit ([`FitBounds::decide`]).
                let core = [a.cpu, a.memory, a.ephemeral_storage, a.pods];
                if a.any_negative() || o.any_negative() || !o.extended().is_empty() || core.contains(&i64::MAX) {
                    return CHECK_IN_FULL;
                }
                [a.cpu - o.cpu, a.memory - o.memory, a.ephemeral_storage - o.ephemeral_storage, a.pods - o.pods]
            })
            .collect();
        FitBounds { bounds }
    }

    /// Whether `total` (as `[cpu, memory, ephemeral storage, pods]`, from a `Resources` without
    /// extended resources) fits type `t` with its overhead, when the bounds decide it: within them it
    /// fits; outside them (some amount above a bound) `total + overhead` exceeds the allocatable
    /// on that resource, since `a - o < total` gives `total + o > a` (no overflow: `a < i64::MAX`,
    /// or a saturated sum of `i64::MAX` is still above `a`). `None`: type `t` has no bounds, the
    /// full check decides.
    #[inline]
    pub fn decide(&self, t: u32, total: &[i64; 4]) -> Option<bool> {
        let b = &self.bounds[t as usize];
        // a bound is `a - o` with both non-negative: never `i64::MIN` but for `CHECK_IN_FULL`
        (b[0] != i64::MIN).then(|| total[0] <= b[0] && total[1] <= b[1] && total[2] <= b[2] && total[3] <= b[3])
    }

    /// The core amounts [`FitBounds::decide`] compares, or `None` when `total` has extended
    /// resources (then only the full check is exact).
    pub fn core(total: &Resources) -> Option<[i64; 4]> {
        total.extended().is_empty().then_some([total.cpu, total.memory, total.ephemeral_storage, total.pods])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::custom::parse_custom_catalog;
    use std::sync::Arc;

    /// The bounds never claim a fit that the full check denies, and claim every fit of a type
    /// whose overhead has no extended resources: over a grid of totals around each bound.
    #[test]
    fn bounds_agree_with_the_full_fit() {
        let text = serde_json::json!({ "instance_types": [
            {"name": "small", "capacity": {"cpu": "2", "memory": "4Gi", "pods": "10"}, "offerings": [{"zone": "z", "capacity_type": "spot", "price": 1.0}]},
            {"name": "gpu", "capacity": {"cpu": "8", "memory": "32Gi", "pods": "50", "nvidia.com/gpu": "1"}, "offerings": [{"zone": "z", "capacity_type": "spot", "price": 2.0}]},
            {"name": "big", "capacity": {"cpu": "64", "memory": "256Gi", "pods": "110", "ephemeral-storage": "100Gi"}, "offerings": [{"zone": "z", "capacity_type": "spot", "price": 3.0}]},
        ]})
        .to_string();
        let catalog = parse_custom_catalog("bounds", &text).unwrap();
        let types: Vec<TypeInfo> = catalog.instance_types.iter().map(|it| TypeInfo::new(Arc::clone(it))).collect();
        let plain = Resources::from_pairs([("cpu", 500), ("memory", 1 << 30), ("pods", 2)]);
        let with_gpu = Resources::from_pairs([("cpu", 100), ("nvidia.com/gpu", 1)]);
        let groups = [DaemonGroup { overhead: plain, host_ports: Vec::new() }, DaemonGroup { overhead: with_gpu, host_ports: Vec::new() }];
        let group_of = [0, 1, 0];
        let bounds = FitBounds::new(&types, &groups, &group_of);
        let (mut sure, mut checked) = (0, 0);
        for (t, it) in types.iter().enumerate() {
            let a = &it.it.allocatable;
            for cpu in [0, a.cpu - 600, a.cpu - 500, a.cpu - 499, a.cpu] {
                for memory in [0, a.memory - (1 << 30), a.memory - (1 << 30) + 1] {
                    for pods in [1, a.pods - 2, a.pods - 1] {
                        let total = Resources::from_pairs([("cpu", cpu), ("memory", memory), ("pods", pods)]);
                        let fits = total.add(&groups[group_of[t] as usize].overhead).fits(a);
                        let core = FitBounds::core(&total).unwrap();
                        // a plain overhead's bounds decide, exactly, both ways; an overhead with
                        // extended resources leaves the full check to decide
                        let decided = bounds.decide(t as u32, &core);
                        let surely = decided == Some(true);
                        if group_of[t] == 0 {
                            assert_eq!(decided, Some(fits), "type {t}: {total:?}");
                        } else {
                            assert_eq!(decided, None, "type {t}: {total:?}");
                        }
                        sure += usize::from(surely);
                        checked += 1;
                    }
                }
            }
        }
        assert!(sure > 0 && sure < checked, "{sure} of {checked}");
        assert_eq!(FitBounds::core(&Resources::from_pairs([("nvidia.com/gpu", 1)])), None);
    }
}
