//! Property tests over karpsim's parsers: whatever the text, a result or an error, never a panic;
//! and what parses means what it says (quantities round-trip, cron schedules fire when their fields
//! say, JSON and YAML of the same objects read the same, requirement intersection is symmetric).

mod properties_common;
use properties_common::config;

use karpsim::disruption::cron::Cron;
use karpsim::io::Inputs;
use karpsim::model::NodeSelectorRequirement;
use karpsim::quantity::{format_bytes, format_cpu_milli};
use karpsim::requirements::Requirements;
use karpsim::resources::{Resources, parse_amount};
use proptest::prelude::*;
use serde_json::{Value, json};

fn load(text: &str, name: &str) -> karpsim::Result<Inputs> {
    let mut i = Inputs::new();
    i.load_str(text, name)?;
    i.finish()
}

// ---------- quantities ----------

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_quantity_text_parses_or_errs(s in "\\PC{0,24}", name in prop::sample::select(vec!["cpu", "memory", "pods", "nvidia.com/gpu"])) {
        let _ = parse_amount(name, &s);
    }

    #[test]
    fn quantity_shaped_text_parses_or_errs(
        sign in prop::sample::select(vec!["", "+", "-"]),
        int in "[0-9]{0,22}",
        frac in prop::option::of("[0-9]{0,12}"),
        suffix in prop::sample::select(vec!["", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "e3", "E-2", "e40", "e-40", "n", "u"]),
    ) {
        let s = format!("{sign}{int}{}{suffix}", frac.map(|f| format!(".{f}")).unwrap_or_default());
        for name in ["cpu", "memory"] {
            if let Err(e) = parse_amount(name, &s) {
                // an error echoes the quantity as written
                prop_assert!(e.to_string().contains(&format!("{s:?}")), "{e}");
            }
        }
    }

    #[test]
    fn formatted_amounts_round_trip(m in 0i64..=i64::MAX, b in 0i64..=i64::MAX) {
        prop_assert_eq!(parse_amount("cpu", &format_cpu_milli(m)).unwrap(), m);
        prop_assert_eq!(parse_amount("memory", &format_bytes(b)).unwrap(), b);
    }

    /// Results serialise a resource list as the sorted map of quantity strings `to_quantity_map`
    /// gives (written directly, without building that map): same keys, order and text.
    #[test]
    fn resources_serialise_as_their_quantity_map(
        amounts in prop::collection::vec((prop::sample::select(vec![
            "cpu", "memory", "ephemeral-storage", "pods", "nvidia.com/gpu", "hugepages-2Mi", "aws.amazon.com/neuron", "a/first", "zz/last",
        ]), -3i64..=1i64 << 40), 0..10),
    ) {
        let r = Resources::from_pairs(amounts.iter().map(|(k, v)| (*k, *v)));
        prop_assert_eq!(serde_json::to_string(&r).unwrap(), serde_json::to_string(&r.to_quantity_map()).unwrap());
        prop_assert_eq!(serde_json::to_string_pretty(&r).unwrap(), serde_json::to_string_pretty(&r.to_quantity_map()).unwrap());
    }
}

// ---------- requirements ----------

fn requirement() -> impl Strategy<Value = NodeSelectorRequirement> {
    (
        prop::sample::select(vec!["kubernetes.io/arch", "topology.kubernetes.io/zone", "karpenter.k8s.aws/instance-cpu", "team"]),
        prop::sample::select(vec!["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte", "Nope"]),
        prop::collection::vec(prop::sample::select(vec!["amd64", "arm64", "z1", "z2", "4", "16", "-3", "x"]), 0..4),
    )
        .prop_map(|(k, op, values)| NodeSelectorRequirement {
            key: karpsim::labels::Sym::new(k),
            operator: op.to_string(),
            values: values.into_iter().map(str::to_string).collect(),
            min_values: None,
        })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn requirements_build_or_err_and_intersect_symmetrically(a in prop::collection::vec(requirement(), 0..5), b in prop::collection::vec(requirement(), 0..5)) {
        let (Ok(ra), Ok(rb)) = (Requirements::from_node_selector(&a), Requirements::from_node_selector(&b)) else { return Ok(()) };
        prop_assert_eq!(ra.intersects(&rb).is_ok(), rb.intersects(&ra).is_ok());
        prop_assert_eq!(ra.intersects(&rb).is_ok(), ra.intersects_ok(&rb));
    }
}

// ---------- cron ----------

/// One field of a schedule, as ranges over `[lo, hi]`, and the text that writes it.
#[derive(Debug, Clone)]
enum Part {
    Star(u32),
    Range(u32, u32, u32),
}

fn field(lo: u32, hi: u32) -> impl Strategy<Value = Vec<Part>> {
    let part = prop_oneof![
        (1u32..4).prop_map(Part::Star),
        (lo..=hi, 0u32..8, 1u32..5).prop_map(move |(a, len, step)| Part::Range(a, (a + len).min(hi), step)),
    ];
    prop::collection::vec(part, 1..3)
}

fn render(parts: &[Part]) -> String {
    let one = |p: &Part| match p {
        Part::Star(1) => "*".to_string(),
        Part::Star(s) => format!("*/{s}"),
        Part::Range(a, b, 1) if a == b => a.to_string(),
        Part::Range(a, b, 1) => format!("{a}-{b}"),
        Part::Range(a, b, s) => format!("{a}-{b}/{s}"),
    };
    parts.iter().map(one).collect::<Vec<_>>().join(",")
}

fn contains(parts: &[Part], lo: u32, hi: u32, v: u32) -> bool {
    parts.iter().any(|p| match p {
        Part::Star(s) => v >= lo && v <= hi && (v - lo).is_multiple_of(*s),
        Part::Range(a, b, s) => v >= *a && v <= *b && (v - a).is_multiple_of(*s),
    })
}

/// robfig's rule: a day field written `*` (step 1) is a star; then both day fields must match.
fn is_star(parts: &[Part]) -> bool {
    parts.iter().any(|p| matches!(p, Part::Star(1)))
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn any_schedule_text_parses_or_errs(s in "[0-9*/,?a-zA-Z@ -]{0,30}") {
        let _ = Cron::parse(&s);
    }

    #[test]
    fn schedules_fire_when_their_fields_say(
        min in field(0, 59), hour in field(0, 23), dom in field(1, 31), month in field(1, 12), dow in field(0, 6),
        minutes in prop::collection::vec(0i64..(60 * 24 * 366 * 8), 16),
    ) {
        let text = [&min, &hour, &dom, &month, &dow].iter().map(|f| render(f)).collect::<Vec<_>>().join(" ");
        let Ok(c) = Cron::parse(&text) else {
            // the only schedules refused here are the ones that never fire (e.g. 30 February)
            let fires = (0..(366 * 4)).any(|d| {
                let (_, m, day) = civil(19_723 + d);
                let wd = ((19_723 + d + 4) % 7) as u32;
                contains(&month, 1, 12, m) && day_ok(&dom, &dow, day, wd)
            });
            prop_assert!(!fires, "{text} was refused but fires");
            return Ok(());
        };
        for m in minutes {
            let days = m / 1440;
            let (_, mo, d) = civil(days);
            let wd = ((days + 4) % 7) as u32;
            let expected = contains(&min, 0, 59, (m % 60) as u32)
                && contains(&hour, 0, 23, ((m / 60) % 24) as u32)
                && contains(&month, 1, 12, mo)
                && day_ok(&dom, &dow, d, wd);
            prop_assert_eq!(c.matches_minute(m), expected, "{} at minute {}", text, m);
        }
    }
}

fn day_ok(dom: &[Part], dow: &[Part], day: u32, weekday: u32) -> bool {
    let (a, b) = (contains(dom, 1, 31, day), contains(dow, 0, 6, weekday));
    if is_star(dom) || is_star(dow) { a && b } else { a || b }
}

/// (year, month, day) of a day count since 1970-01-01, by walking the calendar (independent of the
/// library's arithmetic).
fn civil(days: i64) -> (i64, u32, u32) {
    let mut y = 1970;
    let mut left = days;
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    loop {
        let n = if leap(y) { 366 } else { 365 };
        if left < n {
            break;
        }
        left -= n;
        y += 1;
    }
    let lengths = [31, if leap(y) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut m = 0;
    while left >= lengths[m] {
        left -= lengths[m];
        m += 1;
    }
    (y, m as u32 + 1, left as u32 + 1)
}

// ---------- YAML and JSON inputs ----------

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,8}[a-z0-9]"
}

fn quantity() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u32..4000).prop_map(|m| json!(format!("{m}m"))),
        (0u32..64).prop_map(|g| json!(format!("{g}Gi"))),
        (0u32..8).prop_map(|n| json!(n)),
        Just(json!("0.5")),
    ]
}

fn pod_spec() -> BoxedStrategy<Value> {
    let container = (name(), quantity(), quantity()).prop_map(|(n, c, m)| json!({"name": n, "resources": {"requests": {"cpu": c, "memory": m}}}));
    (prop::collection::vec(container, 1..3), prop::option::of(prop::sample::select(vec!["amd64", "arm64"])))
        .prop_map(|(containers, arch)| {
            let mut s = json!({"containers": containers});
            if let Some(a) = arch {
                s["nodeSelector"] = json!({"kubernetes.io/arch": a});
            }
            s
        })
        .boxed()
}

fn object() -> impl Strategy<Value = Value> {
    let spec = pod_spec;
    prop_oneof![
        (name(), spec()).prop_map(|(n, s)| json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": n, "labels": {"app": n}}, "spec": s})),
        (name(), 0u32..5, spec()).prop_map(|(n, r, s)| json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": n},
            "spec": {"replicas": r, "template": {"metadata": {"labels": {"app": n}}, "spec": s}}})),
        (name(), prop::sample::select(vec!["spot", "on-demand"])).prop_map(|(n, ct)| json!({"apiVersion": "karpenter.sh/v1", "kind": "NodePool",
            "metadata": {"name": n}, "spec": {"template": {"spec": {"requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": [ct]}]}}}})),
    ]
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn any_text_loads_or_errs(s in "\\PC{0,200}") {
        let _ = load(&s, "any.yaml");
        let _ = load(&s, "any.json");
    }

    #[test]
    fn damaged_manifests_load_or_err(objs in prop::collection::vec(object(), 1..4), cut in 0usize..400, junk in "[\\[\\]{}:,\"'\\- a-z0-9\n]{0,6}") {
        let text = serde_json::to_string(&objs).unwrap();
        let at = text.char_indices().map(|(i, _)| i).nth(cut % text.chars().count().max(1)).unwrap_or(0);
        let damaged = format!("{}{junk}{}", &text[..at], &text[at..]);
        let _ = load(&damaged, "damaged.json");
        let _ = load(&damaged, "damaged.yaml");
    }

    #[test]
    fn json_and_yaml_of_the_same_objects_read_the_same(objs in prop::collection::vec(object(), 1..6)) {
        let json_text = serde_json::to_string_pretty(&Value::Array(objs.clone())).unwrap();
        let yaml_text = serde_saphyr::to_string_multiple(&objs).unwrap();
        match (load(&json_text, "objs.json"), load(&yaml_text, "objs.yaml")) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(&a.pods, &b.pods);
                prop_assert_eq!(&a.nodepools, &b.nodepools);
            }
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string().replace("objs.json", "F").replace("objs.yaml", "F"), b.to_string().replace("objs.json", "F").replace("objs.yaml", "F")),
            (a, b) => prop_assert!(false, "JSON {:?} but YAML {:?}", a.map(|_| ()), b.map(|_| ())),
        }
    }
}

// ---------- catalogs and scenarios ----------

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn custom_catalogs_load_or_err(
        types in prop::collection::vec((name(), quantity(), quantity(), 0u32..300, prop::option::of(quantity()), -1.0f64..5.0), 0..4),
        junk in prop::option::of("\\PC{0,40}"),
    ) {
        let ts: Vec<Value> = types.into_iter().map(|(n, cpu, mem, pods, over, price)| json!({
            "name": n, "capacity": {"cpu": cpu, "memory": mem, "pods": pods}, "overhead": over.map(|o| json!({"cpu": o})).unwrap_or(json!({})),
            "labels": {"kubernetes.io/arch": "amd64"}, "offerings": [{"zone": "z1", "capacity_type": "on-demand", "price": price}]})).collect();
        let text = json!({"instance_types": ts}).to_string();
        if let Ok(c) = karpsim::catalog::parse_custom_catalog("prop", &text) {
            for it in &c.instance_types {
                prop_assert!(it.offerings.iter().all(|o| o.price >= 0.0 && o.price.is_finite()), "{:?}", it.offerings);
            }
        }
        if let Some(j) = junk {
            let _ = karpsim::catalog::parse_custom_catalog("prop", &format!("{text}{j}"));
            let _ = karpsim::catalog::parse_custom_catalog("prop", &j);
        }
    }

    #[test]
    fn scenario_texts_load_or_err(
        duration in prop::sample::select(vec!["1h", "0s", "-5m", "soon", "401d", "1h30m"]),
        interval in prop::sample::select(vec!["0s", "1s", "5m", "x"]),
        replicas in prop::sample::select(vec!["steps: [{at: 0s, replicas: 3}]", "steps: []", "diurnal: {min: 5, max: 1}", "diurnal: {min: 1, max: 4, noise: 3}",
            "hpa: {load: [], target_per_replica: 1, min: 1, max: 2}", "hpa: {load: [{at: 0s, value: 5}], target_per_replica: 0, min: 1, max: 2}", "steps: [{at: 0s, replicas: -1}]"]),
        outage in prop::sample::select(vec!["", "offering_outages: [{from: 2h, until: 1h}]", "offering_outages: [{from: 1h, until: 2h, zone: z9}]"]),
    ) {
        let text = format!("name: p\nduration: {duration}\nsettings: {{metrics_interval: {interval}}}\nworkloads:\n  - deployment: default/web\n    replicas: {{{replicas}}}\n{outage}\n");
        let _ = karpsim::sim::Scenario::from_str(&text, std::path::Path::new("/nonexistent/scenario.yaml"));
    }
}
