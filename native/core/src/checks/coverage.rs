//! Effective MFA coverage per user, merged from security defaults, Conditional Access (state,
//! users, groups, roles, client app types, grant controls) and per-user MFA, with the reason:
//! which policy covers the user, which exclusion leaves them out.

use super::sources::{Failure, Sources};
use crate::directory::{ConditionalAccessPolicy, User, is_non_premium};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Directory Synchronization Accounts role template (Entra Connect's sync account).
pub const SYNC_ROLE: &str = "d29b2b05-8046-44ba-8758-1e26182fcf32";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AccountKind {
    User,
    /// Emergency access: kept out of policies on purpose, must still have strong MFA.
    BreakGlass,
    /// Entra Connect's directory-sync account: excluded from security defaults by design.
    DirectorySync,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    pub user_id: String,
    pub user_principal_name: String,
    pub display_name: String,
    pub guest: bool,
    pub kind: AccountKind,
    /// What requires MFA of this user ("security defaults", "Conditional Access policy ...").
    pub covered_by: Vec<String>,
    /// Policies that would cover the user but exclude them, with the exclusion.
    pub excluded_by: Vec<String>,
    /// Report-only MFA policies that include the user (they do not enforce).
    pub report_only: Vec<String>,
    pub per_user_state: Option<String>,
    /// `None` when registration details could not be read.
    pub registered: Option<bool>,
    pub methods: Vec<String>,
}

impl Coverage {
    pub fn is_covered(&self) -> bool {
        !self.covered_by.is_empty()
    }

    /// The reason in words, for evidence.
    pub fn reason(&self) -> String {
        let mut parts = Vec::new();
        if self.covered_by.is_empty() {
            parts.push("no policy requires MFA".to_owned());
        } else {
            parts.push(format!("MFA required by {}", self.covered_by.join("; ")));
        }
        if !self.excluded_by.is_empty() {
            parts.push(format!("excluded from {}", self.excluded_by.join("; ")));
        }
        if !self.report_only.is_empty() {
            parts.push(format!(
                "report-only (not enforced): {}",
                self.report_only.join("; ")
            ));
        }
        match self.registered {
            Some(true) => parts.push(format!("registered methods: {}", self.methods.join(", "))),
            Some(false) => parts.push("no MFA method registered".to_owned()),
            None => parts.push("registration unknown".to_owned()),
        }
        parts.join("; ")
    }
}

/// Coverage of every enabled user, plus the reads that failed without stopping the evaluation
/// (each becomes an `Error` finding).
#[derive(Debug, Clone)]
pub struct CoverageReport {
    pub users: Vec<Coverage>,
    pub gaps: Vec<Arc<Failure>>,
}

fn is_break_glass(user: &User, listed: &[String]) -> bool {
    let upn = user.user_principal_name.to_ascii_lowercase();
    let name = user
        .display_name
        .clone()
        .unwrap_or_default()
        .to_ascii_lowercase();
    listed
        .iter()
        .any(|l| l.eq_ignore_ascii_case(&user.user_principal_name))
        || ["breakglass", "break-glass", "break.glass", "emergency"]
            .iter()
            .any(|w| upn.contains(w) || name.contains(w))
}

/// What a policy says about one user: `Some(Ok(()))` included, `Some(Err(why))` included but
/// excluded, `None` not included.
fn applies(
    policy: &ConditionalAccessPolicy,
    user: &User,
    groups: &HashSet<String>,
    roles: &[String],
) -> Option<Result<(), String>> {
    let u = &policy.conditions.users;
    let id = user.id.to_ascii_lowercase();
    let has = |list: &[String], set: &dyn Fn(&str) -> bool| {
        list.iter().any(|x| set(&x.to_ascii_lowercase()))
    };
    let in_group = |g: &str| groups.contains(g);
    let has_role = |r: &str| roles.iter().any(|x| x == r);
    let included = has(&u.include_users, &|x| {
        x == "all" || x == id || (x == "guestsorexternalusers" && user.is_guest())
    }) || has(&u.include_groups, &in_group)
        || has(&u.include_roles, &has_role);
    if !included {
        return None;
    }
    if has(&u.exclude_users, &|x| {
        x == id || (x == "guestsorexternalusers" && user.is_guest())
    }) {
        return Some(Err(format!(
            "'{}' ({}) excludes the user",
            policy.name(),
            policy.id
        )));
    }
    if let Some(g) = u
        .exclude_groups
        .iter()
        .find(|g| in_group(&g.to_ascii_lowercase()))
    {
        return Some(Err(format!(
            "'{}' ({}) excludes group {g}",
            policy.name(),
            policy.id
        )));
    }
    if let Some(r) = u
        .exclude_roles
        .iter()
        .find(|r| has_role(&r.to_ascii_lowercase()))
    {
        return Some(Err(format!(
            "'{}' ({}) excludes role {r}",
            policy.name(),
            policy.id
        )));
    }
    Some(Ok(()))
}

pub async fn evaluate(sources: &Sources) -> Result<CoverageReport, Arc<Failure>> {
    let users = sources.users().await?;
    let security_defaults = *sources.security_defaults().await?;
    let mut gaps = Vec::new();
    let policies: Vec<ConditionalAccessPolicy> = match sources.policies().await {
        Ok(p) => p
            .iter()
            .filter(|p| {
                p.requires_mfa()
                    && p.all_apps()
                    && p.covers_modern_clients()
                    && (p.is_enforced() || p.is_report_only())
            })
            .cloned()
            .collect(),
        // Without P1 there can be no Conditional Access; the gap is still reported.
        Err(f) if is_non_premium(&f.error) => {
            gaps.push(f);
            Vec::new()
        }
        Err(f) => return Err(f),
    };
    // Group memberships and roles only as far as the policies refer to them.
    let mut group_members: HashMap<String, Arc<HashSet<String>>> = HashMap::new();
    // Collected first: an adapter's closure held across `.await` would keep the future from being `Send`.
    let referenced: Vec<String> = policies
        .iter()
        .flat_map(|p| p.conditions.users.include_groups.iter().chain(&p.conditions.users.exclude_groups))
        .cloned()
        .collect();
    for g in referenced {
        if let std::collections::hash_map::Entry::Vacant(slot) = group_members.entry(g.to_ascii_lowercase()) {
            slot.insert(sources.members(&g).await?);
        }
    }
    let needs_roles = policies.iter().any(|p| {
        !p.conditions.users.include_roles.is_empty() || !p.conditions.users.exclude_roles.is_empty()
    });
    let roles: Arc<BTreeMap<String, Vec<String>>> = match sources.roles_by_user().await {
        Ok(r) => r,
        Err(f) if needs_roles => return Err(f),
        Err(f) => {
            gaps.push(f);
            Arc::new(BTreeMap::new())
        }
    };
    let registration = match sources.registration().await {
        Ok(r) => Some(r),
        Err(f) => {
            gaps.push(f);
            None
        }
    };
    let per_user = match sources.per_user_mfa().await {
        Ok(p) => Some(p),
        Err(f) => {
            gaps.push(f);
            None
        }
    };
    let mut out = Vec::new();
    for user in users.iter().filter(|u| u.is_enabled()) {
        let id = user.id.to_ascii_lowercase();
        let groups: HashSet<String> = group_members
            .iter()
            .filter(|(_, m)| m.contains(&id))
            .map(|(g, _)| g.clone())
            .collect();
        let user_roles = roles.get(&id).cloned().unwrap_or_default();
        let kind = if user_roles.iter().any(|r| r == SYNC_ROLE)
            || user
                .user_principal_name
                .to_ascii_lowercase()
                .starts_with("sync_")
        {
            AccountKind::DirectorySync
        } else if is_break_glass(user, &sources.options.break_glass_accounts) {
            AccountKind::BreakGlass
        } else {
            AccountKind::User
        };
        let mut c = Coverage {
            user_id: user.id.clone(),
            user_principal_name: user.user_principal_name.clone(),
            display_name: user.display_name.clone().unwrap_or_default(),
            guest: user.is_guest(),
            kind,
            covered_by: Vec::new(),
            excluded_by: Vec::new(),
            report_only: Vec::new(),
            per_user_state: per_user.as_ref().and_then(|p| p.get(&id).cloned()),
            registered: registration
                .as_ref()
                .map(|r| r.get(&id).is_some_and(|d| d.is_mfa_registered)),
            methods: registration
                .as_ref()
                .and_then(|r| r.get(&id))
                .map(|d| d.methods_registered.clone())
                .unwrap_or_default(),
        };
        if security_defaults && kind != AccountKind::DirectorySync {
            c.covered_by.push("security defaults".to_owned());
        }
        for p in &policies {
            match applies(p, user, &groups, &user_roles) {
                Some(Ok(())) if p.is_enforced() => c.covered_by.push(format!(
                    "Conditional Access policy '{}' ({})",
                    p.name(),
                    p.id
                )),
                Some(Ok(())) => c.report_only.push(format!("'{}' ({})", p.name(), p.id)),
                Some(Err(why)) if p.is_enforced() => c.excluded_by.push(why),
                _ => {}
            }
        }
        if let Some(state) = c
            .per_user_state
            .as_deref()
            .filter(|s| *s == "enforced" || *s == "enabled")
        {
            c.covered_by.push(format!("per-user MFA ({state})"));
        }
        out.push(c);
    }
    Ok(CoverageReport { users: out, gaps })
}
