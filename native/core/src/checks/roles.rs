//! Built-in directory role template ids the checks name (api-contracts §4.6).

pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";

/// Privileged roles: `(template id, name)`.
pub const PRIVILEGED: &[(&str, &str)] = &[
    (GLOBAL_ADMINISTRATOR, "Global Administrator"),
    (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
    ),
    (
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        "Privileged Authentication Administrator",
    ),
    (
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Security Administrator",
    ),
    (
        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
        "Conditional Access Administrator",
    ),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
    (
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Exchange Administrator",
    ),
    (
        "3a2c62db-5318-420d-8d74-23affee5d9d5",
        "Intune Administrator",
    ),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
    ),
    (
        "966707d0-3269-4727-9be2-8c3a10f19b9d",
        "Password Administrator",
    ),
];

/// Other roles shown by name.
const OTHER: &[(&str, &str)] = &[
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"),
    ("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers"),
    ("9360feb5-f418-4baa-8175-e2a00bac4301", "Directory Writers"),
    (
        "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
        "License Administrator",
    ),
    (
        "4ba39ca4-527c-499a-b93d-d9b492c50246",
        "Partner Tier1 Support",
    ),
    (
        "e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8",
        "Partner Tier2 Support",
    ),
    (
        super::coverage::SYNC_ROLE,
        "Directory Synchronization Accounts",
    ),
];

pub fn is_privileged(id: &str) -> bool {
    PRIVILEGED.iter().any(|(r, _)| r.eq_ignore_ascii_case(id))
}

/// The role's name, or its id when unknown.
pub fn name(id: &str) -> String {
    PRIVILEGED
        .iter()
        .chain(OTHER)
        .find(|(r, _)| r.eq_ignore_ascii_case(id))
        .map(|(_, n)| (*n).to_owned())
        .unwrap_or_else(|| id.to_owned())
}
