//! Everything the checks read, fetched once per assessment and shared: a check asks, the first
//! ask fetches, later asks get the same answer (or the same error).

use super::Options;
use super::coverage::{self, CoverageReport};
use crate::directory::{
    self, AccessAssignment, ConditionalAccessPolicy, Domain, Endpoint, FederationConfiguration,
    GdapRelationship, Graph, LicenceTier, RegistrationDetail, RoleAssignment, SubscribedSku, User,
};
use crate::error::Error;
use crate::partner_reports::{self, AppMfaAdoption, Customer, FraudEvent, NonMfaPrincipal};
use crate::session::ContextInfo;
use crate::signins::fetch::{self, Event};
use crate::signins::page::fields;
use crate::signins::{ApiVersion, Context, EventType, Outcome, SignInFilter, SignInQuery};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Why something could not be read: which data, from which endpoint, and the error.
#[derive(Debug)]
pub struct Failure {
    pub what: &'static str,
    pub endpoint: Option<Endpoint>,
    pub error: Error,
}

/// A fetched resource or why it could not be fetched.
pub type Fetched<T> = std::result::Result<Arc<T>, Arc<Failure>>;

fn failed(endpoint: &Endpoint) -> impl FnOnce(Error) -> Arc<Failure> + '_ {
    move |error| {
        Arc::new(Failure {
            what: endpoint.what,
            endpoint: Some(*endpoint),
            error,
        })
    }
}

fn failed_partner(what: &'static str) -> impl FnOnce(Error) -> Arc<Failure> {
    move |error| {
        Arc::new(Failure {
            what,
            endpoint: None,
            error,
        })
    }
}

struct Lazy<T>(OnceCell<Fetched<T>>);

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Self(OnceCell::new())
    }
}

impl<T> Lazy<T> {
    async fn get<F, Fut>(&self, fetch: F) -> Fetched<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<T, Arc<Failure>>>,
    {
        self.0
            .get_or_init(|| async { fetch().await.map(Arc::new) })
            .await
            .clone()
    }
}

/// A GDAP relationship with its access assignments (or why they could not be read).
#[derive(Debug, Clone)]
pub struct Relationship {
    pub relationship: GdapRelationship,
    pub assignments: std::result::Result<Vec<AccessAssignment>, Arc<Failure>>,
}

/// A federated domain and its federation settings.
#[derive(Debug, Clone)]
pub struct FederatedDomain {
    pub domain: Domain,
    pub configuration: Option<FederationConfiguration>,
}

/// A sign-in record (Graph SDK property names, e.g. `UserPrincipalName`).
pub type SignIn = Map<String, Value>;

pub struct Sources {
    pub graph: Graph,
    pub options: Options,
    users: Lazy<Vec<User>>,
    security_defaults: Lazy<bool>,
    policies: Lazy<Vec<ConditionalAccessPolicy>>,
    registration: Lazy<HashMap<String, RegistrationDetail>>,
    skus: Lazy<Vec<SubscribedSku>>,
    assignments: Lazy<Vec<RoleAssignment>>,
    eligibilities: Lazy<Vec<RoleAssignment>>,
    group_names: Lazy<Vec<directory::Group>>,
    members: tokio::sync::Mutex<HashMap<String, Fetched<HashSet<String>>>>,
    per_user_mfa: Lazy<HashMap<String, String>>,
    coverage: Lazy<CoverageReport>,
    sign_ins: Lazy<Vec<SignIn>>,
    gdap: Lazy<Vec<Relationship>>,
    federated: Lazy<Vec<FederatedDomain>>,
    fraud: Lazy<Vec<FraudEvent>>,
    non_mfa: Lazy<Vec<NonMfaPrincipal>>,
    adoption: Lazy<Vec<AppMfaAdoption>>,
    customers: Lazy<Vec<Customer>>,
}

impl Sources {
    pub fn new(ctx: Context, options: Options) -> Self {
        Self {
            graph: Graph::new(ctx),
            options,
            users: Lazy::default(),
            security_defaults: Lazy::default(),
            policies: Lazy::default(),
            registration: Lazy::default(),
            skus: Lazy::default(),
            assignments: Lazy::default(),
            eligibilities: Lazy::default(),
            group_names: Lazy::default(),
            members: tokio::sync::Mutex::new(HashMap::new()),
            per_user_mfa: Lazy::default(),
            coverage: Lazy::default(),
            sign_ins: Lazy::default(),
            gdap: Lazy::default(),
            federated: Lazy::default(),
            fraud: Lazy::default(),
            non_mfa: Lazy::default(),
            adoption: Lazy::default(),
            customers: Lazy::default(),
        }
    }

    pub fn context(&self) -> ContextInfo {
        self.graph.context().session.context()
    }

    pub fn tenant(&self) -> String {
        self.graph.context().session.tenant().to_owned()
    }

    pub async fn users(&self) -> Fetched<Vec<User>> {
        self.users
            .get(|| async { self.graph.users().await.map_err(failed(&directory::USERS)) })
            .await
    }

    pub async fn security_defaults(&self) -> Fetched<bool> {
        self.security_defaults
            .get(|| async {
                self.graph
                    .security_defaults()
                    .await
                    .map(|p| p.is_enabled)
                    .map_err(failed(&directory::SECURITY_DEFAULTS))
            })
            .await
    }

    pub async fn policies(&self) -> Fetched<Vec<ConditionalAccessPolicy>> {
        self.policies
            .get(|| async {
                self.graph
                    .conditional_access_policies()
                    .await
                    .map_err(failed(&directory::CONDITIONAL_ACCESS))
            })
            .await
    }

    /// Registration details by user id.
    pub async fn registration(&self) -> Fetched<HashMap<String, RegistrationDetail>> {
        self.registration
            .get(|| async {
                Ok(self
                    .graph
                    .registration_details()
                    .await
                    .map_err(failed(&directory::REGISTRATION))?
                    .into_iter()
                    .map(|r| (r.id.to_ascii_lowercase(), r))
                    .collect())
            })
            .await
    }

    /// The tenant's subscriptions with their service plans.
    pub async fn skus(&self) -> Fetched<Vec<SubscribedSku>> {
        self.skus
            .get(|| async {
                self.graph
                    .subscribed_skus()
                    .await
                    .map_err(failed(&directory::SKUS))
            })
            .await
    }

    pub async fn licences(&self) -> Fetched<LicenceTier> {
        self.skus().await.map(|s| Arc::new(LicenceTier::of(&s)))
    }

    /// Active (permanent or activated) directory role assignments.
    pub async fn role_assignments(&self) -> Fetched<Vec<RoleAssignment>> {
        self.assignments
            .get(|| async {
                self.graph
                    .role_assignments()
                    .await
                    .map_err(failed(&directory::ROLE_ASSIGNMENTS))
            })
            .await
    }

    /// PIM-eligible role assignments.
    pub async fn role_eligibilities(&self) -> Fetched<Vec<RoleAssignment>> {
        self.eligibilities
            .get(|| async {
                self.graph
                    .role_eligibilities()
                    .await
                    .map_err(failed(&directory::ROLE_ELIGIBILITY))
            })
            .await
    }

    pub async fn groups(&self) -> Fetched<Vec<directory::Group>> {
        self.group_names
            .get(|| async {
                self.graph
                    .groups()
                    .await
                    .map_err(failed(&directory::GROUPS))
            })
            .await
    }

    /// A group's transitive user members (ids, lower case).
    pub async fn members(&self, group_id: &str) -> Fetched<HashSet<String>> {
        let key = group_id.to_ascii_lowercase();
        let mut cache = self.members.lock().await;
        if let Some(found) = cache.get(&key) {
            return found.clone();
        }
        let fetched = self
            .graph
            .group_members(group_id)
            .await
            .map(|m| Arc::new(m.into_iter().map(|m| m.id.to_ascii_lowercase()).collect()))
            .map_err(failed(&directory::GROUP_MEMBERS));
        cache.insert(key, fetched.clone());
        fetched
    }

    /// Per-user MFA state (`disabled` / `enabled` / `enforced`) of every enabled user.
    pub async fn per_user_mfa(&self) -> Fetched<HashMap<String, String>> {
        self.per_user_mfa
            .get(|| async {
                let users = self.users().await?;
                let mut states = HashMap::new();
                for u in users.iter().filter(|u| u.is_enabled()) {
                    let state = self
                        .graph
                        .per_user_mfa(&u.id)
                        .await
                        .map_err(failed(&directory::PER_USER_MFA))?;
                    states.insert(u.id.to_ascii_lowercase(), state.per_user_mfa_state);
                }
                Ok(states)
            })
            .await
    }

    /// Every enabled user's MFA coverage (check 1's evaluation, shared by checks 2, 7 and 10).
    pub async fn coverage(&self) -> Fetched<CoverageReport> {
        self.coverage.get(|| coverage::evaluate(self)).await
    }

    /// Successful user sign-ins (interactive and non-interactive) of the last `sign_in_days`.
    pub async fn sign_ins(&self) -> Fetched<Vec<SignIn>> {
        self.sign_ins
            .get(|| async {
                self.read_sign_ins()
                    .await
                    .map_err(failed(&directory::SIGN_INS))
            })
            .await
    }

    async fn read_sign_ins(&self) -> crate::Result<Vec<SignIn>> {
        let start =
            chrono::Utc::now() - chrono::Duration::days(i64::from(self.options.sign_in_days));
        let query = SignInQuery {
            filter: SignInFilter {
                start: Some(start),
                event_types: vec![EventType::Interactive, EventType::NonInteractive],
                outcome: Outcome::Succeeded,
                ..Default::default()
            },
            version: ApiVersion::Beta,
            select: [
                "userId",
                "userPrincipalName",
                "appId",
                "appDisplayName",
                "clientAppUsed",
                "authenticationRequirement",
                "userAgent",
                "signInEventTypes",
                "status",
                "tokenIssuerType",
            ]
            .map(String::from)
            .to_vec(),
            ..Default::default()
        }
        .validated()?;
        let plans = fetch::fresh_plans(&query);
        let mut run = fetch::start(self.graph.context().clone(), Arc::new(query), plans, fetch::Order::Arrival);
        let mut records = Vec::new();
        while let Some(event) = run.events.recv().await {
            match event {
                Event::Page(page) => records.extend(page.records.iter().map(fields)),
                Event::Failed { error, .. } => return Err(error),
                Event::TenantDone { .. } | Event::Planned { .. } => {}
            }
        }
        Ok(records)
    }

    pub async fn gdap(&self) -> Fetched<Vec<Relationship>> {
        self.gdap
            .get(|| async {
                let mut out = Vec::new();
                for relationship in self
                    .graph
                    .gdap_relationships()
                    .await
                    .map_err(failed(&directory::GDAP))?
                {
                    let assignments = self
                        .graph
                        .gdap_access_assignments(&relationship.id)
                        .await
                        .map_err(failed(&directory::GDAP_ASSIGNMENTS));
                    out.push(Relationship {
                        relationship,
                        assignments,
                    });
                }
                Ok(out)
            })
            .await
    }

    pub async fn federated_domains(&self) -> Fetched<Vec<FederatedDomain>> {
        self.federated
            .get(|| async {
                let mut out = Vec::new();
                let domains = self
                    .graph
                    .domains()
                    .await
                    .map_err(failed(&directory::DOMAINS))?;
                for domain in domains
                    .into_iter()
                    .filter(|d| d.authentication_type.eq_ignore_ascii_case("Federated"))
                {
                    let configuration = self
                        .graph
                        .federation(&domain.id)
                        .await
                        .map_err(failed(&directory::FEDERATION))?
                        .into_iter()
                        .next();
                    out.push(FederatedDomain {
                        domain,
                        configuration,
                    });
                }
                Ok(out)
            })
            .await
    }

    pub async fn fraud_events(&self) -> Fetched<Vec<FraudEvent>> {
        self.fraud
            .get(|| async {
                partner_reports::fraud_events(self.graph.context())
                    .await
                    .map_err(failed_partner("Azure fraud events"))
            })
            .await
    }

    pub async fn non_mfa_principals(&self) -> Fetched<Vec<NonMfaPrincipal>> {
        self.non_mfa
            .get(|| async {
                partner_reports::non_mfa_compliant_principals(self.graph.context())
                    .await
                    .map_err(failed_partner("non-MFA-compliant principals"))
            })
            .await
    }

    pub async fn app_mfa_adoption(&self) -> Fetched<Vec<AppMfaAdoption>> {
        self.adoption
            .get(|| async {
                partner_reports::application_mfa_adoption(self.graph.context())
                    .await
                    .map_err(failed_partner("application MFA adoption"))
            })
            .await
    }

    /// The partner's customers in Partner Center, with their DAP flag.
    pub async fn customers(&self) -> Fetched<Vec<Customer>> {
        self.customers
            .get(|| async {
                partner_reports::customers(self.graph.context())
                    .await
                    .map_err(failed_partner("Partner Center customers"))
            })
            .await
    }

    /// User ids (lower case) → role template ids of their active assignments.
    pub async fn roles_by_user(&self) -> Fetched<BTreeMap<String, Vec<String>>> {
        let assignments = self.role_assignments().await?;
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for a in assignments.iter() {
            map.entry(a.principal_id.to_ascii_lowercase())
                .or_default()
                .push(a.role_definition_id.to_ascii_lowercase());
        }
        Ok(Arc::new(map))
    }
}
