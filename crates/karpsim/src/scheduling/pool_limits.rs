//! NodePool limits against a template's instance types (`scheduler.go: filterByRemainingResources`,
//! design §3.8 "NodePool limits"): a type is excluded when its capacity on a limited resource exceeds
//! what remains of the limit.
//!
//! The capacities on the limited resources are looked up once per template and kept in an array:
//! looking each up by resource name, for every option of every new NodeClaim once a limit binds,
//! was a tenth of a 5,000-pod solve on the AWS catalog.

use crate::state::TypeInfo;

/// A template's instance-type capacities on the resources its NodePool limits. The limited
/// resources never change during a solve (only the remaining amounts do).
#[derive(Debug, Clone)]
pub(crate) struct LimitedCapacity {
    /// Per limited resource: the largest capacity among the template's options.
    largest: Vec<i64>,
    /// Per type of the template (its index) and limited resource: the type's capacity.
    capacity: Vec<i64>,
    resources: usize,
}

impl LimitedCapacity {
    /// For the limited `resources` (in the order their remaining amounts will be given), the
    /// template's `types` and its `options` among them.
    pub fn new<'r>(resources: impl Iterator<Item = &'r str>, types: &[TypeInfo], options: &[u32]) -> LimitedCapacity {
        let resources: Vec<&str> = resources.collect();
        let capacity: Vec<i64> = types.iter().flat_map(|t| resources.iter().map(|r| t.it.capacity.get(r))).collect();
        let n = resources.len();
        let largest = (0..n).map(|r| options.iter().map(|&o| capacity[o as usize * n + r]).max().unwrap_or(i64::MIN)).collect();
        LimitedCapacity { largest, capacity, resources: n }
    }

    /// No option exceeds any `remaining` amount: filtering would drop nothing (most runs stay far
    /// from their limits).
    pub fn all_within<'v>(&self, remaining: impl Iterator<Item = &'v i64>) -> bool {
        remaining.zip(&self.largest).all(|(v, m)| m <= v)
    }

    /// The largest capacity on limited resource `r` (an index in the order of `resources`) among
    /// `options` (`None` when there are none).
    pub fn largest_among(&self, options: &[u32], r: usize) -> Option<i64> {
        options.iter().map(|&o| self.capacity[o as usize * self.resources + r]).max()
    }

    /// Type `t` (an index into the template's types) is within every `remaining` amount.
    #[inline]
    pub fn within(&self, t: u32, remaining: &[i64]) -> bool {
        let at = t as usize * self.resources;
        self.capacity[at..at + self.resources].iter().zip(remaining).all(|(c, v)| c <= v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::custom::parse_custom_catalog;
    use std::sync::Arc;

    #[test]
    fn within_compares_each_limited_capacity_with_what_remains() {
        let text = serde_json::json!({"instance_types": (1..=4).map(|i| serde_json::json!({
            "name": format!("t{i}"),
            "capacity": {"cpu": i.to_string(), "memory": format!("{}Gi", 5 - i), "pods": "10", "nvidia.com/gpu": (i % 2).to_string()},
            "offerings": [{"zone": "z1", "capacity_type": "on-demand", "price": 1.0}],
        })).collect::<Vec<_>>()})
        .to_string();
        let catalog = parse_custom_catalog("limits", &text).unwrap();
        let types: Vec<TypeInfo> = catalog.instance_types.iter().map(|it| TypeInfo::new(Arc::clone(it))).collect();
        let caps = LimitedCapacity::new(["cpu", "memory", "nodes", "nvidia.com/gpu"].into_iter(), &types, &[1, 2, 3]);
        let gi = 1i64 << 30;
        // options t2..t4: at most 4 cpu, 3 GiB, no nodes entry, 1 GPU
        assert!(caps.all_within([4000, 3 * gi, 0, 1].iter()));
        assert!(!caps.all_within([3999, 3 * gi, 0, 1].iter()));
        let remaining = [2500, 4 * gi, 0, 0];
        let kept: Vec<u32> = (0..4).filter(|&t| caps.within(t, &remaining)).collect();
        // t1: 1 GPU; t2: fits; t3: 3 cpu; t4: 4 cpu
        assert_eq!(kept, vec![1]);
        // what a NodeClaim of options t1, t3 takes from the limits (subtractMax)
        assert_eq!(caps.largest_among(&[0, 2], 0), Some(3000));
        assert_eq!(caps.largest_among(&[0, 2], 1), Some(4 * gi));
        assert_eq!(caps.largest_among(&[0, 2], 3), Some(1));
        assert_eq!(caps.largest_among(&[], 0), None);
    }
}
