use super::NodeSelectorRequirement;
use crate::error::Location;
use crate::labels::Sym;
use std::collections::BTreeMap;

/// A Karpenter `NodeOverlay` (karpenter.sh/v1alpha1, feature gate `NodeOverlay`): a price or an
/// extended-resource capacity that Karpenter layers over the instance types its cloud provider
/// reports, for the types and offerings its requirements select.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeOverlay {
    pub name: Sym,
    /// `spec.requirements`, matched against each instance type's requirements plus its NodePool's
    /// name and template labels, then against each offering (zone, capacity type, reservation).
    pub requirements: Vec<NodeSelectorRequirement>,
    /// `spec.weight` (1..10000); unset = 0.
    pub weight: i32,
    /// `spec.price` or `spec.priceAdjustment` (the CRD allows at most one).
    pub price: Option<PriceChange>,
    /// `spec.capacity`: extended resources (name -> amount) added to, or replacing those of,
    /// matching types. A zero amount is kept: it takes the resource away.
    pub capacity: BTreeMap<String, i64>,
    /// Where it was read (file and document), for errors found when it is applied.
    #[serde(skip)]
    pub origin: Location,
}

/// How an overlay changes an offering's price (`cloudprovider/types.go: AdjustedPrice`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PriceChange {
    /// As written (`"0.05"`, `"-0.01"`, `"-20%"`), for messages.
    pub text: String,
    pub kind: PriceChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum PriceChangeKind {
    /// `price`: the offering costs exactly this.
    Set(f64),
    /// `priceAdjustment: "+x"` / `"-x"`: added to the offering's price.
    Add(f64),
    /// `priceAdjustment: "+x%"` / `"-x%"`: the price times `1 + x/100`.
    Percent(f64),
}

impl PriceChange {
    /// The adjusted price before Karpenter's floor at zero (`AdjustedPrice` returns
    /// `max(result, 0)`; karpsim refuses a negative result instead, see [`crate::catalog::overlay`]).
    pub fn raw(&self, price: f64) -> f64 {
        match self.kind {
            PriceChangeKind::Set(p) => p,
            PriceChangeKind::Add(d) => price + d,
            PriceChangeKind::Percent(p) => price * (1.0 + p / 100.0),
        }
    }
}
