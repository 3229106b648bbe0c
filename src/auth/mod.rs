//! Authentication and authorisation: passwords, tokens, sessions, the `Principal` extractor,
//! WeChat sign-in for the mini-program (and a stand-in for WeChat), and `policy`, where every
//! access decision is made.

pub mod password;
pub mod policy;
pub mod principal;
pub mod routes;
pub mod service;
pub mod store;
pub mod tokens;
pub mod wechat;
pub mod wechat_stand_in;

pub use policy::{Action, authorize};
pub use principal::Principal;
