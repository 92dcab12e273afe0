//! Generated sign-ins: any number of realistic records computed on demand from
//! `(seed, tenant, event type, index)`, never stored.
//!
//! Records form three streams, one per event type (`interactiveUser`, `nonInteractiveUser`,
//! `servicePrincipal`). Within a stream, index 0 is the newest record and timestamps never
//! increase with the index: `ts(i)` maps `i` (plus a per-record jitter below one step) through
//! the inverse of a cumulative activity curve (busier on weekday working hours, in the tenant's
//! time zone), so a time range becomes an index range by binary search. Everything else about
//! a record comes from a small PRNG seeded with a hash of its index, so any page can be built
//! directly and memory does not grow with `count`.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::draft::{AuthStep, CaPolicy, Device, Draft, Place, status_text};
use super::fields::{Field, SignInFields, Val};
use crate::scenario::{Tenant, TimeSpec, UserType};

pub const EVENT_NAMES: [&str; 3] = ["interactiveUser", "nonInteractiveUser", "servicePrincipal"];

/// Microsoft's own tenant: owner of first-party apps (`appOwnerTenantId`).
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

// --- scenario schema ----------------------------------------------------------------------

/// `tenants[].signIns.generate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateSpec {
    pub seed: u64,
    /// Total records across the three event types.
    pub count: u64,
    /// How far back the records reach from `end`.
    #[serde(default = "default_days")]
    pub days: u32,
    /// Distinct users: the tenant's scenario users first, then synthetic ones up to this.
    #[serde(default = "default_users")]
    pub users: u32,
    /// Newest possible record time; default: start-up. An absolute time makes page bytes
    /// identical across runs.
    #[serde(default)]
    pub end: Option<TimeSpec>,
    /// Relative weights of the event types; default 50 / 40 / 10.
    #[serde(default)]
    pub mix: Option<MixSpec>,
    /// What blocks legacy authentication and demands MFA; default `conditionalAccess` when the
    /// tenant has `requireMfa`, else `none`.
    #[serde(default)]
    pub policy: Option<PolicyMode>,
}

fn default_days() -> u32 {
    30
}

fn default_users() -> u32 {
    50
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MixSpec {
    #[serde(default)]
    pub interactive_user: u32,
    #[serde(default)]
    pub non_interactive_user: u32,
    #[serde(default)]
    pub service_principal: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyMode {
    None,
    SecurityDefaults,
    ConditionalAccess,
}

/// Largest `count` accepted (ids embed the index in 48 bits).
pub const MAX_COUNT: u64 = 1 << 40;

// --- hashing ------------------------------------------------------------------------------

/// SplitMix64 finaliser: a good 64-bit mixing function.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn hash(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x5EED_0F51_6E1E_u64, |acc, p| mix(acc ^ mix(*p)))
}

/// FNV-1a of a string (for salting with tenant ids and names).
pub fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A tiny deterministic PRNG (SplitMix64 sequence).
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// An index chosen with the given relative weights.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        if total == 0 {
            return 0;
        }
        let mut x = self.next_u64() % total;
        for (i, w) in weights.iter().enumerate() {
            let w = u64::from(*w);
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// A UUID (version-4 layout) from two hash words.
pub fn uuid_from(a: u64, b: u64) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes).to_string()
}

const MASK48: u64 = (1 << 48) - 1;
const PERM_A: u64 = 0x9E37_79B9_7F4B; // odd
const PERM_B: u64 = 0xD1B5_4A32_D193; // odd

fn inverse_mod_2_64(odd: u64) -> u64 {
    let mut inv = odd;
    for _ in 0..6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inv)));
    }
    inv
}

/// A keyed bijection on 48-bit integers, so ids look random yet reveal their index.
fn perm48(x: u64, key: u64) -> u64 {
    let a = ((x ^ key) & MASK48).wrapping_mul(PERM_A) & MASK48;
    let b = a ^ (a >> 24);
    (b.wrapping_mul(PERM_B) & MASK48) ^ ((key >> 16) & MASK48)
}

fn perm48_inv(y: u64, key: u64) -> u64 {
    let b = ((y ^ ((key >> 16) & MASK48)).wrapping_mul(inverse_mod_2_64(PERM_B))) & MASK48;
    let a = b ^ (b >> 24);
    ((a.wrapping_mul(inverse_mod_2_64(PERM_A)) & MASK48) ^ key) & MASK48
}

// --- static tables --------------------------------------------------------------------------

struct Res {
    id: &'static str,
    name: &'static str,
}

const RES_GRAPH: usize = 0;
const RES_ASM: usize = 1;
const RES_EXO: usize = 2;
const RES_SPO: usize = 3;
const RES_TEAMS: usize = 4;
const RES_AAD: usize = 5;

static RESOURCES: [Res; 6] = [
    Res {
        id: "00000003-0000-0000-c000-000000000000",
        name: "Microsoft Graph",
    },
    Res {
        id: "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        name: "Windows Azure Service Management API",
    },
    Res {
        id: "00000002-0000-0ff1-ce00-000000000000",
        name: "Office 365 Exchange Online",
    },
    Res {
        id: "00000003-0000-0ff1-ce00-000000000000",
        name: "Office 365 SharePoint Online",
    },
    Res {
        id: "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
        name: "Microsoft Teams Services",
    },
    Res {
        id: "00000002-0000-0000-c000-000000000000",
        name: "Windows Azure Active Directory",
    },
];

struct App {
    id: &'static str,
    name: &'static str,
    resource: usize,
}

const fn app(id: &'static str, name: &'static str, resource: usize) -> App {
    App { id, name, resource }
}

static BROWSER_APPS: [App; 5] = [
    app(
        "4765445b-32c6-49b0-83e6-1d93765276ca",
        "OfficeHome",
        RES_GRAPH,
    ),
    app(
        "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "Azure Portal",
        RES_ASM,
    ),
    app(
        "9199bf20-a13f-4107-85dc-02114787ef48",
        "One Outlook Web",
        RES_EXO,
    ),
    app(
        "5e3ce6c0-2b1f-4285-8d4b-75ee78787346",
        "Microsoft Teams Web Client",
        RES_TEAMS,
    ),
    app(
        "de8bc8b5-d9f9-48b1-a8ad-b748da725064",
        "Graph Explorer",
        RES_GRAPH,
    ),
];
const BROWSER_WEIGHTS: [u32; 5] = [30, 20, 30, 15, 5];

static DESKTOP_APPS: [App; 7] = [
    app(
        "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        "Microsoft Office",
        RES_EXO,
    ),
    app(
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        "Microsoft Teams",
        RES_TEAMS,
    ),
    app(
        "ab9b8c07-8f02-4f72-87fa-80105867a763",
        "OneDrive SyncEngine",
        RES_SPO,
    ),
    app(
        "29d9ed98-a469-4536-ade2-f981bc1d605e",
        "Microsoft Authentication Broker",
        RES_AAD,
    ),
    app(
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "Microsoft Azure CLI",
        RES_ASM,
    ),
    app(
        "1950a258-227b-4e31-a9cf-717495945fc2",
        "Microsoft Azure PowerShell",
        RES_ASM,
    ),
    app(
        "a0c73c16-a7e3-4564-9a95-2bdf47383716",
        "Microsoft Exchange REST API Based Powershell",
        RES_EXO,
    ),
];
const DESKTOP_WEIGHTS: [u32; 7] = [35, 30, 15, 10, 4, 3, 3];

static LEGACY_APP: App = app(
    "00000002-0000-0ff1-ce00-000000000000",
    "Office 365 Exchange Online",
    RES_EXO,
);

/// Legacy-authentication `clientAppUsed` values (api-contracts §3.7) and their weights.
pub static LEGACY_CLIENTS: [&str; 7] = [
    "IMAP4",
    "POP3",
    "Authenticated SMTP",
    "Exchange ActiveSync",
    "Other clients",
    "Exchange Web Services",
    "MAPI Over HTTP",
];
const LEGACY_WEIGHTS: [u32; 7] = [25, 10, 20, 20, 10, 8, 7];

struct Loc {
    city: &'static str,
    state: &'static str,
    country: &'static str,
    lat: f64,
    lon: f64,
    asn: i64,
    prefix: [u8; 2],
}

const fn loc(
    city: &'static str,
    state: &'static str,
    country: &'static str,
    lat: f64,
    lon: f64,
    asn: i64,
    prefix: [u8; 2],
) -> Loc {
    Loc {
        city,
        state,
        country,
        lat,
        lon,
        asn,
        prefix,
    }
}

/// Home locations first, then the ones risky sign-ins come from.
static LOCS: [Loc; 18] = [
    loc(
        "Redmond",
        "Washington",
        "US",
        47.6805,
        -122.1209,
        8075,
        [131, 107],
    ),
    loc(
        "New York",
        "New York",
        "US",
        40.7128,
        -74.0060,
        7922,
        [68, 173],
    ),
    loc(
        "Chicago",
        "Illinois",
        "US",
        41.8781,
        -87.6298,
        7018,
        [99, 120],
    ),
    loc("Austin", "Texas", "US", 30.2672, -97.7431, 11427, [70, 112]),
    loc("London", "England", "GB", 51.5072, -0.1276, 5089, [81, 98]),
    loc(
        "Manchester",
        "England",
        "GB",
        53.4808,
        -2.2426,
        2856,
        [86, 150],
    ),
    loc("Dublin", "Dublin", "IE", 53.3498, -6.2603, 5466, [89, 100]),
    loc("Berlin", "Berlin", "DE", 52.5200, 13.4050, 3320, [91, 64]),
    loc("Munich", "Bavaria", "DE", 48.1351, 11.5820, 3320, [93, 104]),
    loc(
        "Amsterdam",
        "Noord-Holland",
        "NL",
        52.3676,
        4.9041,
        1136,
        [145, 53],
    ),
    loc(
        "Paris",
        "Ile-de-France",
        "FR",
        48.8566,
        2.3522,
        3215,
        [90, 84],
    ),
    loc(
        "Toronto",
        "Ontario",
        "CA",
        43.6532,
        -79.3832,
        577,
        [142, 114],
    ),
    loc(
        "Sydney",
        "New South Wales",
        "AU",
        -33.8688,
        151.2093,
        1221,
        [124, 168],
    ),
    loc(
        "Bengaluru",
        "Karnataka",
        "IN",
        12.9716,
        77.5946,
        24560,
        [122, 171],
    ),
    loc("Lagos", "Lagos", "NG", 6.5244, 3.3792, 29465, [105, 112]),
    loc("Moscow", "Moscow", "RU", 55.7558, 37.6173, 8359, [95, 165]),
    loc(
        "Ho Chi Minh City",
        "Ho Chi Minh",
        "VN",
        10.8231,
        106.6297,
        7552,
        [113, 161],
    ),
    loc(
        "Bucharest",
        "Bucuresti",
        "RO",
        44.4268,
        26.1025,
        8708,
        [86, 120],
    ),
];
const HOME_LOCS: usize = 14;

/// `(operatingSystem, browser, user agent)`.
static DEVICES: [(&str, &str, &str); 6] = [
    (
        "Windows 10",
        "Edge 122.0.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0",
    ),
    (
        "Windows 10",
        "Chrome 122.0.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    ),
    (
        "MacOs",
        "Safari 17.3",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
    ),
    (
        "Ios 17.3.1",
        "Mobile Safari 17.3",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    ),
    (
        "Android 14",
        "Chrome Mobile 122.0.0",
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36",
    ),
    (
        "Linux",
        "Firefox 123.0",
        "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    ),
];
const DEVICE_WEIGHTS: [u32; 6] = [40, 20, 15, 12, 10, 3];

static FIRST_NAMES: [&str; 32] = [
    "Avery", "Blake", "Casey", "Dana", "Eli", "Farah", "Gwen", "Hiro", "Ines", "Jonas", "Kai",
    "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wes", "Xena", "Yusuf", "Zoe", "Anja", "Bruno", "Chloe", "Diego", "Emma", "Felix",
];
static LAST_NAMES: [&str; 32] = [
    "Abbott",
    "Bauer",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zimmermann",
    "Andersen",
    "Brennan",
    "Costa",
    "Dalton",
    "Eriksen",
    "Ferreira",
];
static GUEST_DOMAINS: [&str; 3] = ["fabrikam.example", "northwind.example", "adatum.example"];

static SECOND_FACTORS: [&str; 5] = [
    "Mobile app notification",
    "Text message",
    "OATH verification code",
    "FIDO2 security key",
    "Windows Hello for Business",
];
const SECOND_FACTOR_WEIGHTS: [u32; 5] = [65, 15, 10, 5, 5];

static RISK_EVENTS: [&str; 6] = [
    "unfamiliarFeatures",
    "anonymizedIPAddress",
    "maliciousIPAddress",
    "unlikelyTravel",
    "passwordSpray",
    "investigationsThreatIntelligence",
];
static RISK_LEVELS: [&str; 3] = ["low", "medium", "high"];
static RISK_STATES: [&str; 4] = ["atRisk", "remediated", "dismissed", "confirmedCompromised"];

/// Standard hours offset of a country's main business time zone (for the activity curve).
fn utc_offset_hours(country: &str) -> i64 {
    match country.to_ascii_uppercase().as_str() {
        "US" => -6,
        "CA" => -5,
        "BR" => -3,
        "DE" | "NL" | "FR" | "ES" | "IT" | "SE" | "NO" | "DK" | "PL" | "AT" | "CH" | "BE" => 1,
        "IN" => 5,
        "CN" | "SG" => 8,
        "JP" => 9,
        "AU" => 10,
        "NZ" => 12,
        _ => 0,
    }
}

/// `(display name, resource id, resource display name)` of a first-party app the generator
/// knows, for filling in literal sign-ins.
pub fn first_party_app(app_id: &str) -> Option<(&'static str, &'static str, &'static str)> {
    BROWSER_APPS
        .iter()
        .chain(DESKTOP_APPS.iter())
        .chain(std::iter::once(&LEGACY_APP))
        .find(|a| a.id.eq_ignore_ascii_case(app_id))
        .map(|a| (a.name, RESOURCES[a.resource].id, RESOURCES[a.resource].name))
}

/// Display name of a well-known resource app id.
pub fn resource_name(resource_id: &str) -> Option<&'static str> {
    RESOURCES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(resource_id))
        .map(|r| r.name)
}

/// A plausible location in `country` (first match in the table; Redmond otherwise), with its
/// autonomous system number.
pub fn place_for_country(country: &str) -> (Place, i64) {
    let l = LOCS[..HOME_LOCS]
        .iter()
        .find(|l| l.country.eq_ignore_ascii_case(country))
        .unwrap_or(&LOCS[0]);
    (
        Place {
            city: Some(l.city.to_owned()),
            state: Some(l.state.to_owned()),
            country: Some(l.country.to_owned()),
            latitude: Some(l.lat),
            longitude: Some(l.lon),
        },
        l.asn,
    )
}

// --- model ------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct GenUser {
    id: String,
    upn: String,
    display: String,
    guest: bool,
    home_tenant: Option<String>,
    mfa_registered: bool,
    enabled: bool,
    home_loc: usize,
    device: usize,
    host: [u8; 2],
    /// Joined device (id, name, trust type) or unmanaged.
    joined: Option<(String, String, &'static str)>,
}

#[derive(Debug, Clone)]
struct TenantApp {
    id: String,
    name: String,
    secret_expired: bool,
    certificate: bool,
}

#[derive(Debug)]
pub struct Generated {
    salt: u64,
    tenant_id: String,
    end_ms: i64,
    counts: [u64; 3],
    /// Per-hour weight going back from `end`, and running totals (weight × ms).
    hour_weight: Vec<u64>,
    hour_cum: Vec<u64>,
    users: Vec<GenUser>,
    /// The tenant's own apps users sign in to (all registrations).
    user_apps: Vec<TenantApp>,
    /// Apps with service-principal sign-ins: confidential registrations plus two synthetic
    /// daemons.
    sp_apps: Vec<TenantApp>,
    policy: PolicyMode,
    p2: bool,
    mfa_policy_id: String,
    legacy_policy_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Browser,
    Desktop,
    Legacy(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AppRef {
    Browser(usize),
    Desktop(usize),
    Legacy,
    Tenant(usize),
    Sp(usize),
}

/// Everything random about one generated record, drawn once; strings are derived on demand.
#[derive(Debug, Clone, Copy)]
pub struct Core {
    pub stream: usize,
    pub index: u64,
    pub ts_ms: i64,
    user: usize,
    app: AppRef,
    client: Client,
    mfa: bool,
    second_factor: usize,
    error: i64,
    /// 0 = none, else 1 + index into RISK_LEVELS.
    risk: usize,
    risk_state: usize,
    risk_event: usize,
    loc: usize,
    ip_tail: [u8; 2],
    device: usize,
    processing_ms: i64,
    device_code: bool,
    prt: bool,
}

/// A generated record bound to its generator (implements the filter accessor).
pub struct GenRecord<'g> {
    pub gen_: &'g Generated,
    pub core: Core,
}

impl Generated {
    pub fn build(
        spec: &GenerateSpec,
        tenant: &Tenant,
        loaded_at: DateTime<Utc>,
        p2: bool,
    ) -> Result<Generated, String> {
        if spec.count > MAX_COUNT {
            return Err(format!("generate.count must be at most {MAX_COUNT}"));
        }
        if !(1..=3650).contains(&spec.days) {
            return Err("generate.days must be between 1 and 3650".to_owned());
        }
        if spec.users > 100_000 {
            return Err("generate.users must be at most 100000".to_owned());
        }
        let salt = mix(spec.seed ^ hash_str(&tenant.id.to_ascii_lowercase()));
        let end = spec
            .end
            .map_or(loaded_at, |t| t.resolve(loaded_at))
            .timestamp();
        let end_ms = end * 1000;

        let users = build_users(salt, tenant, spec.users);
        let mix_spec = spec.mix.unwrap_or(MixSpec {
            interactive_user: 50,
            non_interactive_user: 40,
            service_principal: 10,
        });
        let mut weights = [
            u64::from(mix_spec.interactive_user),
            u64::from(mix_spec.non_interactive_user),
            u64::from(mix_spec.service_principal),
        ];
        if users.is_empty() {
            if spec.count > 0 && (weights[0] > 0 || weights[1] > 0) {
                return Err(
                    "generate: user sign-ins need users (set generate.users or list tenant users)"
                        .to_owned(),
                );
            }
            weights[0] = 0;
            weights[1] = 0;
        }
        let total: u64 = weights.iter().sum();
        if total == 0 && spec.count > 0 {
            return Err("generate.mix: at least one weight must be positive".to_owned());
        }
        let mut counts = [0u64; 3];
        if total > 0 {
            for (c, w) in counts.iter_mut().zip(weights) {
                *c = ((u128::from(spec.count) * u128::from(w)) / u128::from(total)) as u64;
            }
            let rest = spec.count - counts.iter().sum::<u64>();
            if let Some(first) = (0..3).find(|&s| weights[s] > 0) {
                counts[first] += rest;
            }
        }

        let hours = u64::from(spec.days) * 24;
        let offset = utc_offset_hours(&tenant.country_code);
        let mut hour_weight = Vec::with_capacity(hours as usize);
        let mut hour_cum = Vec::with_capacity(hours as usize);
        let mut acc = 0u64;
        for h in 0..hours as i64 {
            let start = DateTime::<Utc>::from_timestamp(end - (h + 1) * 3600, 0)
                .unwrap_or_default()
                + Duration::hours(offset);
            let w = activity_weight(start.weekday().num_days_from_monday(), start.hour());
            hour_weight.push(w);
            acc += w * 3_600_000;
            hour_cum.push(acc);
        }

        let app_of = |a: &crate::scenario::Application| TenantApp {
            id: a.app_id.clone(),
            name: a.display_name.clone(),
            secret_expired: !a.secrets.is_empty()
                && a.secrets.iter().all(|s| {
                    s.expires_on
                        .is_some_and(|e| e.resolve(loaded_at) <= loaded_at)
                }),
            certificate: a.secrets.is_empty() && !a.certificates.is_empty(),
        };
        let user_apps: Vec<TenantApp> = tenant.applications.iter().map(app_of).collect();
        let mut sp_apps: Vec<TenantApp> = tenant
            .applications
            .iter()
            .filter(|a| !a.public_client)
            .map(app_of)
            .collect();
        for (k, name) in [
            "Backup Service (synthetic)",
            "HR Provisioning Connector (synthetic)",
        ]
        .iter()
        .enumerate()
        {
            sp_apps.push(TenantApp {
                id: uuid_from(hash(&[salt, 11, k as u64]), hash(&[salt, 12, k as u64])),
                name: (*name).to_owned(),
                secret_expired: false,
                certificate: k == 1,
            });
        }

        let policy = spec.policy.unwrap_or(if tenant.require_mfa {
            PolicyMode::ConditionalAccess
        } else {
            PolicyMode::None
        });
        Ok(Generated {
            salt,
            tenant_id: tenant.id.clone(),
            end_ms,
            counts,
            hour_weight,
            hour_cum,
            users,
            user_apps,
            sp_apps,
            policy,
            p2,
            mfa_policy_id: uuid_from(hash(&[salt, 21]), hash(&[salt, 22])),
            legacy_policy_id: uuid_from(hash(&[salt, 23]), hash(&[salt, 24])),
        })
    }

    pub fn count(&self, stream: usize) -> u64 {
        self.counts.get(stream).copied().unwrap_or(0)
    }

    /// Timestamp (ms, whole seconds) of record `i` of `stream`; never increases with `i`.
    pub fn ts(&self, stream: usize, i: u64) -> i64 {
        let n = self.count(stream);
        let Some(&total) = self.hour_cum.last() else {
            return self.end_ms;
        };
        if n == 0 {
            return self.end_ms;
        }
        let jitter = hash(&[self.salt, 1 + stream as u64, i]) >> 44; // 20 bits
        let pos = (u128::from(i) << 20) | u128::from(jitter);
        let target = (pos * u128::from(total) / (u128::from(n) << 20)) as u64;
        let h = self
            .hour_cum
            .partition_point(|&c| c <= target)
            .min(self.hour_cum.len() - 1);
        let prev = if h == 0 { 0 } else { self.hour_cum[h - 1] };
        let within = (target - prev) / self.hour_weight[h].max(1);
        let offset = h as i64 * 3_600_000 + within.min(3_599_999) as i64;
        let t = self.end_ms - offset;
        t - t.rem_euclid(1000)
    }

    /// Indices `[a, b)` of `stream` whose timestamps lie in `[lo, hi]` (ms, inclusive).
    pub fn range(&self, stream: usize, lo: i64, hi: i64) -> (u64, u64) {
        let n = self.count(stream);
        let a = partition(n, |i| self.ts(stream, i) > hi);
        let b = partition(n, |i| self.ts(stream, i) >= lo);
        (a, b.max(a))
    }

    fn pick_user(&self, r: &mut Rng) -> usize {
        let n = self.users.len();
        let x = r.unit();
        let mut u = ((x * x) * n as f64) as usize;
        if u >= n {
            u = n - 1;
        }
        // Disabled accounts try far less often than active ones.
        if !self.users[u].enabled && r.chance(0.9) {
            u = r.below(n);
        }
        u
    }

    /// Draws record `index` of `stream`.
    pub fn core(&self, stream: usize, index: u64) -> Core {
        let ts_ms = self.ts(stream, index);
        let mut r = Rng::new(hash(&[self.salt, 100 + stream as u64, index]));
        let mut c = Core {
            stream,
            index,
            ts_ms,
            user: 0,
            app: AppRef::Legacy,
            client: Client::Browser,
            mfa: false,
            second_factor: 0,
            error: 0,
            risk: 0,
            risk_state: 0,
            risk_event: 0,
            loc: 0,
            ip_tail: [0, 0],
            device: 0,
            processing_ms: 40 + r.below(860) as i64,
            device_code: false,
            prt: false,
        };
        match stream {
            0 => self.draw_interactive(&mut c, &mut r),
            1 => self.draw_non_interactive(&mut c, &mut r),
            _ => self.draw_service_principal(&mut c, &mut r),
        }
        c
    }

    fn draw_interactive(&self, c: &mut Core, r: &mut Rng) {
        c.user = self.pick_user(r);
        let u = &self.users[c.user];
        c.device = u.device;
        let x = r.unit();
        c.client = if u.guest {
            if x < 0.85 {
                Client::Browser
            } else {
                Client::Desktop
            }
        } else if x < 0.52 {
            Client::Browser
        } else if x < 0.94 {
            Client::Desktop
        } else {
            Client::Legacy(r.weighted(&LEGACY_WEIGHTS))
        };
        c.app = match c.client {
            Client::Browser if !self.user_apps.is_empty() && r.chance(0.08) => {
                AppRef::Tenant(r.below(self.user_apps.len()))
            }
            Client::Browser => AppRef::Browser(r.weighted(&BROWSER_WEIGHTS)),
            Client::Desktop => AppRef::Desktop(r.weighted(&DESKTOP_WEIGHTS)),
            Client::Legacy(_) => AppRef::Legacy,
        };
        if let AppRef::Desktop(d) = c.app {
            c.device_code = d >= 4 && r.chance(0.2);
        }
        let legacy = matches!(c.client, Client::Legacy(_));
        c.error = if !u.enabled {
            50057
        } else if r.chance(if legacy { 0.15 } else { 0.04 }) {
            50126
        } else if legacy {
            match self.policy {
                PolicyMode::SecurityDefaults if r.chance(0.97) => 530035,
                PolicyMode::ConditionalAccess if r.chance(0.97) => 53003,
                _ => 0,
            }
        } else {
            let mfa_required = match self.policy {
                PolicyMode::None => r.chance(0.35),
                _ => r.chance(0.95),
            };
            if !mfa_required {
                0
            } else if u.mfa_registered {
                if r.chance(0.04) {
                    50076
                } else {
                    c.mfa = true;
                    0
                }
            } else if r.chance(0.4) {
                50076
            } else {
                0
            }
        };
        if c.mfa {
            c.second_factor = r.weighted(&SECOND_FACTOR_WEIGHTS);
        }
        let spray = legacy && c.error == 50126 && r.chance(0.7);
        if spray || r.chance(0.02) {
            c.risk = 1 + r.weighted(&[40, 40, 20]);
            c.risk_state = r.weighted(&[50, 20, 20, 10]);
            c.risk_event = if spray { 4 } else { r.below(4) };
            c.loc = HOME_LOCS + r.below(LOCS.len() - HOME_LOCS);
            c.ip_tail = [r.below(256) as u8, r.below(254) as u8 + 1];
        } else if r.chance(0.08) {
            c.loc = r.below(HOME_LOCS);
            c.ip_tail = [r.below(256) as u8, r.below(254) as u8 + 1];
        } else {
            c.loc = u.home_loc;
            c.ip_tail = u.host;
        }
    }

    fn draw_non_interactive(&self, c: &mut Core, r: &mut Rng) {
        c.user = self.pick_user(r);
        let u = &self.users[c.user];
        c.device = u.device;
        c.client = if r.chance(0.85) {
            Client::Desktop
        } else {
            Client::Browser
        };
        c.app = match c.client {
            Client::Browser if !self.user_apps.is_empty() && r.chance(0.15) => {
                AppRef::Tenant(r.below(self.user_apps.len()))
            }
            Client::Browser => AppRef::Browser(r.weighted(&BROWSER_WEIGHTS)),
            _ => AppRef::Desktop(r.weighted(&DESKTOP_WEIGHTS)),
        };
        c.mfa = u.mfa_registered
            && match self.policy {
                PolicyMode::None => r.chance(0.4),
                _ => true,
            };
        if c.mfa {
            c.second_factor = r.weighted(&SECOND_FACTOR_WEIGHTS);
        }
        c.error = if !u.enabled {
            50057
        } else if r.chance(0.01) {
            50173
        } else {
            0
        };
        c.prt = r.chance(0.3);
        c.loc = u.home_loc;
        c.ip_tail = u.host;
    }

    fn draw_service_principal(&self, c: &mut Core, r: &mut Rng) {
        let a = r.below(self.sp_apps.len());
        c.app = AppRef::Sp(a);
        let app = &self.sp_apps[a];
        c.error = if app.secret_expired {
            7000222
        } else if r.chance(0.02) {
            7000215
        } else {
            0
        };
        // Daemons run in a datacenter near the tenant.
        c.loc = (hash(&[self.salt, 31, a as u64]) % HOME_LOCS as u64) as usize;
        c.ip_tail = [
            (hash(&[self.salt, 32, a as u64]) % 256) as u8,
            r.below(254) as u8 + 1,
        ];
    }

    // --- derived values (shared by the filter accessor and the renderer) -------------------

    pub fn id(&self, stream: usize, index: u64) -> String {
        let h = hash(&[self.salt, 7, stream as u64, index]);
        let h2 = mix(h);
        let p = perm48(index, self.salt);
        let mut b = [0u8; 16];
        b[..6].copy_from_slice(&p.to_be_bytes()[2..]);
        b[6] = 0x40 | ((stream as u8 & 3) << 2) | (h as u8 & 3);
        b[7] = (h >> 8) as u8;
        b[8] = 0x80 | ((h >> 16) as u8 & 0x3f);
        b[9..16].copy_from_slice(&h2.to_be_bytes()[..7]);
        Uuid::from_bytes(b).to_string()
    }

    /// The `(stream, index)` an id names, if it is one of this generator's.
    pub fn locate(&self, id: &str) -> Option<(usize, u64)> {
        let uuid = Uuid::parse_str(id).ok()?;
        let b = uuid.as_bytes();
        if b[6] >> 4 != 4 {
            return None;
        }
        let stream = usize::from((b[6] >> 2) & 3);
        let mut p = [0u8; 8];
        p[2..].copy_from_slice(&b[..6]);
        let index = perm48_inv(u64::from_be_bytes(p), self.salt);
        (stream < 3
            && index < self.count(stream)
            && self.id(stream, index) == id.to_ascii_lowercase())
        .then_some((stream, index))
    }

    fn app_info(&self, c: &Core) -> (Cow<'_, str>, Cow<'_, str>, Option<&'static Res>, bool) {
        // (app id, display name, resource, first party)
        match c.app {
            AppRef::Browser(i) => {
                let a = &BROWSER_APPS[i];
                (
                    a.id.into(),
                    a.name.into(),
                    Some(&RESOURCES[a.resource]),
                    true,
                )
            }
            AppRef::Desktop(i) => {
                let a = &DESKTOP_APPS[i];
                (
                    a.id.into(),
                    a.name.into(),
                    Some(&RESOURCES[a.resource]),
                    true,
                )
            }
            AppRef::Legacy => (
                LEGACY_APP.id.into(),
                LEGACY_APP.name.into(),
                Some(&RESOURCES[LEGACY_APP.resource]),
                true,
            ),
            AppRef::Tenant(i) => {
                let a = &self.user_apps[i];
                (
                    a.id.as_str().into(),
                    a.name.as_str().into(),
                    Some(&RESOURCES[RES_GRAPH]),
                    false,
                )
            }
            AppRef::Sp(i) => {
                let a = &self.sp_apps[i];
                (
                    a.id.as_str().into(),
                    a.name.as_str().into(),
                    Some(&RESOURCES[RES_GRAPH]),
                    false,
                )
            }
        }
    }

    fn user<'s>(&'s self, c: &Core) -> Option<&'s GenUser> {
        (c.stream < 2).then(|| &self.users[c.user])
    }

    fn client_app_used(&self, c: &Core) -> Option<&'static str> {
        if c.stream == 2 {
            return None;
        }
        Some(match c.client {
            Client::Browser => "Browser",
            Client::Desktop => "Mobile Apps and Desktop clients",
            Client::Legacy(i) => LEGACY_CLIENTS[i],
        })
    }

    fn ip(&self, c: &Core) -> String {
        let p = LOCS[c.loc].prefix;
        format!("{}.{}.{}.{}", p[0], p[1], c.ip_tail[0], c.ip_tail[1])
    }

    /// Results of the tenant's two CA policies (MFA for all users, block legacy auth).
    fn ca_results(&self, c: &Core) -> Option<(&'static str, &'static str)> {
        if self.policy != PolicyMode::ConditionalAccess || c.stream == 2 {
            return None;
        }
        if matches!(c.error, 50126 | 50057 | 50173) {
            return Some(("notApplied", "notApplied"));
        }
        let legacy = matches!(c.client, Client::Legacy(_));
        let block = if legacy {
            if c.error == 53003 {
                "failure"
            } else {
                "success"
            }
        } else {
            "notApplied"
        };
        let mfa = if legacy {
            "notApplied"
        } else if c.error == 50076 {
            "failure"
        } else if c.mfa {
            "success"
        } else {
            "notApplied"
        };
        Some((mfa, block))
    }

    fn ca_status(&self, c: &Core) -> &'static str {
        match self.ca_results(c) {
            Some((a, b)) if a == "failure" || b == "failure" => "failure",
            Some((a, b)) if a == "success" || b == "success" => "success",
            _ => "notApplied",
        }
    }

    fn requirement(&self, c: &Core) -> &'static str {
        if c.mfa || c.error == 50076 {
            "multiFactorAuthentication"
        } else {
            "singleFactorAuthentication"
        }
    }

    /// `(riskDetail, riskLevelAggregated, riskLevelDuringSignIn, riskState)`; levels and
    /// detail read `hidden` without Entra ID P2 (api-contracts §3.3).
    fn risk(&self, c: &Core) -> (&'static str, &'static str, &'static str, &'static str) {
        if c.risk == 0 {
            let hidden = if self.p2 { "none" } else { "hidden" };
            return (hidden, hidden, hidden, "none");
        }
        let level = RISK_LEVELS[c.risk - 1];
        let state = RISK_STATES[c.risk_state];
        if !self.p2 {
            return ("hidden", "hidden", "hidden", state);
        }
        let detail = match state {
            "remediated" => "userPerformedSecuredPasswordChange",
            "dismissed" => "adminDismissedAllRiskForUser",
            "confirmedCompromised" => "adminConfirmedSigninCompromised",
            _ => "none",
        };
        (detail, level, level, state)
    }

    fn device_strings(&self, c: &Core) -> (Option<&'static str>, Option<&'static str>) {
        match (c.stream, c.client) {
            (2, _) => (None, None),
            (_, Client::Legacy(_)) => (Some(""), Some("")),
            (_, Client::Desktop) => (Some(DEVICES[c.device].0), Some("Rich Client 5.2.8.0")),
            _ => (Some(DEVICES[c.device].0), Some(DEVICES[c.device].1)),
        }
    }

    /// The full record.
    pub fn draft(&self, c: &Core) -> Draft {
        let user = self.user(c);
        let (app_id, app_name, resource, first_party) = self.app_info(c);
        let h = |k: u64| hash(&[self.salt, k, c.stream as u64, c.index]);
        let (risk_detail, risk_agg, risk_during, risk_state) = self.risk(c);
        let (os, browser) = self.device_strings(c);
        let (failure_reason, additional) = status_text(c.error);
        let place = &LOCS[c.loc];
        let second = SECOND_FACTORS[c.second_factor];
        let legacy = matches!(c.client, Client::Legacy(_));

        let mut d = Draft {
            id: self.id(c.stream, c.index),
            created_ms: c.ts_ms,
            user_id: user.map(|u| u.id.clone()).unwrap_or_default(),
            user_display_name: user.map(|u| u.display.clone()),
            user_principal_name: user.map(|u| u.upn.clone()),
            app_id: app_id.into_owned(),
            app_display_name: Some(app_name.clone().into_owned()),
            ip_address: self.ip(c),
            client_app_used: self.client_app_used(c).map(str::to_owned),
            correlation_id: uuid_from(h(8), h(9)),
            conditional_access_status: self.ca_status(c).to_owned(),
            original_request_id: uuid_from(h(10), h(11)),
            authentication_protocol: if c.device_code { "deviceCode" } else { "none" }.to_owned(),
            incoming_token_type: match c.stream {
                1 if c.prt => "primaryRefreshToken",
                1 => "refreshToken",
                _ => "none",
            }
            .to_owned(),
            is_interactive: c.stream == 0,
            home_tenant_id: user
                .and_then(|u| u.home_tenant.clone())
                .unwrap_or_else(|| self.tenant_id.clone()),
            processing_ms: c.processing_ms,
            risk_detail: risk_detail.to_owned(),
            risk_level_aggregated: risk_agg.to_owned(),
            risk_level_during_sign_in: risk_during.to_owned(),
            risk_state: risk_state.to_owned(),
            risk_event_types: if c.risk > 0 {
                vec![RISK_EVENTS[c.risk_event].to_owned()]
            } else {
                Vec::new()
            },
            resource_display_name: resource.map(|r| r.name.to_owned()),
            resource_id: resource.map(|r| r.id.to_owned()),
            resource_tenant_id: self.tenant_id.clone(),
            app_owner_tenant_id: Some(if first_party {
                MICROSOFT_TENANT.to_owned()
            } else {
                self.tenant_id.clone()
            }),
            authentication_requirement: self.requirement(c).to_owned(),
            unique_token_identifier: base64_22(h(12), h(13)),
            session_id: user.map(|u| {
                let day = c.ts_ms.div_euclid(86_400_000) as u64;
                uuid_from(hash(&[self.salt, 14, hash_str(&u.id), day]), h(15))
            }),
            sign_in_identifier: user.map(|u| u.upn.clone()),
            sign_in_event_types: vec![EVENT_NAMES[c.stream].to_owned()],
            service_principal_id: String::new(),
            client_credential_type: "none".to_owned(),
            user_type: if user.is_some_and(|u| u.guest) {
                "guest"
            } else {
                "member"
            }
            .to_owned(),
            autonomous_system_number: Some(place.asn),
            cross_tenant_access_type: if user.is_some_and(|u| u.guest) {
                "b2bCollaboration"
            } else {
                "none"
            }
            .to_owned(),
            error_code: c.error,
            failure_reason: failure_reason.map(str::to_owned),
            additional_details: additional.map(str::to_owned),
            place: Place {
                city: Some(place.city.to_owned()),
                state: Some(place.state.to_owned()),
                country: Some(place.country.to_owned()),
                latitude: Some(place.lat),
                longitude: Some(place.lon),
            },
            ..Draft::default()
        };

        if c.stream == 2 {
            let app = match c.app {
                AppRef::Sp(i) => &self.sp_apps[i],
                _ => &self.sp_apps[0],
            };
            d.service_principal_id = crate::tokens::service_principal_id(&self.tenant_id, &app.id);
            d.service_principal_name = Some(app.name.clone());
            d.service_principal_credential_key_id = Some(uuid_from(
                hash(&[self.salt, 16, hash_str(&app.id)]),
                hash(&[self.salt, 17, hash_str(&app.id)]),
            ));
            d.client_credential_type = if app.certificate {
                "certificate"
            } else {
                "clientSecret"
            }
            .to_owned();
            d.device = Device {
                device_id: String::new(),
                ..Device::default()
            };
            d.user_agent = None;
            return d;
        }

        let u = &self.users[c.user];
        d.user_agent = Some(match c.client {
            Client::Legacy(i) if i <= 2 && c.error == 50126 => "BAV2ROPC".to_owned(),
            Client::Legacy(_) => {
                "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)"
                    .to_owned()
            }
            Client::Desktop => format!("Mozilla/5.0 ({}) {}", DEVICES[c.device].0, app_name),
            Client::Browser => DEVICES[c.device].2.to_owned(),
        });
        d.device = match (&u.joined, legacy) {
            (Some((id, name, trust)), false) => Device {
                device_id: id.clone(),
                display_name: Some(name.clone()),
                operating_system: os.map(str::to_owned),
                browser: browser.map(str::to_owned),
                is_compliant: Some(true),
                is_managed: Some(true),
                trust_type: Some((*trust).to_owned()),
            },
            _ => Device {
                device_id: String::new(),
                display_name: None,
                operating_system: os.map(str::to_owned),
                browser: browser.map(str::to_owned),
                is_compliant: Some(false),
                is_managed: Some(false),
                trust_type: None,
            },
        };
        if u.joined.is_some() && c.loc == u.home_loc && !legacy {
            d.network_names = vec!["Corporate network".to_owned()];
        }

        if let Some((mfa_result, block_result)) = self.ca_results(c) {
            d.ca_policies = vec![
                CaPolicy {
                    id: self.mfa_policy_id.clone(),
                    display_name: "Require multifactor authentication for all users".to_owned(),
                    grant_controls: vec!["Mfa".to_owned()],
                    result: mfa_result.to_owned(),
                },
                CaPolicy {
                    id: self.legacy_policy_id.clone(),
                    display_name: "Block legacy authentication".to_owned(),
                    grant_controls: vec!["Block".to_owned()],
                    result: block_result.to_owned(),
                },
            ];
        }
        if c.mfa {
            d.requirement_policies = vec![match self.policy {
                PolicyMode::ConditionalAccess => (
                    "multiConditionalAccess".to_owned(),
                    "Conditional Access".to_owned(),
                ),
                PolicyMode::SecurityDefaults => (
                    "securityDefaults".to_owned(),
                    "Security defaults".to_owned(),
                ),
                PolicyMode::None => ("user".to_owned(), "Per-user MFA".to_owned()),
            }];
        }

        if c.stream == 0 {
            let password_ok = !matches!(c.error, 50126 | 50057);
            d.auth_steps.push(AuthStep {
                at_ms: c.ts_ms,
                method: "Password".to_owned(),
                method_detail: Some("Password in the cloud".to_owned()),
                succeeded: password_ok,
                result_detail: Some(
                    match c.error {
                        50126 => "Invalid username or password or Invalid on-premise username or password.",
                        50057 => "User account is disabled.",
                        _ => "Correct password",
                    }
                    .to_owned(),
                ),
                requirement: "Primary authentication".to_owned(),
            });
            if password_ok {
                d.authentication_methods_used.push("Password".to_owned());
            }
            if c.mfa {
                d.auth_steps.push(AuthStep {
                    at_ms: c.ts_ms,
                    method: second.to_owned(),
                    method_detail: None,
                    succeeded: true,
                    result_detail: Some("MFA successfully completed".to_owned()),
                    requirement: "Multifactor authentication".to_owned(),
                });
                d.authentication_methods_used.push(second.to_owned());
                d.mfa = Some((second.to_owned(), None));
            }
        } else if c.error == 0 {
            d.auth_steps.push(AuthStep {
                at_ms: c.ts_ms,
                method: "Previously satisfied".to_owned(),
                method_detail: None,
                succeeded: true,
                result_detail: Some(
                    "First factor requirement satisfied by claim in the token".to_owned(),
                ),
                requirement: "Primary authentication".to_owned(),
            });
            if c.mfa {
                d.auth_steps.push(AuthStep {
                    at_ms: c.ts_ms,
                    method: "Previously satisfied".to_owned(),
                    method_detail: None,
                    succeeded: true,
                    result_detail: Some(
                        "MFA requirement satisfied by claim in the token".to_owned(),
                    ),
                    requirement: "Multifactor authentication".to_owned(),
                });
                d.mfa = Some(("Previously satisfied".to_owned(), None));
            }
        }
        d
    }
}

fn base64_22(a: u64, b: u64) -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Relative sign-in activity for a local weekday (0 = Monday) and hour.
fn activity_weight(weekday: u32, hour: u32) -> u64 {
    if weekday >= 5 {
        return if (9..20).contains(&hour) { 2 } else { 1 };
    }
    match hour {
        0..=5 => 1,
        6..=7 => 4,
        8 => 8,
        9..=11 => 12,
        12..=16 => 10,
        17..=18 => 6,
        19..=21 => 3,
        _ => 2,
    }
}

/// The first `i` in `[0, n)` for which `pred(i)` is false (`pred` true then false).
fn partition(n: u64, pred: impl Fn(u64) -> bool) -> u64 {
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

fn build_users(salt: u64, tenant: &Tenant, wanted: u32) -> Vec<GenUser> {
    let home_locs: Vec<usize> = (0..HOME_LOCS)
        .filter(|&i| LOCS[i].country.eq_ignore_ascii_case(&tenant.country_code))
        .collect();
    let shape = |key: u64, r: &mut Rng| {
        let home_loc = if !home_locs.is_empty() && r.chance(0.8) {
            home_locs[r.below(home_locs.len())]
        } else {
            r.below(HOME_LOCS)
        };
        let device = r.weighted(&DEVICE_WEIGHTS);
        let host = [r.below(256) as u8, r.below(254) as u8 + 1];
        let joined = r.chance(0.45).then(|| {
            (
                uuid_from(hash(&[salt, 41, key]), hash(&[salt, 42, key])),
                format!(
                    "{}-{:06X}",
                    if r.chance(0.5) { "DESKTOP" } else { "LAPTOP" },
                    r.next_u64() & 0xFF_FFFF
                ),
                if r.chance(0.7) {
                    "Azure AD joined"
                } else {
                    "Hybrid Azure AD joined"
                },
            )
        });
        (home_loc, device, host, joined)
    };
    let mut users = Vec::new();
    for u in &tenant.users {
        let key = hash_str(&u.id.to_ascii_lowercase());
        let mut r = Rng::new(hash(&[salt, 40, key]));
        let (home_loc, device, host, joined) = shape(key, &mut r);
        let guest = u.user_type == UserType::Guest;
        users.push(GenUser {
            id: u.id.clone(),
            upn: u.user_principal_name.clone(),
            display: u.display_name.clone(),
            guest,
            home_tenant: if guest {
                u.home_tenant_id.clone()
            } else {
                None
            },
            mfa_registered: u.mfa_registered,
            enabled: u.account_enabled,
            home_loc,
            device,
            host,
            joined: if guest { None } else { joined },
        });
    }
    let domain = tenant.default_domain().to_ascii_lowercase();
    let synthetic = (wanted as usize).saturating_sub(users.len());
    for n in 0..synthetic as u64 {
        let mut r = Rng::new(hash(&[salt, 43, n]));
        let first = FIRST_NAMES[r.below(FIRST_NAMES.len())];
        let last = LAST_NAMES[r.below(LAST_NAMES.len())];
        let guest = r.chance(0.06);
        let local = format!(
            "{}.{}{}",
            first.to_ascii_lowercase(),
            last.to_ascii_lowercase(),
            n + 1
        );
        let (upn, home_tenant) = if guest {
            let g = r.below(GUEST_DOMAINS.len());
            (
                format!("{local}_{}#EXT#@{domain}", GUEST_DOMAINS[g]),
                Some(uuid_from(
                    hash(&[salt, 44, g as u64]),
                    hash(&[salt, 45, g as u64]),
                )),
            )
        } else {
            (format!("{local}@{domain}"), None)
        };
        let (home_loc, device, host, joined) = shape(1_000_000 + n, &mut r);
        users.push(GenUser {
            id: uuid_from(hash(&[salt, 46, n]), hash(&[salt, 47, n])),
            upn,
            display: format!("{first} {last}"),
            guest,
            home_tenant,
            mfa_registered: r.chance(if guest { 0.6 } else { 0.85 }),
            enabled: r.chance(0.97),
            home_loc,
            device,
            host,
            joined: if guest { None } else { joined },
        });
    }
    users
}

impl SignInFields for GenRecord<'_> {
    fn field(&self, field: Field) -> Val<'_> {
        let g = self.gen_;
        let c = &self.core;
        let user = g.user(c);
        match field {
            Field::CreatedDateTime => Val::Time(c.ts_ms),
            Field::Id => Val::Str(g.id(c.stream, c.index).into()),
            Field::UserId => Val::s(user.map_or("", |u| u.id.as_str())),
            Field::UserPrincipalName => Val::opt(user.map(|u| u.upn.as_str())),
            Field::UserDisplayName => Val::opt(user.map(|u| u.display.as_str())),
            Field::AppId => Val::Str(g.app_info(c).0),
            Field::AppDisplayName => Val::Str(g.app_info(c).1),
            Field::IpAddress => Val::Str(g.ip(c).into()),
            Field::ClientAppUsed => Val::opt(g.client_app_used(c)),
            Field::ConditionalAccessStatus => Val::s(g.ca_status(c)),
            Field::CorrelationId => Val::Str(
                uuid_from(
                    hash(&[g.salt, 8, c.stream as u64, c.index]),
                    hash(&[g.salt, 9, c.stream as u64, c.index]),
                )
                .into(),
            ),
            Field::ResourceId => Val::opt(g.app_info(c).2.map(|r| r.id)),
            Field::ResourceDisplayName => Val::opt(g.app_info(c).2.map(|r| r.name)),
            Field::StatusErrorCode => Val::Int(c.error),
            Field::DeviceBrowser => Val::opt(g.device_strings(c).1),
            Field::DeviceOperatingSystem => Val::opt(g.device_strings(c).0),
            Field::LocationCity => Val::s(LOCS[c.loc].city),
            Field::LocationState => Val::s(LOCS[c.loc].state),
            Field::LocationCountryOrRegion => Val::s(LOCS[c.loc].country),
            Field::IsInteractive => Val::Bool(c.stream == 0),
            Field::RiskDetail => Val::s(g.risk(c).0),
            Field::RiskLevelAggregated => Val::s(g.risk(c).1),
            Field::RiskLevelDuringSignIn => Val::s(g.risk(c).2),
            Field::RiskState => Val::s(g.risk(c).3),
            Field::RiskEventTypesV2 => Val::List(if c.risk > 0 {
                vec![Cow::Borrowed(RISK_EVENTS[c.risk_event])]
            } else {
                Vec::new()
            }),
            Field::AuthenticationRequirement => Val::s(g.requirement(c)),
            Field::SignInEventTypes => Val::List(vec![Cow::Borrowed(EVENT_NAMES[c.stream])]),
            Field::UserType => Val::s(if user.is_some_and(|u| u.guest) {
                "guest"
            } else {
                "member"
            }),
            Field::CrossTenantAccessType => Val::s(if user.is_some_and(|u| u.guest) {
                "b2bCollaboration"
            } else {
                "none"
            }),
            Field::AuthenticationProtocol => {
                Val::s(if c.device_code { "deviceCode" } else { "none" })
            }
            Field::ServicePrincipalId => match c.app {
                AppRef::Sp(i) if c.stream == 2 => Val::Str(
                    crate::tokens::service_principal_id(&g.tenant_id, &g.sp_apps[i].id).into(),
                ),
                _ => Val::s(""),
            },
            Field::ServicePrincipalName => match c.app {
                AppRef::Sp(i) if c.stream == 2 => Val::s(&g.sp_apps[i].name),
                _ => Val::Null,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn tenant_scenario(count: u64, days: u32) -> Scenario {
        let text = format!(
            r#"{{"tenants":[{{"id":"11111111-1111-4111-8111-111111111111","domains":["t.onmicrosoft.com"],"displayName":"T","requireMfa":true,
                "users":[{{"id":"22222222-2222-4222-8222-222222222222","userPrincipalName":"a@t.onmicrosoft.com","displayName":"A","mfaRegistered":true}}],
                "signIns":{{"generate":{{"seed":7,"count":{count},"days":{days},"users":40}}}}}}]}}"#
        );
        Scenario::load(&text, "http://x", Utc::now()).expect("scenario loads")
    }

    fn generated(count: u64, days: u32) -> Generated {
        let s = tenant_scenario(count, days);
        let t = &s.tenants[0];
        let spec = t
            .sign_ins
            .as_ref()
            .and_then(|x| x.generate.clone())
            .expect("generate spec");
        Generated::build(&spec, t, s.loaded_at, true).expect("builds")
    }

    #[test]
    fn perm48_round_trips() {
        for key in [0u64, 1, 0xdead_beef_cafe_f00d, u64::MAX] {
            for x in [0u64, 1, 2, 999_999, (1 << 48) - 1, 123_456_789_012] {
                assert_eq!(perm48_inv(perm48(x, key), key), x);
            }
        }
    }

    #[test]
    fn timestamps_never_increase_and_stay_in_the_window() {
        let g = generated(100_000, 30);
        assert_eq!(g.counts.iter().sum::<u64>(), 100_000);
        for s in 0..3 {
            let n = g.count(s);
            let mut prev = i64::MAX;
            for i in 0..n {
                let t = g.ts(s, i);
                assert!(t <= prev, "stream {s} index {i}");
                assert!(t <= g.end_ms && t >= g.end_ms - 30 * 86_400_000);
                prev = t;
            }
        }
    }

    #[test]
    fn ranges_match_a_linear_scan() {
        let g = generated(5_000, 7);
        let lo = g.end_ms - 3 * 86_400_000 - 1234;
        let hi = g.end_ms - 86_400_000 + 777;
        for s in 0..3 {
            let (a, b) = g.range(s, lo, hi);
            let want: Vec<u64> = (0..g.count(s))
                .filter(|&i| (lo..=hi).contains(&g.ts(s, i)))
                .collect();
            assert_eq!(want.first().copied().unwrap_or(a), a);
            assert_eq!(want.len() as u64, b - a);
        }
    }

    #[test]
    fn records_are_deterministic_and_ids_locate_them() {
        let g1 = generated(10_000, 30);
        let g2 = generated(10_000, 30);
        for (s, i) in [(0, 0), (0, 4_999), (1, 17), (2, 3)] {
            let a = g1
                .draft(&g1.core(s, i))
                .to_map(&super::super::props::all(super::super::ApiVersion::Beta));
            let b = g2
                .draft(&g2.core(s, i))
                .to_map(&super::super::props::all(super::super::ApiVersion::Beta));
            // Identical except for times relative to start-up (loaded "now" may differ by a second).
            assert_eq!(a["id"], b["id"]);
            assert_eq!(a["userId"], b["userId"]);
            assert_eq!(a["status"], b["status"]);
            let id = a["id"].as_str().expect("id");
            assert_eq!(g1.locate(id), Some((s, i)));
        }
        assert_eq!(g1.locate("00000000-0000-4000-8000-000000000000"), None);
    }

    #[test]
    fn the_mix_is_realistic() {
        let g = generated(20_000, 30);
        let n = g.count(0);
        let mut legacy = 0;
        let mut mfa = 0;
        let mut failures = 0;
        let mut risky = 0;
        for i in 0..n {
            let rec = GenRecord {
                gen_: &g,
                core: g.core(0, i),
            };
            if let Val::Str(c) = rec.field(Field::ClientAppUsed)
                && LEGACY_CLIENTS.contains(&c.as_ref())
            {
                legacy += 1;
            }
            if rec.field(Field::AuthenticationRequirement) == Val::s("multiFactorAuthentication") {
                mfa += 1;
            }
            if rec.field(Field::StatusErrorCode) != Val::Int(0) {
                failures += 1;
            }
            if rec.core.risk > 0 {
                risky += 1;
            }
        }
        let pct = |x: u64| x * 100 / n;
        assert!((3..=12).contains(&pct(legacy)), "legacy {}", pct(legacy));
        assert!((40..=90).contains(&pct(mfa)), "mfa {}", pct(mfa));
        assert!(
            (5..=30).contains(&pct(failures)),
            "failures {}",
            pct(failures)
        );
        assert!((1..=6).contains(&pct(risky)), "risky {}", pct(risky));
    }
}
