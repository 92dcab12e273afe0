//! Sign-in logs (`auditLogs/signIns`, api-contracts §3): per-tenant catalogs of literal and
//! generated sign-ins, the licence rule, and the run-time settings (throttle, page latency)
//! the Graph handler and the control plane share. The HTTP side is `graph::signins`; the
//! `$filter` language is `graph::filter`.

pub mod catalog;
pub mod draft;
pub mod fields;
pub mod generator;
pub mod hooks;
pub mod literal;
pub mod props;
pub mod skiptoken;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::scenario::{Scenario, Tenant};
use crate::throttle::{Throttle, ThrottleSpec};
use catalog::{Premium, TenantSignIns};
use generator::{GenerateSpec, Generated};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    V1,
    Beta,
}

impl ApiVersion {
    pub fn parse(segment: &str) -> Option<Self> {
        match segment {
            "v1.0" => Some(ApiVersion::V1),
            "beta" => Some(ApiVersion::Beta),
            _ => None,
        }
    }

    pub fn segment(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }
}

/// `tenants[].signIns`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInsSpec {
    #[serde(default)]
    pub generate: Option<GenerateSpec>,
    /// Literal sign-ins (Graph-shaped; see `literal`).
    #[serde(default)]
    pub items: Vec<Map<String, Value>>,
}

/// Scenario `graph`: Graph-wide behaviour that tests may also change at run time
/// (`POST /_emulator/graph/settings`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphSettings {
    /// Reports throttle per (tenant, app); `null` disables it. Default 5 requests / 10 s.
    #[serde(default = "default_throttle")]
    pub sign_ins_throttle: Option<ThrottleSpec>,
    /// Added to every sign-in page: a fixed number of ms or `{min, max}`.
    #[serde(default)]
    pub page_latency_ms: Latency,
    /// Most candidate records one page request may look at before it returns a short page
    /// with a next link (only selective filters over huge tenants get near it).
    #[serde(default = "default_scan_limit")]
    pub sign_ins_scan_limit: u64,
    /// Budget per (tenant, app) for the directory and policy reads of the compliance endpoints
    /// (users, groups, policies, roles, domains, GDAP…; [`crate::graph::collection`]); `null`,
    /// the default, leaves them unthrottled.
    #[serde(default)]
    pub directory_throttle: Option<ThrottleSpec>,
    /// When set (e.g. `https://evil.example`), sign-in pages point their `@odata.nextLink` at
    /// this origin instead of the emulator's: a misbehaving or compromised server, for the
    /// clients' token-confinement tests. `null`, the default: the emulator's own address.
    #[serde(default)]
    pub next_link_base: Option<String>,
}

impl Default for GraphSettings {
    fn default() -> Self {
        Self {
            sign_ins_throttle: default_throttle(),
            page_latency_ms: Latency::default(),
            sign_ins_scan_limit: default_scan_limit(),
            directory_throttle: None,
            next_link_base: None,
        }
    }
}

fn default_throttle() -> Option<ThrottleSpec> {
    Some(ThrottleSpec::GRAPH_REPORTS)
}

fn default_scan_limit() -> u64 {
    5_000_000
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Latency {
    Fixed(u64),
    Range(LatencyRange),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyRange {
    pub min: u64,
    pub max: u64,
    /// Draws from a sequence this seed starts (again each time the setting is made), so that
    /// runs meet the same page times in the same order; without one, each draw is random.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Fixed(0)
    }
}

impl Latency {
    pub fn validate(&self) -> Result<(), String> {
        let (min, max) = match *self {
            Latency::Fixed(ms) => (ms, ms),
            Latency::Range(LatencyRange { min, max, .. }) => (min, max),
        };
        if min > max || max > 60_000 {
            return Err("pageLatencyMs: need min <= max <= 60000".to_owned());
        }
        Ok(())
    }
}

/// The page-latency setting and, when it names a seed, where its sequence has got to.
#[derive(Debug)]
struct LatencyDraws {
    setting: Latency,
    seeded: Option<generator::Rng>,
}

impl LatencyDraws {
    fn new(setting: Latency) -> Self {
        let seeded = match setting {
            Latency::Range(LatencyRange { seed: Some(seed), .. }) => Some(generator::Rng::new(seed)),
            _ => None,
        };
        Self { setting, seeded }
    }

    fn next(&mut self) -> Duration {
        let ms = match self.setting {
            Latency::Fixed(ms) => ms,
            Latency::Range(LatencyRange { min, max, .. }) if max > min => {
                let spread = max - min + 1;
                min + match &mut self.seeded {
                    Some(rng) => rng.next_u64() % spread,
                    None => rand::random_range(0..spread),
                }
            }
            Latency::Range(LatencyRange { min, .. }) => min,
        };
        Duration::from_millis(ms)
    }
}

/// SKU part numbers that include Entra ID P1 (`AAD_PREMIUM` service plan) or P2
/// (`AAD_PREMIUM_P2`), after api-contracts §4.4. Matching is case-insensitive.
const P2_SKUS: &[&str] = &[
    "AAD_PREMIUM_P2",
    "SPE_E5",
    "EMSPREMIUM",
    "IDENTITY_THREAT_PROTECTION",
    "M365_E5_SUITE_COMPONENTS",
];
const P1_SKUS: &[&str] = &["AAD_PREMIUM", "SPE_E3", "SPB", "EMS", "SPE_F1", "M365_F1"];

pub fn premium_of(licenses: &[String]) -> Premium {
    let has = |list: &[&str]| {
        licenses
            .iter()
            .any(|l| list.iter().any(|s| s.eq_ignore_ascii_case(l)))
    };
    if has(P2_SKUS) {
        Premium::P2
    } else if has(P1_SKUS) {
        Premium::P1
    } else {
        Premium::None
    }
}

/// Sign-in retention in days (api-contracts §3.8): 30 with P1/P2, 7 on Free.
pub fn retention_days(premium: Premium) -> i64 {
    match premium {
        Premium::None => 7,
        _ => 30,
    }
}

fn build_tenant(
    scenario: &Scenario,
    tenant: &Tenant,
    loaded_at: DateTime<Utc>,
) -> Result<TenantSignIns, String> {
    let premium = premium_of(&tenant.licenses);
    let p2 = premium == Premium::P2;
    let spec = tenant.sign_ins.clone().unwrap_or_default();
    let mut literals = Vec::with_capacity(spec.items.len());
    let mut ids = std::collections::HashSet::new();
    for (i, raw) in spec.items.iter().enumerate() {
        let lit = literal::build(scenario, tenant, i, raw, loaded_at, p2)
            .map_err(|e| format!("tenant {}: signIns.items[{i}]: {e}", tenant.id))?;
        if !ids.insert(lit.id().to_ascii_lowercase()) {
            return Err(format!(
                "tenant {}: signIns.items[{i}]: id {} is used twice",
                tenant.id,
                lit.id()
            ));
        }
        literals.push(lit);
    }
    let generated = match &spec.generate {
        Some(g) => Some(
            Generated::build(g, tenant, loaded_at, p2)
                .map_err(|e| format!("tenant {}: signIns.{e}", tenant.id))?,
        ),
        None => None,
    };
    Ok(TenantSignIns::new(
        tenant.id.clone(),
        premium,
        literals,
        generated,
    ))
}

/// Start-up checks for everything this module reads from a scenario.
pub fn validate(scenario: &Scenario) -> Result<(), String> {
    for t in [
        &scenario.graph.sign_ins_throttle,
        &scenario.graph.directory_throttle,
    ]
    .into_iter()
    .flatten()
    {
        t.validate()?;
    }
    scenario.graph.page_latency_ms.validate()?;
    if scenario.graph.sign_ins_scan_limit == 0 {
        return Err("graph.signInsScanLimit must be at least 1".to_owned());
    }
    for tenant in &scenario.tenants {
        build_tenant(scenario, tenant, scenario.loaded_at)?;
    }
    Ok(())
}

/// Sign-in state of a running emulator.
#[derive(Debug)]
pub struct SignInService {
    tenants: Vec<TenantSignIns>,
    pub throttle: Throttle,
    /// The compliance endpoints' directory-read budget (`graph.directoryThrottle`).
    pub directory_throttle: Throttle,
    latency: Mutex<LatencyDraws>,
    scan_limit: AtomicU64,
    next_link_base: Mutex<Option<String>>,
}

impl SignInService {
    pub fn new(scenario: &Scenario) -> Self {
        let tenants = scenario
            .tenants
            .iter()
            .map(|t| {
                build_tenant(scenario, t, scenario.loaded_at).unwrap_or_else(|e| {
                    // Unreachable after Scenario::load validated the same input.
                    tracing::error!(error = %e, "sign-ins not loaded");
                    TenantSignIns::new(t.id.clone(), premium_of(&t.licenses), Vec::new(), None)
                })
            })
            .collect();
        Self {
            tenants,
            throttle: Throttle::new(scenario.graph.sign_ins_throttle),
            directory_throttle: Throttle::new(scenario.graph.directory_throttle),
            latency: Mutex::new(LatencyDraws::new(scenario.graph.page_latency_ms)),
            scan_limit: AtomicU64::new(scenario.graph.sign_ins_scan_limit),
            next_link_base: Mutex::new(scenario.graph.next_link_base.clone()),
        }
    }

    pub fn tenant(&self, id: &str) -> Option<&TenantSignIns> {
        self.tenants
            .iter()
            .find(|t| t.tenant_id.eq_ignore_ascii_case(id))
    }

    pub fn latency(&self) -> Latency {
        self.latency.lock().setting
    }

    /// Starts a seeded setting's sequence again, also when it is the same as before.
    pub fn set_latency(&self, latency: Latency) {
        *self.latency.lock() = LatencyDraws::new(latency);
    }

    /// The next sign-in page's added latency.
    pub fn page_latency(&self) -> Duration {
        self.latency.lock().next()
    }

    pub fn scan_limit(&self) -> u64 {
        self.scan_limit.load(Ordering::Relaxed)
    }

    pub fn set_scan_limit(&self, limit: u64) {
        self.scan_limit.store(limit.max(1), Ordering::Relaxed);
    }

    /// The origin sign-in pages' nextLinks point at, when not the emulator's own.
    pub fn next_link_base(&self) -> Option<String> {
        self.next_link_base.lock().clone()
    }

    pub fn set_next_link_base(&self, base: Option<String>) {
        *self.next_link_base.lock() = base;
    }
}

/// The visible window `(oldest, newest)` in ms at `now`: retention back, nothing from the
/// future (a literal dated `"+1h"` appears once the emulator clock reaches it).
pub fn window(premium: Premium, now: DateTime<Utc>) -> (i64, i64) {
    let now_ms = now.timestamp_millis();
    (now_ms - retention_days(premium) * 86_400_000, now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licences() {
        let l = |v: &[&str]| premium_of(&v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(l(&[]), Premium::None);
        assert_eq!(
            l(&["ENTERPRISEPACK", "O365_BUSINESS_PREMIUM"]),
            Premium::None
        );
        assert_eq!(l(&["aad_premium"]), Premium::P1);
        assert_eq!(l(&["SPE_E3"]), Premium::P1);
        assert_eq!(l(&["SPB"]), Premium::P1);
        assert_eq!(l(&["EMS"]), Premium::P1);
        assert_eq!(l(&["AAD_PREMIUM", "AAD_PREMIUM_P2"]), Premium::P2);
        assert_eq!(l(&["SPE_E5"]), Premium::P2);
        assert_eq!(l(&["EMSPREMIUM"]), Premium::P2);
    }
}
