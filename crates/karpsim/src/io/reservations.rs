//! Capacity reservations as the user gives them: how many instances each still holds (which no
//! Kubernetes object says), and, for reservations that no EC2NodeClass status describes, what they
//! are. Two forms, one meaning:
//!
//! * `--reservation id=cr-0a1b2c,count=4[,instance-type=p5.48xlarge,zone=us-east-1a,type=capacity-block,end=2026-12-01T12:00:00Z,interruptible=false]`
//! * a YAML/JSON file (or a scenario's `reservations:`), a list of the same fields:
//!
//!   ```yaml
//!   reservations:
//!     - {id: cr-0a1b2c, count: 4, instance_type: p5.48xlarge, zone: us-east-1a, type: capacity-block, end: "2026-12-01T12:00:00Z"}
//!     - {id: cr-0d4e5f, count: 2}            # details from the EC2NodeClass status of a snapshot
//!   ```
//!
//! `count` is EC2's available instance count: what the reservation can still launch.

use super::nodeclass::valid_reservation_id;
use super::value::parse_rfc3339;
use crate::error::{Error, Location, Result};
use crate::labels::Sym;
use crate::model::{CapacityReservation, NodeClass, ReservationType, Timestamp};
use std::collections::BTreeMap;

/// One reservation as the user wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReservationSpec {
    pub id: Sym,
    pub count: i64,
    pub instance_type: Option<Sym>,
    pub zone: Option<Sym>,
    pub reservation_type: Option<ReservationType>,
    pub interruptible: Option<bool>,
    pub end_time: Option<Timestamp>,
    pub tags: BTreeMap<String, String>,
    /// Where it was given (`--reservation` or `file, reservations[2]`), for messages.
    pub source: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    count: i64,
    #[serde(default)]
    instance_type: Option<String>,
    #[serde(default)]
    zone: Option<String>,
    #[serde(default, rename = "type")]
    reservation_type: Option<String>,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    interruptible: Option<bool>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    reservations: Vec<serde_json::Value>,
}

fn option_error(message: String) -> Error {
    Error::Option { option: "--reservation".into(), message }
}

fn build(e: Entry, source: String, fail: &dyn Fn(&str, String) -> Error) -> Result<ReservationSpec> {
    if !valid_reservation_id(&e.id) {
        return Err(fail("id", format!("invalid capacity reservation id {:?} (cr- followed by lowercase letters and digits)", e.id)));
    }
    if e.count < 0 {
        return Err(fail("count", format!("must be >= 0, got {}", e.count)));
    }
    let reservation_type = match e.reservation_type.as_deref() {
        None => None,
        Some(t) => Some(
            ReservationType::parse(t).ok_or_else(|| fail("type", format!("unknown reservation type {t:?} (default, capacity-block)")))?,
        ),
    };
    let end_time = match e.end.as_deref() {
        None => None,
        Some(t) => {
            Some(parse_rfc3339(t).ok_or_else(|| fail("end", format!("invalid timestamp {t:?} (RFC 3339, e.g. 2026-12-01T12:00:00Z)")))?)
        }
    };
    if reservation_type == Some(ReservationType::CapacityBlock) && e.end.is_none() && e.instance_type.is_some() {
        return Err(fail("end", "a capacity block needs its end time".to_string()));
    }
    if e.instance_type.is_some() != e.zone.is_some() {
        return Err(fail(if e.zone.is_none() { "zone" } else { "instance_type" }, "instance type and zone go together".to_string()));
    }
    Ok(ReservationSpec {
        id: Sym::new(&e.id),
        count: e.count,
        instance_type: e.instance_type.as_deref().map(Sym::new),
        zone: e.zone.as_deref().map(Sym::new),
        reservation_type,
        interruptible: e.interruptible,
        end_time,
        tags: e.tags,
        source,
    })
}

/// `--reservation id=cr-…,count=N[,instance-type=…,zone=…,type=…,end=…,interruptible=…]`.
pub fn parse_reservation_option(spec: &str) -> Result<ReservationSpec> {
    let mut map = serde_json::Map::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| option_error(format!("expected KEY=VALUE, got {part:?} in {spec:?}")))?;
        let (key, value) = match k.trim() {
            "id" => ("id", serde_json::Value::String(v.into())),
            "count" => {
                ("count", serde_json::Value::from(v.parse::<i64>().map_err(|_| option_error(format!("count {v:?} is not an integer")))?))
            }
            "instance-type" | "instance_type" => ("instance_type", v.into()),
            "zone" => ("zone", v.into()),
            "type" => ("type", v.into()),
            "end" => ("end", v.into()),
            "interruptible" => (
                "interruptible",
                serde_json::Value::Bool(v.parse().map_err(|_| option_error(format!("interruptible {v:?} is not true or false")))?),
            ),
            other => return Err(option_error(format!("unknown key {other:?} (id, count, instance-type, zone, type, end, interruptible)"))),
        };
        if map.insert(key.into(), value).is_some() {
            return Err(option_error(format!("{key} given twice in {spec:?}")));
        }
    }
    let e: Entry = serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| option_error(format!("{e} in {spec:?} (id and count are required)")))?;
    build(e, format!("--reservation {spec}"), &|field, m| option_error(format!("{field}: {m}")))
}

/// A reservations file: `reservations:` followed by a list of entries (YAML or JSON). `name` names
/// it in errors.
pub fn parse_reservations_file(name: &str, text: &str) -> Result<Vec<ReservationSpec>> {
    let docs = super::parse_documents(text, name)?;
    let doc = docs.into_iter().next().unwrap_or(serde_json::Value::Null);
    let at = |field: String| Location {
        file: Some(name.to_string()),
        kind: Some("reservations".into()),
        field: Some(field),
        ..Default::default()
    };
    let f: File = serde_json::from_value(doc).map_err(|e| Error::input(at("reservations".into()), e.to_string()))?;
    parse_entries(f.reservations, &|i, field| at(format!("reservations[{i}]{field}")), name)
}

/// Reservations given as already-parsed values (e.g. Python dicts), named `source` in errors.
pub fn parse_reservation_values(items: Vec<serde_json::Value>, source: &str) -> Result<Vec<ReservationSpec>> {
    let at = |i: usize, field: &str| Location { file: Some(source.to_string()), field: Some(format!("reservations[{i}]{field}")), ..Default::default() };
    parse_entries(items, &at, source)
}

/// Entries of a list (a file's, or a scenario's `reservations:`); `at(i, ".field")` locates errors.
pub(crate) fn parse_entries(
    items: Vec<serde_json::Value>,
    at: &dyn Fn(usize, &str) -> Location,
    source: &str,
) -> Result<Vec<ReservationSpec>> {
    let mut out: Vec<ReservationSpec> = Vec::new();
    for (i, v) in items.into_iter().enumerate() {
        let e: Entry = serde_json::from_value(v).map_err(|e| Error::input(at(i, ""), e.to_string()))?;
        let spec = build(e, format!("{source}, reservations[{i}]"), &|field, m| Error::input(at(i, &format!(".{field}")), m))?;
        if out.iter().any(|o| o.id == spec.id) {
            return Err(Error::input(at(i, ".id"), format!("reservation {} given twice", spec.id)));
        }
        out.push(spec);
    }
    Ok(out)
}

impl ReservationSpec {
    /// The reservation it describes, when it says what it is (instance type and zone).
    fn describe(&self) -> Option<CapacityReservation> {
        Some(CapacityReservation {
            id: self.id,
            instance_type: self.instance_type?,
            zone: self.zone?,
            reservation_type: self.reservation_type.unwrap_or(ReservationType::Default),
            interruptible: self.interruptible.unwrap_or(false),
            end_time: self.end_time,
            expiring: false,
            owner_id: None,
            instance_match_criteria: None,
            tags: self.tags.clone(),
            count: Some(self.count),
        })
    }
}

/// Give the NodeClasses the user's reservations (`Inputs::finish`): counts for the reservations a
/// NodeClass status lists, and the described reservations its selector terms select. A described
/// reservation no NodeClass selects is offered to every NodeClass (with a warning); with no
/// NodeClass at all it is returned, for karpsim's default NodeClass.
pub(crate) fn resolve(
    nodeclasses: &mut [NodeClass],
    specs: &[ReservationSpec],
    warnings: &mut Vec<String>,
) -> Result<Vec<CapacityReservation>> {
    let mut used = vec![false; specs.len()];
    for nc in nodeclasses.iter_mut() {
        for r in &mut nc.capacity_reservations {
            if let Some((i, s)) = specs.iter().enumerate().find(|(_, s)| s.id == r.id) {
                used[i] = true;
                r.count = Some(s.count);
                if s.instance_type.is_some_and(|t| t != r.instance_type) || s.zone.is_some_and(|z| z != r.zone) {
                    warnings.push(format!(
                        "{}: EC2NodeClass {} status says reservation {} is {} in {}; the status wins",
                        s.source, nc.name, r.id, r.instance_type, r.zone
                    ));
                }
            }
        }
        for (i, s) in specs.iter().enumerate() {
            if nc.capacity_reservations.iter().any(|r| r.id == s.id) {
                continue;
            }
            let Some(r) = s.describe() else { continue };
            if nc.capacity_reservation_terms.iter().any(|t| t.selects(&r)) {
                used[i] = true;
                nc.capacity_reservations.push(r);
            }
        }
    }
    // a reservation selected by id that neither a status nor the user describes is unknown
    for nc in nodeclasses.iter() {
        for id in nc.capacity_reservation_terms.iter().filter_map(|t| t.id.as_deref()) {
            if !nc.capacity_reservations.iter().any(|r| r.id.as_str() == id) && !specs.iter().any(|s| s.id.as_str() == id) {
                warnings.push(format!(
                    "EC2NodeClass {} selects capacity reservation {id}, which no status describes and no count was given for; it has no offering (give --reservation id={id},count=N,instance-type=…,zone=…)",
                    nc.name
                ));
            }
        }
    }
    let mut unattached = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        if used[i] {
            continue;
        }
        let Some(r) = s.describe() else {
            return Err(Error::Option {
                option: "--reservation".into(),
                message: format!(
                    "{}: no EC2NodeClass lists reservation {} in its status, so its instance type and zone are needed (instance-type=…,zone=…)",
                    s.source, s.id
                ),
            });
        };
        if nodeclasses.is_empty() {
            unattached.push(r);
            continue;
        }
        warnings.push(format!(
            "reservation {} is selected by no EC2NodeClass's capacityReservationSelectorTerms; karpsim offers it to every EC2NodeClass (add `capacityReservationSelectorTerms: [{{id: {}}}]` to choose)",
            s.id, s.id
        ));
        for nc in nodeclasses.iter_mut() {
            nc.capacity_reservations.push(r.clone());
        }
    }
    Ok(unattached)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_form() {
        let s = parse_reservation_option(
            "id=cr-0a1,count=4,instance-type=p5.48xlarge,zone=us-east-1a,type=capacity-block,end=2026-12-01T12:00:00Z",
        )
        .unwrap();
        assert_eq!((s.id.as_str(), s.count, s.instance_type.unwrap().as_str()), ("cr-0a1", 4, "p5.48xlarge"));
        assert_eq!(s.reservation_type, Some(ReservationType::CapacityBlock));
        assert!(parse_reservation_option("id=cr-0a1,count=2").unwrap().instance_type.is_none());
        for (bad, what) in [
            ("id=cr-0a1", "count"),
            ("count=2", "id"),
            ("id=r-1,count=2", "invalid capacity reservation id"),
            ("id=cr-1,count=-1", "count"),
            ("id=cr-1,count=2,instance-type=m5.large", "zone"),
            ("id=cr-1,count=2,colour=red", "unknown key"),
            ("id=cr-1,count=2,type=block", "unknown reservation type"),
            ("id=cr-1,count=2,instance-type=p5.48xlarge,zone=z,type=capacity-block", "end time"),
        ] {
            let e = parse_reservation_option(bad).unwrap_err().to_string();
            assert!(e.contains(what) && e.contains("--reservation"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_file_form_names_the_entry_and_field() {
        let ok = parse_reservations_file(
            "r.yaml",
            "reservations:\n- {id: cr-1, count: 3, instance_type: m5.large, zone: z1}\n- {id: cr-2, count: 0}\n",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        let e = parse_reservations_file("r.yaml", "reservations:\n- {id: cr-1, count: 3}\n- {id: cr-2, count: 1, end: tomorrow}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("r.yaml") && e.contains("reservations[1].end"), "{e}");
        let e = parse_reservations_file("r.yaml", "reservations:\n- {id: cr-1, count: 3, size: 4}\n").unwrap_err().to_string();
        assert!(e.contains("reservations[0]") && e.contains("size"), "{e}");
    }
}
