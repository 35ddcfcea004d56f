fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut sc = karpsim::sim::Scenario::load(std::path::Path::new(&args[0])).unwrap();
    if let Some(h) = args.get(1) { sc.duration = h.parse::<f64>().unwrap() * 3600.0; }
    let t = std::time::Instant::now();
    let r = karpsim::sim::simulate(&sc, &Default::default());
    println!("elapsed {:?} cost {:.2} launched {} disruptions {:?} mean nodes {:.1}", t.elapsed(), r.total_cost, r.metrics.nodes_launched, r.metrics.disruptions, r.metrics.mean("nodes"));
}
