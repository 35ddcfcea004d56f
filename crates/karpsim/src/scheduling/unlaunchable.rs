//! Why a NodePool can launch no instance type at all, as one sentence a person can act on.
//!
//! Karpenter drops such a pool from scheduling (`NoCompatibleInstanceTypes`, `provisioner.go`), and
//! its pods end up pending with no word about the pool. karpsim names the cause on the result (a
//! warning) and in every pending pod's reason: the requirement that excluded the last instance types,
//! with the values the catalog has, or the capacity reservations that have no instance left
//! ([`crate::scheduling::ClusterView::launch_warnings`]; a static pool is named in the reasons of the
//! pods it leaves pending). Pools that are not ready (a missing node class,
//! [`crate::state::ClusterState::unready_nodepools`]) or being deleted are warned about with the
//! state, and a pending pod's reason names those that would have admitted it.

use super::instance_filter::{offering_compatible, satisfies_min_values};
use crate::labels::Sym;
use crate::model::NodePool;
use crate::requirements::Requirements;
use crate::resources::Resources;
use crate::state::TypeInfo;
use std::collections::BTreeSet;

/// How many label values an explanation lists before it says "and N more".
const SHOWN_VALUES: usize = 8;

/// The values the `types` carry for label `key`, listed for a person.
fn values_of(types: &[&TypeInfo], key: Sym) -> Option<String> {
    let have: BTreeSet<Sym> = types.iter().filter_map(|t| t.requirements.get(key)).flat_map(|r| r.values().iter().copied()).collect();
    if have.is_empty() {
        return None;
    }
    let shown: Vec<&str> = have.iter().take(SHOWN_VALUES).map(|s| s.as_str()).collect();
    let more = if have.len() > SHOWN_VALUES { format!(" and {} more", have.len() - SHOWN_VALUES) } else { String::new() };
    Some(format!("{}{more}", shown.join(", ")))
}

/// Why `pool`, whose template `requirements` allow none of `types`, can launch nothing. The pool's
/// requirements are applied one at a time in the order written (then its template labels), and the
/// first that leaves no type is named with the values the types still allowed before it have.
pub fn explain(pool: &NodePool, requirements: &Requirements, types: &[TypeInfo]) -> String {
    let mut why = cause(pool, requirements, types);
    if let Some(ids) = used_up_reservations(requirements, types) {
        why.push_str(&format!(" (its capacity reservations {ids} have no instance left to launch)"));
    }
    why
}

/// The capacity reservations the pool could launch into if they had instances left: a reserved
/// offering is unavailable once its reservation is used up or ending (AWS provider
/// `offering.go: ReservationCapacity`), and its type then no longer carries `reserved`, so the
/// requirement that fails is the capacity type or the type itself; the counts are the user's.
fn used_up_reservations(requirements: &Requirements, types: &[TypeInfo]) -> Option<String> {
    let allowed = |t: &TypeInfo| requirements.get(*crate::labels::INSTANCE_TYPE).is_none_or(|r| r.has(t.it.name));
    let ids: BTreeSet<&str> = types
        .iter()
        .filter(|t| allowed(t))
        .flat_map(|t| t.it.offerings.iter())
        .filter(|o| !o.available && offering_compatible(requirements, o))
        .filter_map(|o| o.reservation.as_ref())
        .map(|r| r.id.as_str())
        .collect();
    (!ids.is_empty()).then(|| ids.into_iter().collect::<Vec<_>>().join(", "))
}

/// [`explain`] without the reservations.
fn cause(pool: &NodePool, requirements: &Requirements, types: &[TypeInfo]) -> String {
    let name = pool.name;
    if types.is_empty() {
        return format!("NodePool {name} can launch nothing: its catalog has no instance types");
    }
    let mut left: Vec<&TypeInfo> = types.iter().collect();
    let written = pool.requirements.iter().map(|r| Requirements::from_node_selector(std::slice::from_ref(r)).ok());
    let labels = pool.labels.iter().map(|(k, v)| Some(Requirements::from_labels([(k, v)])));
    for (i, single) in written.chain(labels).enumerate() {
        let Some(single) = single else { continue };
        let kept: Vec<&TypeInfo> = left.iter().copied().filter(|t| t.requirements.intersects_ok(&single)).collect();
        if !kept.is_empty() {
            left = kept;
            continue;
        }
        let Some((key, req)) = single.iter().next() else { continue };
        let what = if i < pool.requirements.len() { format!("requires {key} {req}") } else { format!("has template label {key}={}", req.values().first().map_or("", |v| v.as_str())) };
        let whose = if left.len() == types.len() { "the catalog has".to_string() } else { format!("the {} instance types its other requirements allow have", left.len()) };
        return match values_of(&left, key) {
            Some(values) => format!("NodePool {name} can launch nothing: it {what}, and {whose} {key} {values}"),
            None => format!("NodePool {name} can launch nothing: it {what}, and no instance type has the label {key}"),
        };
    }
    // each requirement leaves some type, but not all of them together, or the types left fail later
    let together: Vec<&TypeInfo> = left.iter().copied().filter(|t| t.requirements.intersects_ok(requirements)).collect();
    if together.is_empty() {
        return format!("NodePool {name} can launch nothing: no instance type meets all of its requirements together ({requirements})");
    }
    let offered: Vec<&TypeInfo> = together.iter().copied().filter(|t| t.it.offerings.iter().any(|o| o.available && offering_compatible(requirements, o))).collect();
    if offered.is_empty() {
        return format!(
            "NodePool {name} can launch nothing: none of the {} instance types its requirements allow has an available offering they accept",
            together.len()
        );
    }
    if offered.iter().all(|t| !Resources::new().fits(&t.it.allocatable)) {
        return format!("NodePool {name} can launch nothing: the instance types it allows have no allocatable capacity left after overhead");
    }
    let indices: Vec<u32> = (0..types.len() as u32).filter(|&i| offered.iter().any(|t| std::ptr::eq(*t, &types[i as usize]))).collect();
    if let Err(missing) = satisfies_min_values(types, &indices, requirements) {
        return format!("NodePool {name} can launch nothing: it cannot meet minValues ({missing})");
    }
    format!("NodePool {name} can launch nothing with its requirements ({requirements})")
}
