//! karpsim reproduces Karpenter's node provisioning over real AWS instance catalogs: given the
//! NodePools, EC2NodeClasses and workloads of a cluster, it returns the NodeClaims Karpenter would
//! create, what they cost, and why any pod would stay pending.
//!
//! The flow is: load manifests into [`io::Inputs`], pick a catalog with
//! [`catalog::CatalogSource`], build a [`state::ClusterState`], then call
//! [`scheduling::provision`]. Results are serde-serialisable; their JSON is what `karpsim provision
//! --output json` prints.
//!
//! ```
//! use karpsim::catalog::CatalogSource;
//! use karpsim::io::Inputs;
//! use karpsim::scheduling::{ProvisionOptions, provision};
//! use karpsim::state::ClusterState;
//!
//! let mut inputs = Inputs::new();
//! // Files and directories work too: inputs.load_path(Path::new("examples/online-boutique"))?
//! inputs.load_str(r#"
//! apiVersion: karpenter.sh/v1
//! kind: NodePool
//! metadata: {name: default}
//! spec:
//!   template:
//!     spec:
//!       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
//!       requirements:
//!       - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m7i]}
//!       - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
//! ---
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web}
//! spec:
//!   replicas: 3
//!   template:
//!     spec:
//!       containers:
//!       - name: app
//!         resources: {requests: {cpu: "1", memory: 2Gi}}
//! "#, "cluster.yaml")?;
//! let catalog = CatalogSource::parse("aws:us-east-1")?;
//! let state = ClusterState::from_inputs(inputs.finish()?, &catalog)?;
//! let result = provision(&state, &ProvisionOptions::default());
//! for nc in &result.nodeclaims {
//!     println!("{} {} {} {} ${:.4}/h, {} pods", nc.name, nc.instance_type, nc.zone, nc.capacity_type, nc.price_per_hour, nc.pods.len());
//! }
//! assert!(result.unschedulable.is_empty());
//! assert_eq!(result.nodeclaims.iter().map(|nc| nc.pods.len()).sum::<usize>(), 3);
//! assert!(result.nodeclaims.iter().all(|nc| nc.instance_type.starts_with("m7i.")));
//! # Ok::<(), karpsim::Error>(())
//! ```

#![forbid(unsafe_code)]
pub mod catalog;
pub mod disruption;
pub mod error;
pub mod eviction;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod io;
pub mod labels;
pub mod model;
pub mod names;
pub mod optimize;
pub mod progress;
pub mod quantity;
pub mod requirements;
pub mod resources;
pub mod scheduling;
pub mod sim;
pub mod state;
pub mod taints;
pub mod work;
pub mod whatif;

pub use error::{Error, Location, Result};
pub use work::WorkLimits;
