//! Entra ID sign-in: token requests for each grant, the answers, errors and claims.

pub mod aadsts;
pub mod assertion;
pub mod cache;
pub mod claims;
pub mod device;
pub mod interactive;
pub mod pkce;
pub mod token;

pub use claims::Claims;
pub use token::{ClientCredential, Grant, TokenRequest, TokenResponse, TokenTarget};
